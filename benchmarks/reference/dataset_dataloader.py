"""Lecture 8: Dataset and DataLoader, batch 32, shuffle, 2 workers, lr 0.01 (the course's program)."""

import os

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from _common import Clock, arguments, report


class DiabetesDataset(Dataset):
    def __init__(self, filepath):
        xy = np.loadtxt(filepath, delimiter=',', dtype=np.float32)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


if __name__ == '__main__':
    args = arguments(epochs=100)
    dataset = DiabetesDataset(os.path.join(args.data, 'diabetes.csv.gz'))
    train_loader = DataLoader(dataset=dataset, batch_size=32, shuffle=True, num_workers=2)
    model = Model()
    criterion = torch.nn.BCELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    with Clock() as clock:
        for epoch in range(args.epochs):
            epoch_loss = 0.0  # measurement only: the epoch's mean loss per row, as labapp reports it
            for i, data in enumerate(train_loader, 0):
                # 1. Prepare data
                inputs, labels = data
                # 2. Forward
                y_pred = model(inputs)
                loss = criterion(y_pred, labels)
                print(epoch, i, loss.item())
                epoch_loss += loss.item() * len(labels)
                # 3. Backward
                optimizer.zero_grad()
                loss.backward()
                # 4. Update
                optimizer.step()

    with torch.no_grad():
        accuracy = ((model(dataset.x_data) > 0.5).float() == dataset.y_data).float().mean().item()
    report(clock.seconds, args.epochs, loss=epoch_loss / len(dataset), accuracy=accuracy)
