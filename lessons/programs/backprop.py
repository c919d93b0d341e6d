"""Lesson 3, backpropagation with autograd: the course's program, per-sample updates of w.data.

Variants: 'wx' (ŷ = w·x), 'wx+b' (ŷ = w·x + b) and the homework 'quadratic' (ŷ = w1·x² + w2·x + b).
"""

import random

import torch

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
variant = 'wx'  # param: 'wx', 'wx+b' or 'quadratic'
lr = 0.01  # param: learning rate
epochs = 100  # param: number of epochs
zero_grad = True  # param: clear the gradients after each update (False: the classic mistake, they add up)
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

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# The parameters of each variant and where they start: tensors that record how they are used.
start = {'wx': {'w': 1.0}, 'wx+b': {'w': 1.0, 'b': 0.0}, 'quadratic': {'w1': 1.0, 'w2': 1.0, 'b': 1.0}}[variant]
p = {name: torch.tensor([value], requires_grad=True, device=device) for name, value in start.items()}


def forward(x):
    if variant == 'wx':
        return x * p['w']
    if variant == 'wx+b':
        return x * p['w'] + p['b']
    return p['w1'] * x ** 2 + p['w2'] * x + p['b']


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print('predict (before training)', 4, forward(4).item())
for epoch in range(1, epochs + 1):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()  # d l / d each parameter, into its .grad
        print('\tgrad:', x, y, *(t.grad.item() for t in p.values()))
        for t in p.values():
            t.data = t.data - lr * t.grad.data  # update the numbers, outside the graph
            if zero_grad:
                t.grad.data.zero_()  # gradients add up: clear them for the next sample
    print('progress:', epoch, l.item())
print('predict (after training)', 4, forward(4).item())
final = [f'loss {l.item():.5g}'] + [f'{name} {t.item():.5g}' for name, t in p.items()]
if not zero_grad:  # the gradient the last update used: every gradient so far, added up
    final.append(f'grad_norm {sum(t.grad.item() ** 2 for t in p.values()) ** 0.5:.5g}')
print('final train: ' + '  '.join(final))
