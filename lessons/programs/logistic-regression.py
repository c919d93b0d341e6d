"""Lesson 6, logistic regression: the course's program: a sigmoid after nn.Linear, BCE, SGD.

Hours of study x = 1, 2, 3 and whether the exam was passed, y = 0, 0, 1: the model gives P(pass | x).
"""

import random

import torch

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
lr = 0.01  # param: learning rate
epochs = 1000  # param: number of epochs
reduction = 'sum'  # param: 'sum' (the course's size_average=False) or 'mean'
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)

random.seed(seed)
torch.manual_seed(seed)
if device == 'auto':
    device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
device = torch.device(device)
if threads:
    torch.set_num_threads(threads)

x_data = torch.tensor([[1.0], [2.0], [3.0]], device=device)  # hours of study, (3, 1)
y_data = torch.tensor([[0.0], [0.0], [1.0]], device=device)  # passed the exam, (3, 1)


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))  # (N, 1), each a probability in (0, 1)
        return y_pred


model = LogisticRegressionModel().to(device)
criterion = torch.nn.BCELoss(reduction=reduction)
optimizer = torch.optim.SGD(model.parameters(), lr=lr)

for epoch in range(1, epochs + 1):
    optimizer.zero_grad()
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    print(epoch, loss.item())
    loss.backward()
    optimizer.step()

w, b = model.linear.weight.item(), model.linear.bias.item()
print('w =', w)
print('b =', b)
with torch.no_grad():
    for hours in (1.0, 2.0, 2.5, 3.0, 4.0):
        print(f'P(pass | {hours} hours) = {model(torch.tensor([[hours]], device=device)).item():.3f}')
print('P(pass) = 0.5 at', -b / w if w != 0 else 'no hour (w = 0)', 'hours')  # where w·x + b = 0
print(f'final train: loss {loss.item():.5g}  w {w:.5g}  b {b:.5g}')
