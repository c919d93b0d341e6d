"""Lesson 9: softmax classifier: MNIST digits, a 784-512-256-128-64-10 network, cross-entropy, train() and test()."""

from labapp.lesson import Lesson, Text
from lessons import _mnist
from lessons._data import MNIST


def make_model():
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
            return self.l5(x)                  # (N, 10): raw scores, no softmax: CrossEntropyLoss has it

    return Net()


def train(hp, run):
    """The fully connected network, trained and tested each epoch by the course's loop (lessons/_mnist.py)."""
    yield from _mnist.train_and_test(make_model(), hp, run)


LESSON = Lesson(
    id="softmax-mnist",
    number=9,
    title=Text("多分类问题", "Softmax classifier (MNIST)"),
    params=_mnist.PARAMS,
    charts=_mnist.CHARTS,
    views=_mnist.VIEWS,
    train=train,
    data=(MNIST,),
    headline=_mnist.HEADLINE,
    checkpoints=True,  # an epoch of MNIST takes seconds to minutes on a cpu: worth resuming
    labels=_mnist.LABELS,
)
