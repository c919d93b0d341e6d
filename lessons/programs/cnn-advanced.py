"""Lesson 12, advanced CNN: the course's Inception and ResNet networks on MNIST.

loader 'dataloader' is the course's pipeline (ToTensor and Normalize per image, every epoch);
'tensors' does the same arithmetic once per split and slices the same shuffled batches.
"""

import os
import random

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
variant = 'inception'  # param: 'inception' or 'resnet'
batch_size = 64  # param: images per mini-batch
lr = 0.01  # param: learning rate
momentum = 0.5  # param: SGD momentum
loader = 'tensors'  # param: 'tensors' (each split normalised once, then sliced) or 'dataloader' (the course's)
epochs = 10  # param: number of epochs
skip = True  # param: the residual blocks' skip connection (False: the classic mistake; the course's ResNet then trains too)
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


# -- the model -------------------------------------------------------------------------------------
class InceptionA(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, x):  # (N, C, H, W)
        branch1x1 = self.branch1x1(x)  # (N, 16, H, W)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))  # (N, 24, H, W)
        branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))  # (N, 24, H, W)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))  # (N, 24, H, W)
        outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
        return torch.cat(outputs, dim=1)  # (N, 88, H, W)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.incep2 = InceptionA(in_channels=20)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, x):  # (N, 1, 28, 28)
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))  # (N, 10, 12, 12)
        x = self.incep1(x)  # (N, 88, 12, 12)
        x = F.relu(self.mp(self.conv2(x)))  # (N, 20, 4, 4)
        x = self.incep2(x)  # (N, 88, 4, 4)
        x = x.view(in_size, -1)  # (N, 1408)
        return self.fc(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels, skip=True):
        super().__init__()
        self.channels = channels
        self.skip = skip  # False: the mistake, a plain block without the skip connection
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        if not self.skip:
            return F.relu(y)
        return F.relu(x + y)  # the same shape in and out, so x can be added


class ResNet(nn.Module):
    def __init__(self, skip=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.rblock1 = ResidualBlock(16, skip)
        self.rblock2 = ResidualBlock(32, skip)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):  # (N, 1, 28, 28)
        in_size = x.size(0)
        x = self.mp(F.relu(self.conv1(x)))  # (N, 16, 12, 12)
        x = self.rblock1(x)  # (N, 16, 12, 12)
        x = self.mp(F.relu(self.conv2(x)))  # (N, 32, 4, 4)
        x = self.rblock2(x)  # (N, 32, 4, 4)
        x = x.view(in_size, -1)  # (N, 512)
        return self.fc(x)


def summarize(model):
    """Each top-level layer in the order the forward pass calls it: its output shape and its parameter count."""
    rows, counted = [], set()

    def note(name):
        def hook(module, inputs, output):
            params = 0 if id(module) in counted else sum(p.numel() for p in module.parameters())
            counted.add(id(module))
            rows.append((f'{name}: {type(module).__name__}', '(N, ' + ', '.join(map(str, output.shape[1:])) + ')', params))
        return hook

    hooks = [module.register_forward_hook(note(name)) for name, module in model.named_children()]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))  # one dummy image
    for hook in hooks:
        hook.remove()
    for layer, shape, params in rows:
        print(f'{layer:<28} {shape:<18} {params:>9,}')
    print(f'{"total":<28} {"":<18} {sum(p.numel() for p in model.parameters()):>9,}')


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

    model = (InceptionNet() if variant == 'inception' else ResNet(skip)).to(device)
    summarize(model)  # a dummy image through the model: shapes, and no random numbers drawn
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
    if not skip:  # the comparison: the course's ResNet, from the same seed (the same weights and batches)
        random.seed(seed)
        torch.manual_seed(seed)
        model = ResNet().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        for epoch in range(1, epochs + 1):
            loss = train(model, train_loader, criterion, optimizer, epoch)
            accuracy = test(model, test_loader)
        print(f'final course train: loss {loss:.5g}')
        print(f'final course test: accuracy {accuracy:.5g}')


if __name__ == '__main__':
    main()
