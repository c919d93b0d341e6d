"""Lesson 7, multiple-dimension input: the course's program: diabetes, 8 → 6 → 4 → 1, full batch.

Reads diabetes.csv.gz (759 rows: 8 features in [-1, 1] and a 0/1 label) from the data folder.
"""

import csv
import gzip
import os
import random
import sys

import torch

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
lr = 0.1  # param: learning rate
epochs = 100  # param: number of epochs
activation = 'sigmoid'  # param: the hidden layers' activation, 'sigmoid' or 'relu' (the output stays sigmoid)
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)
data_dir = '.'  # option: the folder with the course's data files; $LABAPP_DATA_DIR overrides it

random.seed(seed)
torch.manual_seed(seed)
if device == 'auto':
    device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
device = torch.device(device)
if threads:
    torch.set_num_threads(threads)

# -- the data: x_data (759, 8), y_data (759, 1) ----------------------------------------------------
path = os.path.join(os.environ.get('LABAPP_DATA_DIR') or data_dir, 'diabetes.csv.gz')
if not os.path.isfile(path):
    sys.exit(f'{path} is missing: put the course file diabetes.csv.gz there, or set LABAPP_DATA_DIR')
with gzip.open(path, 'rt') as f:  # the course reads it with np.loadtxt(path, delimiter=',', dtype=np.float32)
    xy = torch.tensor([[float(v) for v in row] for row in csv.reader(f) if row], dtype=torch.float32)
x_data = xy[:, :-1].to(device)  # (759, 8): every column but the last
y_data = xy[:, [-1]].to(device)  # (759, 1): [-1] in a list keeps it a matrix, like y_pred


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.activate = torch.nn.Sigmoid() if activation == 'sigmoid' else torch.nn.ReLU()
        self.sigmoid = torch.nn.Sigmoid()  # the output is a probability, whatever the hidden layers use

    def forward(self, x):  # x: (N, 8)
        x = self.activate(self.linear1(x))  # (N, 6)
        x = self.activate(self.linear2(x))  # (N, 4)
        return self.sigmoid(self.linear3(x))  # (N, 1): P(y = 1) for each row


model = Model().to(device)
criterion = torch.nn.BCELoss(reduction='mean')  # the course's size_average=True
optimizer = torch.optim.SGD(model.parameters(), lr=lr)

for epoch in range(1, epochs + 1):
    # Forward: all rows at once
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    accuracy = ((y_pred >= 0.5) == (y_data == 1)).float().mean().item()
    print(epoch, loss.item(), accuracy)
    # Backward
    optimizer.zero_grad()
    loss.backward()
    # Update
    optimizer.step()

with torch.no_grad():  # the trained model on every row
    y_pred = model(x_data)
said_one = int((y_pred >= 0.5).sum().item())
print(f'label 1: {int(y_data.sum().item())} of {len(y_data)} rows; the trained model says 1 for {said_one}')
print(f'final train: loss {loss.item():.5g}  accuracy {accuracy:.5g}')
print(f'final after training: loss {criterion(y_pred, y_data).item():.5g}  '
      f'accuracy {((y_pred >= 0.5) == (y_data == 1)).float().mean().item():.5g}')
