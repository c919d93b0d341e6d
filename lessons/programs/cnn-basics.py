"""Lesson 10, basic CNN: the course's convolution examples, computed by torch, then its CNN on MNIST.

The explorer: a convolution of `input` by `kernel` with `padding` and `stride`, and max pooling of
the input (None: the course's 5x5 input and its 3x3 kernel 1..9). epochs 0: the explorer only.
loader 'dataloader' is the course's pipeline (ToTensor and Normalize per image, every epoch);
'tensors' does the same arithmetic once per split and slices the same shuffled batches.
"""

import os
import random

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
input = None  # param: the explorer's 2-D input (None: the course's 5x5 example)
kernel = None  # param: the explorer's 2-D kernel (None: the course's 3x3 kernel 1..9)
padding = 0  # param: rings of zeros around the input
stride = 1  # param: the kernel's step
pool = 2  # param: max pooling size (applied to the input)
batch_size = 64  # param: images per mini-batch
lr = 0.01  # param: learning rate
momentum = 0.5  # param: SGD momentum
loader = 'tensors'  # param: 'tensors' (each split normalised once, then sliced) or 'dataloader' (the course's)
epochs = 10  # param: number of epochs (0: the explorer only)
# param: the CNN as a layer list: ('conv', out, kernel, padding, stride), ('pool', size, stride), ('linear', out)
layers = (('conv', 10, 5, 0, 1), ('pool', 2, 2), ('conv', 20, 5, 0, 1), ('pool', 2, 2), ('linear', 10))  # param
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)
data_dir = '.'  # option: the folder that holds MNIST/raw/; $LABAPP_DATA_DIR overrides it

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel mean and standard deviation
TEST_BATCH = 1000  # 'tensors' tests in batches of 1000: the test only counts right answers


# -- the data --------------------------------------------------------------------------------------
class Batches:
    """One split of MNIST served in mini-batches on the device, the course's way or prepared once."""

    def __init__(self, dataset, batch_size, shuffle, device):
        self.shuffle, self.device = shuffle, device
        if loader == 'dataloader':
            dataset.transform = transforms.Compose([
                transforms.ToTensor(),  # PIL image 28x28, 0-255 -> tensor (1, 28, 28), 0-1
                transforms.Normalize((MEAN,), (STD,)),  # (x - mean) / std
            ])
            self.loader = DataLoader(dataset, shuffle=shuffle, batch_size=batch_size)
        else:
            self.batch_size = batch_size if shuffle else TEST_BATCH
            x = dataset.data.unsqueeze(1).to(torch.get_default_dtype()).div(255)  # ToTensor, all images at once
            self.x = transforms.Normalize((MEAN,), (STD,))(x).to(device)  # (N, 1, 28, 28)
            self.y = dataset.targets.to(device)  # (N,)

    def __iter__(self):
        if loader == 'dataloader':
            for inputs, target in self.loader:
                yield inputs.to(self.device), target.to(self.device)
            return
        # A DataLoader's pass draws a base seed for its workers and, shuffling, a seed for its sampler:
        # the same draws give the same order, and every random number after them stays the course's.
        torch.empty((), dtype=torch.int64).random_()
        order = None
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
            order = torch.randperm(len(self.y), generator=generator).to(self.x.device)
        for start in range(0, len(self.y), self.batch_size):
            if order is None:
                yield self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                index = order[start:start + self.batch_size]
                yield self.x.index_select(0, index), self.y.index_select(0, index)


# -- the explorer: convolution and pooling as torch computes them -----------------------------------
def explore():
    x_list = [[3, 4, 6, 5, 7], [2, 4, 6, 8, 2], [1, 6, 7, 8, 4], [9, 7, 4, 6, 2], [3, 7, 5, 4, 1]] if input is None else input
    k_list = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] if kernel is None else kernel
    x = torch.tensor(x_list, dtype=torch.float32).view(1, 1, len(x_list), -1)  # (batch, channel, H, W)
    k = torch.tensor(k_list, dtype=torch.float32).view(1, 1, len(k_list), -1)  # (out, in, kH, kW)
    output = F.conv2d(x, k, padding=padding, stride=stride)
    pooled = F.max_pool2d(x, kernel_size=pool)  # stride = kernel size, as MaxPool2d's default
    print(f'convolution, padding {padding}, stride {stride}: {tuple(x.shape[2:])} -> {tuple(output.shape[2:])}')
    print(output[0, 0])
    print(f'{pool}x{pool} max pooling: {tuple(x.shape[2:])} -> {tuple(pooled.shape[2:])}')
    print(pooled[0, 0])
    # the output-size rule: side = (size + 2 * padding - kernel) // stride + 1
    print('output side =', (x.shape[2] + 2 * padding - k.shape[2]) // stride + 1)


# -- the model -------------------------------------------------------------------------------------
# The course's network is the default list: conv 10 5, pool 2, conv 20 5, pool 2, linear 10, written as
#     x = F.relu(self.pooling(self.conv1(x)))  # (N, 10, 24, 24) -> (N, 10, 12, 12)
#     x = F.relu(self.pooling(self.conv2(x)))  # (N, 20, 8, 8) -> (N, 20, 4, 4)
#     x = x.view(batch_size, -1)  # (N, 320)
#     return self.fc(x)  # (N, 10)
# A ReLU ends each conv block (after its pooling, as above) and follows each linear layer but the last.
def side(size, kernel, padding=0, stride=1):
    """The output side of a convolution or a pooling: (size + 2 * padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def shapes():
    """Each layer's output shape (without the batch), worked out from the list: the flatten size is the input of
    the first linear layer."""
    shape, out = (1, 28, 28), []
    for layer in layers:
        if layer[0] == 'conv':
            shape = (layer[1], side(shape[1], layer[2], layer[3], layer[4]), side(shape[2], layer[2], layer[3], layer[4]))
        elif layer[0] == 'pool':
            shape = (shape[0], side(shape[1], layer[1], 0, layer[2]), side(shape[2], layer[1], 0, layer[2]))
        else:
            shape = (layer[1],)
        out.append(shape)
    return out


def relu_after(i):
    """Whether a ReLU follows layer i: at the end of each conv block (a conv and the pools right after it), and
    after each linear layer but the last."""
    kinds = [layer[0] for layer in layers]
    following = kinds[i + 1] if i + 1 < len(kinds) else None
    if kinds[i] == 'linear':
        return following is not None
    block = i
    while block > 0 and kinds[block] == 'pool':
        block -= 1
    return following != 'pool' and kinds[block] == 'conv'


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        shape = (1, 28, 28)
        for layer, output in zip(layers, shapes()):
            if layer[0] == 'conv':
                self.layers.append(torch.nn.Conv2d(shape[0], layer[1], kernel_size=layer[2], padding=layer[3], stride=layer[4]))
            elif layer[0] == 'pool':
                self.layers.append(torch.nn.MaxPool2d(layer[1], stride=layer[2]))
            else:
                features = shape[0] * shape[1] * shape[2] if len(shape) == 3 else shape[0]  # the flatten size
                self.layers.append(torch.nn.Linear(features, layer[1]))
            shape = output

    def forward(self, x):  # x: (N, 1, 28, 28)
        batch_size = x.size(0)
        for i, layer in enumerate(self.layers):
            if layers[i][0] == 'linear' and x.dim() > 2:
                x = x.view(batch_size, -1)  # (N, C * H * W): the flatten size
            x = layer(x)
            if relu_after(i):
                x = F.relu(x)
        return x  # (N, 10)


# -- training and testing --------------------------------------------------------------------------
def train(model, train_loader, criterion, optimizer, epoch):
    """One epoch; prints the mean loss of every 300 batches, returns the epoch's mean loss."""
    running_loss, epoch_loss = 0.0, 0.0
    for batch_idx, (inputs, target) in enumerate(train_loader, 0):
        optimizer.zero_grad()
        # forward + backward + update
        outputs = model(inputs)  # (64, 10)
        loss = criterion(outputs, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
        epoch_loss += loss.item()
        if batch_idx % 300 == 299:
            print('[%d, %5d] loss: %.3f' % (epoch, batch_idx + 1, running_loss / 300))
            running_loss = 0.0
    return epoch_loss / (batch_idx + 1)


def test(model, test_loader):
    """The share of test images whose largest output is the label."""
    model.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            outputs = model(images)
            _, predicted = torch.max(outputs, dim=1)  # the class with the largest output
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    model.train()
    print('accuracy on test set: %d %% ' % (100 * correct / total))
    return correct / total


def main():
    global device
    random.seed(seed)
    torch.manual_seed(seed)
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
    device = torch.device(device)
    if threads:
        torch.set_num_threads(threads)

    explore()  # no random numbers drawn: training starts from the same seed as without it
    for layer, shape in zip(layers, shapes()):
        print(layer, '->', '(N, ' + ', '.join(map(str, shape)) + ')')
    if not epochs:
        return
    model = Net().to(device)
    root = os.environ.get('LABAPP_DATA_DIR') or data_dir
    train_dataset = datasets.MNIST(root=root, train=True, download=True)
    test_dataset = datasets.MNIST(root=root, train=False, download=True)
    train_loader = Batches(train_dataset, batch_size, shuffle=True, device=device)
    test_loader = Batches(test_dataset, batch_size, shuffle=False, device=device)
    criterion = torch.nn.CrossEntropyLoss()  # LogSoftmax + NLLLoss on the raw scores
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    for epoch in range(1, epochs + 1):
        loss = train(model, train_loader, criterion, optimizer, epoch)
        accuracy = test(model, test_loader)
    print(f'final train: loss {loss:.5g}')
    print(f'final test: accuracy {accuracy:.5g}')


if __name__ == '__main__':
    main()
