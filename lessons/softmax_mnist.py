"""Lesson 9: softmax classifier: MNIST digits, a 784-512-256-128-64-10 network, cross-entropy, train() and test()."""

from labapp.lesson import BoolParam, ChoiceParam, Lesson, Text, ViewValue
from lessons import _mnist
from lessons import _mnist_data as mnist_data
from lessons._data import MNIST
from lessons._shapes import model_trace
from lessons._mistakes import (COMPARED_LABELS, COMPARED_VIEWS, EXTRA_SOFTMAX, FLOAT_LABELS, compared,
                               train_and_compare)


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
    if not hp.softmax:
        yield from _mnist.train_and_test(make_model(), hp, run)
        return
    yield from train_and_compare(lambda model, context: _mnist.train_and_test(model, hp, context), lambda: make_model(softmax=True),
                                 make_model, "extra softmax", run)


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

LESSON = Lesson(
    id="softmax-mnist",
    number=9,
    title=Text("多分类问题", "Softmax classifier (MNIST)"),
    params=PARAMS,
    charts=compared(_mnist.CHARTS),
    views=(*COMPARED_VIEWS, *_mnist.VIEWS),
    train=train,
    data=(MNIST,),
    headline=_mnist.HEADLINE,
    checkpoints=True,  # an epoch of MNIST takes seconds to minutes on a cpu: worth resuming
    shapes=lambda hp: model_trace("mlp"),
    labels={**_mnist.LABELS, "extra softmax": EXTRA_SOFTMAX, "float labels": FLOAT_LABELS,
            **COMPARED_LABELS},
)
