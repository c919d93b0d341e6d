"""Lecture 6: logistic regression, BCELoss(sum), SGD lr 0.01 (the course's program)."""

import torch

from _common import Clock, arguments, report

args = arguments(epochs=1000)

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0], [0], [1]])


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))  # the course's F.sigmoid, deprecated since
        return y_pred


model = LogisticRegressionModel()
criterion = torch.nn.BCELoss(reduction='sum')  # the course's size_average=False
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

with Clock() as clock:
    for epoch in range(args.epochs):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        print(epoch, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

crossing = -model.linear.bias.item() / model.linear.weight.item()
report(clock.seconds, args.epochs, loss=loss.item(), crossing=crossing)
