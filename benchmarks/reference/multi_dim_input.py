"""Lecture 7: multiple-dimension input, diabetes, 8-6-4-1 sigmoid, full batch (the course's program)."""

import os

import numpy as np
import torch

from _common import Clock, arguments, report

args = arguments(epochs=100)

xy = np.loadtxt(os.path.join(args.data, 'diabetes.csv.gz'), delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(xy[:, :-1])
y_data = torch.from_numpy(xy[:, [-1]])


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


model = Model()
criterion = torch.nn.BCELoss(reduction='mean')  # the course's size_average=True
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

with Clock() as clock:
    for epoch in range(args.epochs):
        # Forward
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        print(epoch, loss.item())
        # Backward
        optimizer.zero_grad()
        loss.backward()
        # Update
        optimizer.step()

accuracy = ((model(x_data) > 0.5).float() == y_data).float().mean().item()
report(clock.seconds, args.epochs, loss=loss.item(), accuracy=accuracy)
