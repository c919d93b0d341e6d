"""Lesson 4, linear regression with nn.Module: the course's program, with any optimizer and loss.

The course's own program is MSELoss(reduction='sum') with SGD(lr=0.01). `compare` trains one copy
of the same initial model per optimizer named in it (the course's exercise).
"""

import copy
import random

import torch

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
optimizer_name = 'SGD'  # param optimizer: unused when compare names optimizers
loss_name = 'MSE'  # param loss: 'MSE', 'L1', 'SmoothL1' or 'Huber'
reduction = 'sum'  # param: 'sum' or 'mean'
lr = 0.01  # param: learning rate
zero_grad = True  # param: clear the gradients before each step (False: the classic mistake, they add up)
epochs = 1000  # param: number of epochs
momentum = 0.9  # param: momentum (SGD-momentum)
nesterov = False  # param: Nesterov momentum (SGD-momentum)
beta1 = 0.9  # param: first-moment factor (Adam, AdamW, Adamax)
beta2 = 0.999  # param: second-moment factor (Adam, AdamW, Adamax)
weight_decay = 0.0  # param: weight decay (all but Rprop and LBFGS)
compare = ()  # param: optimizers to compare, e.g. ('SGD', 'Adam')
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

# -- 1. the data: three samples of one feature, (3, 1) ---------------------------------------------
x_data = torch.tensor([[1.0], [2.0], [3.0]], device=device)
y_data = torch.tensor([[2.0], [4.0], [6.0]], device=device)


# -- 2. the model as a class -------------------------------------------------------------------------
class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)  # w and b, randomly initialised

    def forward(self, x):
        y_pred = self.linear(x)  # (N, 1) -> (N, 1)
        return y_pred


# -- 3. the loss and the optimizer ---------------------------------------------------------------
# Each optimizer: its class in torch.optim and the settings above that it takes.
OPTIMIZERS = {
    'SGD': ('SGD', ('weight_decay',)),
    'SGD-momentum': ('SGD', ('momentum', 'nesterov', 'weight_decay')),
    'Adam': ('Adam', ('betas', 'weight_decay')),
    'AdamW': ('AdamW', ('betas', 'weight_decay')),
    'Adagrad': ('Adagrad', ('weight_decay',)),
    'Adadelta': ('Adadelta', ('weight_decay',)),
    'Adamax': ('Adamax', ('betas', 'weight_decay')),
    'RMSprop': ('RMSprop', ('weight_decay',)),
    'ASGD': ('ASGD', ('weight_decay',)),
    'Rprop': ('Rprop', ()),
    'LBFGS': ('LBFGS', ()),
}
SETTINGS = {'weight_decay': weight_decay, 'momentum': momentum, 'nesterov': nesterov, 'betas': (beta1, beta2)}


def make_optimizer(name, parameters):
    """torch.optim's optimizer for `name`, e.g. SGD(parameters, lr=0.01, weight_decay=0.0)."""
    cls, extras = OPTIMIZERS[name]
    return getattr(torch.optim, cls)(parameters, lr=lr, **{extra: SETTINGS[extra] for extra in extras})


criterion = getattr(torch.nn, loss_name + 'Loss')(reduction=reduction)  # e.g. MSELoss(reduction='sum')
first = LinearModel().to(device)  # drawn once from the seed; every optimizer starts from a copy
x_test = torch.tensor([[4.0]], device=device)
print('predict (before training)', 4, first(x_test).item())

# -- 4. the training cycle: zero_grad, forward, loss, backward, step -----------------------------
for name in compare or (optimizer_name,):
    model = copy.deepcopy(first)
    optimizer = make_optimizer(name, model.parameters())

    def closure():
        if zero_grad:  # without it each backward() adds to the gradients kept from before
            optimizer.zero_grad()
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        loss.backward()
        return loss

    print(name, optimizer)
    for epoch in range(1, epochs + 1):
        # Every optimizer takes the cycle as a closure; LBFGS calls it several times per step.
        loss = optimizer.step(closure).item()  # the loss before this step
        if epoch % 100 == 0 or epoch == epochs:
            print(epoch, loss)

    split = name if compare else 'train'
    w, b = model.linear.weight.item(), model.linear.bias.item()
    print('w =', w)
    print('b =', b)
    print('y_pred =', model(x_test).item())
    grad_norm = '' if zero_grad else f'  grad_norm {sum(float(p.grad.pow(2).sum()) for p in model.parameters()) ** 0.5:.5g}'
    print(f'final {split}: loss {loss:.5g}  w {w:.5g}  b {b:.5g}{grad_norm}')
