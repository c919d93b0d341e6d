"""Lesson 5, the loss functions explorer: one of torch's common losses computed on small tensors.

Nothing is trained. A tensor setting of None takes the chosen loss's example (the course's, where
it has one: lecture 9's cross-entropy example gives 0.4966).
"""

import itertools
import random

import torch
from torch import nn

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
loss_name = 'CrossEntropy'  # param loss: MSE, L1, SmoothL1, Huber, BCE, BCEWithLogits, CrossEntropy, NLL, CosineEmbedding, TripletMargin
reduction = 'mean'  # param: 'mean', 'sum' or 'none'
input = None  # param: prediction, probabilities, logits, x1 or anchor (None: the example)
target = None  # param: target, labels, class indices, ±1 or positive (None: the example)
input2 = None  # param: x2 (CosineEmbedding) or negative (TripletMargin) (None: the example)
weight = None  # param: class weights (CrossEntropy, NLL), or None
pos_weight = 1.0  # param: weight of positive samples (BCEWithLogits)
delta = 1.0  # param: Huber's delta, SmoothL1's beta
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

# The tensors each loss starts with.
W3 = {'input': [3.0, 6.0, 9.0], 'target': [2.0, 4.0, 6.0]}  # lecture 2: ŷ = 3x against y = 2x
LECTURE_9 = {'input': [[0.1, 0.2, 0.9], [1.1, 0.1, 0.2], [0.2, 2.1, 0.1]], 'target': [2, 0, 1]}
EXAMPLES = {
    'MSE': W3, 'L1': W3, 'SmoothL1': W3, 'Huber': W3,
    'BCE': {'input': [0.2, 0.8, 0.3, 0.7], 'target': [1.0, 1.0, 0.0, 0.0]},  # lecture 6
    'BCEWithLogits': {'input': [-1.4, 1.4, -0.85, 0.85], 'target': [1.0, 1.0, 0.0, 0.0]},
    'CrossEntropy': LECTURE_9, 'NLL': LECTURE_9,
    'CosineEmbedding': {'input': [[1.0, 0.0], [1.0, 1.0], [0.6, 0.8]], 'input2': [[0.8, 0.6], [-1.0, 1.0], [0.8, 0.6]],
                        'target': [1, -1, -1]},
    'TripletMargin': {'input': [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], 'target': [[0.1, 0.2], [1.0, 1.5], [0.0, 1.5]],
                      'input2': [[2.0, 0.0], [1.5, 1.0], [0.6, 1.8]]},
}
example = EXAMPLES[loss_name]
input = example.get('input') if input is None else input
target = example.get('target') if target is None else target
input2 = example.get('input2') if input2 is None else input2

# The loss module with the settings it takes, e.g. nn.HuberLoss(delta=1.0, reduction='mean').
kwargs = {}
if loss_name == 'SmoothL1':
    kwargs['beta'] = delta
if loss_name == 'Huber':
    kwargs['delta'] = delta
if loss_name == 'BCEWithLogits' and pos_weight != 1:
    kwargs['pos_weight'] = torch.tensor([pos_weight], device=device)
if loss_name in ('CrossEntropy', 'NLL') and weight is not None:
    kwargs['weight'] = torch.tensor([float(w) for w in weight], device=device)
criterion = getattr(nn, loss_name + 'Loss')(reduction=reduction, **kwargs)
print(criterion)

x = torch.tensor(input, dtype=torch.float32, device=device)
if loss_name in ('CrossEntropy', 'NLL'):
    y = torch.tensor(target, dtype=torch.float32, device=device).long()  # (N,) class indices
    if loss_name == 'NLL':  # CrossEntropy = LogSoftmax followed by NLLLoss
        value = criterion(nn.LogSoftmax(dim=1)(x), y)
    else:
        value = criterion(x, y)
elif loss_name == 'CosineEmbedding':
    x2 = torch.tensor(input2, dtype=torch.float32, device=device)
    value = criterion(x, x2, torch.tensor(target, dtype=torch.float32, device=device))
elif loss_name == 'TripletMargin':
    negative = torch.tensor(input2, dtype=torch.float32, device=device)
    value = criterion(x, torch.tensor(target, dtype=torch.float32, device=device), negative)
else:
    value = criterion(x, torch.tensor(target, dtype=torch.float32, device=device))

print('input =', input)
print('target =', target)
if loss_name in ('CosineEmbedding', 'TripletMargin'):
    print('input2 =', input2)
print('loss =', value)
if value.dim() == 0:
    print(f'final train: loss {value.item():.5g}')
else:  # reduction 'none': one loss per sample
    indices = itertools.product(*map(range, value.shape))
    print('final train: ' + '  '.join(f"loss[{', '.join(map(str, index))}] {v:.5g}"
                                      for index, v in zip(indices, value.flatten().tolist())))
