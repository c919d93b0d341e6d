"""Lesson 9, a softmax classifier on MNIST: the course's program: 784-512-256-128-64-10, train() and test().

loader 'dataloader' is the course's pipeline: a DataLoader runs ToTensor and Normalize on every
image of every epoch. loader 'tensors' does the same arithmetic once per split and slices one
tensor into the same shuffled batches (drawing the same random numbers): the same results, faster.
"""

import os
import random

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
batch_size = 64  # param: images per mini-batch
lr = 0.01  # param: learning rate
momentum = 0.5  # param: SGD momentum
epochs = 10  # param: number of epochs
loader = 'tensors'  # param: 'tensors' (each split normalised once, then sliced) or 'dataloader' (the course's)
softmax = False  # param: the classic mistake, a softmax before CrossEntropyLoss (the course's network then trains too)
labels = 'long'  # param: the labels' dtype; 'float' is the classic mistake: CrossEntropyLoss refuses them
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
class Net(torch.nn.Module):
    def __init__(self, softmax=False):
        super().__init__()
        self.l1 = torch.nn.Linear(784, 512)
        self.l2 = torch.nn.Linear(512, 256)
        self.l3 = torch.nn.Linear(256, 128)
        self.l4 = torch.nn.Linear(128, 64)
        self.l5 = torch.nn.Linear(64, 10)
        self.softmax = softmax

    def forward(self, x):  # x: (N, 1, 28, 28)
        x = x.view(-1, 784)  # (N, 784): the image as one row of pixels
        x = torch.relu(self.l1(x))  # (N, 512)
        x = torch.relu(self.l2(x))  # (N, 256)
        x = torch.relu(self.l3(x))  # (N, 128)
        x = torch.relu(self.l4(x))  # (N, 64)
        x = self.l5(x)  # (N, 10): raw scores, no softmax: CrossEntropyLoss has it
        if self.softmax:  # the mistake: probabilities, which CrossEntropyLoss takes for scores
            return torch.softmax(x, dim=1)
        return x


# -- training and testing --------------------------------------------------------------------------
def train(model, train_loader, criterion, optimizer, epoch):
    """One epoch; prints the mean loss of every 300 batches, returns the epoch's mean loss."""
    running_loss, epoch_loss = 0.0, 0.0
    for batch_idx, (inputs, target) in enumerate(train_loader, 0):
        optimizer.zero_grad()
        # forward + backward + update
        outputs = model(inputs)  # (64, 10)
        if labels == 'float':  # the mistake: class indices as floats; torch stops here
            target = target.float()
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

    model = Net(softmax).to(device)
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
    if softmax:  # the comparison: the course's network, from the same seed (the same weights and batches)
        random.seed(seed)
        torch.manual_seed(seed)
        model = Net(softmax=False).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        for epoch in range(1, epochs + 1):
            loss = train(model, train_loader, criterion, optimizer, epoch)
            accuracy = test(model, test_loader)
        print(f'final course train: loss {loss:.5g}')
        print(f'final course test: accuracy {accuracy:.5g}')


if __name__ == '__main__':
    main()
