"""Lesson 9: softmax classifier: MNIST digits, a 784-512-256-128-64-10 network, cross-entropy, train() and test()."""

import dataclasses

from labapp.lesson import BoolParam, ChoiceParam, Chart, Lesson, Metric, Text, View, ViewValue
from lessons import _mnist
from lessons import _mnist_data as mnist_data
from lessons._data import MNIST
from lessons._mistakes import FLOAT_LABELS, EXTRA_SOFTMAX


def make_model(softmax=False):
    """The course's network; the class lives in here so that listing lessons does not import torch."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = torch.nn.Linear(784, 512)
            self.l2 = torch.nn.Linear(512, 256)
            self.l3 = torch.nn.Linear(256, 128)
            self.l4 = torch.nn.Linear(128, 64)
            self.l5 = torch.nn.Linear(64, 10)

        def forward(self, x):                  # x: (N, 1, 28, 28)
            x = x.view(-1, 784)                # (N, 784): the image as one row of pixels
            x = torch.relu(self.l1(x))         # (N, 512)
            x = torch.relu(self.l2(x))         # (N, 256)
            x = torch.relu(self.l3(x))         # (N, 128)
            x = torch.relu(self.l4(x))         # (N, 64)
            x = self.l5(x)                     # (N, 10): raw scores, no softmax: CrossEntropyLoss has it
            if softmax:                        # the mistake: probabilities, which CrossEntropyLoss takes for scores
                return torch.softmax(x, dim=1)
            return x

    return Net()


def reseed(seed):
    """Every generator back to the run's seed, as the runner set them before train()."""
    import random

    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def float_labels_error(hp, run):
    """The course's first step with the labels as float: torch's own error, kept to show it."""
    import torch

    train_data, _, _, _ = mnist_data.load(run.data_path(MNIST.name), hp, run.device)
    inputs, target = next(iter(train_data.batches(shuffle=True)))
    try:
        torch.nn.CrossEntropyLoss()(make_model().to(run.device)(inputs), target.float())  # the mistake
    except RuntimeError as error:
        return error
    raise AssertionError("CrossEntropyLoss took float class labels")  # a torch that accepts them: tell us


def train(hp, run):
    """The fully connected network, trained and tested each epoch by the course's loop (lessons/_mnist.py).

    With the extra softmax, the course's network then trains again from the same seed, for comparison.
    """
    if hp.labels == "float":
        error = float_labels_error(hp, run)
        yield ViewValue("mistake", "float labels")
        raise error  # the run fails with torch's own message; the view says what it means
    mistake_accuracies = []
    for record in _mnist.train_and_test(make_model(softmax=hp.softmax), hp, run):
        yield record
        if isinstance(record, Metric) and record.split == "test":
            mistake_accuracies.append(record.values["accuracy"])
    if not hp.softmax or run.should_stop:
        return
    yield ViewValue("mistake", "extra softmax")
    reseed(run.seed)  # the same initial weights and the same batches as the run above
    accuracies = []
    for record in _mnist.train_and_test(make_model(), hp, run):
        if isinstance(record, Metric):  # the course's curves beside the mistake's; its views are not shown
            yield dataclasses.replace(record, split="course " + record.split)
            if record.split == "test":
                accuracies.append(record.values["accuracy"])
    yield ViewValue("compared", {"with the extra softmax": mistake_accuracies, "the course's network": accuracies})


PARAMS = (
    *_mnist.PARAMS,
    BoolParam(name="softmax", default=False,
              help=Text("在 CrossEntropyLoss 前多加一个 softmax（经典错误；会再训练一遍课程的网络作对比）",
                        "an extra softmax before CrossEntropyLoss (the classic mistake; the course's network "
                        "then trains too, to compare)")),
    ChoiceParam(name="labels", default="long", choices=("long", "float"),
                help=Text("标签的类型（float：经典错误，看 torch 的报错和解释）",
                          "the labels' dtype (float: the classic mistake, see torch's error explained)")),
)

COMPARED = ("train", "course train")  # with the extra softmax, the course's run is drawn beside it
CHARTS = (Chart(Text("训练损失（每个 epoch 的平均）", "Training loss (mean per epoch)"), y=("loss",), splits=COMPARED),
          Chart(Text("测试集准确率", "Test accuracy"), y=("accuracy",), splits=("test", "course test")),
          Chart(Text("每 300 个批次的平均损失（课程打印的）", "Loss, mean of every 300 batches (the course's print)"),
                y=("loss",), x="step", splits=COMPARED))


LESSON = Lesson(
    id="softmax-mnist",
    number=9,
    title=Text("多分类问题", "Softmax classifier (MNIST)"),
    params=PARAMS,
    charts=CHARTS,
    views=(View("mistake", "text", Text("故意犯的错误", "The mistake made on purpose")),
           View("compared", "values", Text("每个 epoch 的测试准确率（同一个种子）", "Test accuracy by epoch (the same seed)")),
           *_mnist.VIEWS),
    train=train,
    data=(MNIST,),
    headline=_mnist.HEADLINE,
    labels={**_mnist.LABELS, "extra softmax": EXTRA_SOFTMAX, "float labels": FLOAT_LABELS,
            "course train": Text("课程的网络（训练集）", "course's network, train"),
            "course test": Text("课程的网络（测试集）", "course's network, test"),
            "with the extra softmax": Text("多加了 softmax", "with the extra softmax"),
            "the course's network": Text("课程的网络", "the course's network")},
)
