"""Lesson 7: multiple-dimension input: 8 features, stacked layers 8 → 6 → 4 → 1, full batch, diabetes."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue
from lessons import _diabetes
from lessons._data import DIABETES


def load_diabetes(path):
    """The course's data as tensors: x_data (N, 8) features, y_data (N, 1) labels 0/1."""
    import numpy as np
    import torch

    xy = np.loadtxt(path, delimiter=",", dtype=np.float32)  # (759, 9), no header
    x_data = torch.from_numpy(xy[:, :-1])   # (759, 8): every column but the last
    y_data = torch.from_numpy(xy[:, [-1]])  # (759, 1): [-1] in a list keeps it a matrix, like y_pred
    return x_data, y_data


def make_model(activation="sigmoid"):
    """The course's 8 → 6 → 4 → 1 network; the class lives in here so that listing lessons does not import torch."""
    import torch

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(8, 6)
            self.linear2 = torch.nn.Linear(6, 4)
            self.linear3 = torch.nn.Linear(4, 1)
            self.activate = torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU()
            self.sigmoid = torch.nn.Sigmoid()  # the output is a probability, whatever the hidden layers use

        def forward(self, x):                      # x: (N, 8)
            x = self.activate(self.linear1(x))     # (N, 6)
            x = self.activate(self.linear2(x))     # (N, 4)
            return self.sigmoid(self.linear3(x))   # (N, 1): P(y = 1) for each row

    return Model()


def train(hp: Values, run):
    """Full-batch SGD on BCE: one update per epoch from all the rows."""
    import torch

    x_data, y_data = load_diabetes(run.data_path(DIABETES.name))
    x_data, y_data = x_data.to(run.device), y_data.to(run.device)
    model = make_model(hp.activation).to(run.device)
    criterion = torch.nn.BCELoss()  # mean over the rows (the course's size_average=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr)
    yield ViewValue("result", _diabetes.describe_data(y_data))

    saved = run.restore(model=model, optimizer=optimizer)  # {} unless this run continues from a checkpoint
    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
        y_pred = model(x_data)               # forward: all rows at once, (759, 1)
        loss = criterion(y_pred, y_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield Metric(epoch=epoch, values={"loss": loss.item(), "accuracy": _diabetes.accuracy(y_pred, y_data)})
        run.checkpoint(epoch, model=model, optimizer=optimizer)  # only with --checkpoints on: an epoch is a blink
        if run.should_stop:
            break

    yield from _diabetes.after_training(model, criterion, x_data, y_data, epoch)
    yield ViewValue("mistakes", _diabetes.mistakes(model, x_data, y_data))


PARAMS = (
    FloatParam(name="lr", default=0.1, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    ChoiceParam(name="activation", default="sigmoid", choices=("sigmoid", "relu"),
                help=Text("隐藏层的激活函数（输出层总是 sigmoid）",
                          "activation of the hidden layers (the output is always sigmoid)")),
)


LESSON = Lesson(
    id="multi-dim-input",
    number=7,
    title=Text("多维特征输入", "Multiple-dimension input"),
    params=PARAMS,
    charts=(Chart(Text("损失（BCE）", "Loss (BCE)"), y=("loss",)),
            Chart(Text("准确率（每轮更新前）", "Accuracy (each epoch, before its update)"), y=("accuracy",))),
    views=(View("result", "values", Text("结果", "Result")), _diabetes.MISTAKES),
    train=train,
    data=(DIABETES,),
    headline=_diabetes.HEADLINE,
    labels=_diabetes.LABELS,
    checkpoints=False,  # can keep them (--checkpoints on); its epochs take milliseconds
)
