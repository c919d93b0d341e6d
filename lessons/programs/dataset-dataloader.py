"""Lesson 8, Dataset and DataLoader: the course's program: diabetes in shuffled mini-batches.

Reads diabetes.csv.gz from the data folder. The model is lesson 7's 8 → 6 → 4 → 1 sigmoid network.
"""

import csv
import gzip
import os
import random
import sys

import torch
from torch.utils.data import DataLoader, Dataset

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
batch_size = 32  # param: samples per mini-batch
shuffle = True  # param: shuffle the samples every epoch
num_workers = 2  # param: worker processes that prepare batches (0: none)
lr = 0.01  # param: learning rate
epochs = 100  # param: number of epochs
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)
data_dir = '.'  # option: the folder with the course's data files; $LABAPP_DATA_DIR overrides it


class DiabetesDataset(Dataset):
    """The whole file in memory, one (x, y) pair per index."""

    def __init__(self, filepath):
        # the course reads it with np.loadtxt(filepath, delimiter=',', dtype=np.float32)
        with gzip.open(filepath, 'rt') as f:
            xy = torch.tensor([[float(v) for v in row] for row in csv.reader(f) if row], dtype=torch.float32)
        self.len = xy.shape[0]
        self.x_data = xy[:, :-1]  # (759, 8)
        self.y_data = xy[:, [-1]]  # (759, 1)

    def __getitem__(self, index):  # one sample: x (8,), y (1,)
        return self.x_data[index], self.y_data[index]

    def __len__(self):  # how the DataLoader knows when an epoch ends
        return self.len


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.activate = torch.nn.Sigmoid()
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.activate(self.linear1(x))
        x = self.activate(self.linear2(x))
        return self.sigmoid(self.linear3(x))


if __name__ == '__main__':  # worker processes that are spawned (Windows, macOS) import this file again
    random.seed(seed)
    torch.manual_seed(seed)
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
    device = torch.device(device)
    if threads:
        torch.set_num_threads(threads)

    path = os.path.join(os.environ.get('LABAPP_DATA_DIR') or data_dir, 'diabetes.csv.gz')
    if not os.path.isfile(path):
        sys.exit(f'{path} is missing: put the course file diabetes.csv.gz there, or set LABAPP_DATA_DIR')
    dataset = DiabetesDataset(path)
    train_loader = DataLoader(dataset=dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
                              persistent_workers=num_workers > 0)  # workers start once, not every epoch
    model = Model().to(device)
    criterion = torch.nn.BCELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    for epoch in range(1, epochs + 1):
        loss_sum, correct = 0.0, 0
        for i, data in enumerate(train_loader, 0):
            # 1. Prepare data: inputs (32, 8), labels (32, 1)
            inputs, labels = data
            inputs, labels = inputs.to(device), labels.to(device)
            # 2. Forward
            y_pred = model(inputs)
            loss = criterion(y_pred, labels)
            print(epoch, i, loss.item())
            # 3. Backward
            optimizer.zero_grad()
            loss.backward()
            # 4. Update
            optimizer.step()

            loss_sum += loss.item() * len(labels)  # the batch's mean loss, weighted by its rows
            correct += ((y_pred >= 0.5) == (labels == 1)).sum().item()
        print(f'epoch {epoch}: loss {loss_sum / len(dataset)}  accuracy {correct / len(dataset)}')

    print(f'final train: loss {loss_sum / len(dataset):.5g}  accuracy {correct / len(dataset):.5g}  batches {i + 1}')
    with torch.no_grad():  # the trained model on every row
        x_all, y_all = dataset.x_data.to(device), dataset.y_data.to(device)
        y_pred = model(x_all)
    print(f'final after training: loss {criterion(y_pred, y_all).item():.5g}  '
          f'accuracy {((y_pred >= 0.5) == (y_all == 1)).float().mean().item():.5g}')
