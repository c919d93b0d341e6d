"""Lesson 2, gradient descent: the course's program, with the gradient worked out by hand (no torch).

Modes: batch (one update per epoch from all samples), stochastic (one per sample) and
mini-batch (one per `batch_size` samples). Run it with `python gradient-descent.py`.
"""

import random

# -- settings: the lesson's params and the run's seed (labapp code writes them in) --------------
mode = 'batch'  # param: 'batch', 'stochastic' or 'mini-batch'
lr = 0.01  # param: learning rate
epochs = 100  # param: number of epochs
w0 = 1.0  # param: initial w
batch_size = 2  # param: mini-batch size (mini-batch mode)
seed = 0  # option: nothing here is random, but a run is seeded all the same

# -- data and model ------------------------------------------------------------------------------
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = w0


def forward(x):
    return x * w


def cost(xs, ys):
    """Mean squared error over the samples."""
    cost = 0.0
    for x, y in zip(xs, ys):
        y_pred = forward(x)
        cost += (y_pred - y) ** 2
    return cost / len(xs)


def gradient(xs, ys):
    """d cost / d w, worked out by hand: the mean of 2·x·(x·w − y)."""
    grad = 0.0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


def batches():
    """The (xs, ys) of each update in one epoch, in order."""
    size = {'batch': len(x_data), 'stochastic': 1, 'mini-batch': batch_size}[mode]
    for start in range(0, len(x_data), size):
        yield x_data[start:start + size], y_data[start:start + size]


# -- training ------------------------------------------------------------------------------------
random.seed(seed)
print('Predict (before training)', 4, forward(4))
for epoch in range(1, epochs + 1):
    cost_val = cost(x_data, y_data)  # over all data, before this epoch's updates
    for xs, ys in batches():
        grad_val = gradient(xs, ys)
        w -= lr * grad_val
    print('Epoch:', epoch, 'w=', w, 'loss=', cost_val)
print('Predict (after training)', 4, forward(4))
print(f'final train: cost {cost_val:.5g}  w {w:.5g}')
