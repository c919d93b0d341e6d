"""Lesson 11: the models of lessons 9 and 10 written with nn.Sequential, and a model summary: layers, shapes, params."""

from labapp.lesson import ChoiceParam, Lesson, Text, Values, View, ViewValue
from lessons import _mnist
from lessons._blocks import SUMMARY_LABELS, inception_block, residual_block, summarize
from lessons._data import MNIST
from lessons._shapes import SHAPE_LABELS, model_trace


def make_model(name):
    """The chosen model as an nn.Sequential."""
    from torch import nn

    if name == "mlp":
        return nn.Sequential(nn.Flatten(),
                             nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                             nn.Linear(64, 10))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                             nn.Conv2d(10, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                             nn.Flatten(), nn.Linear(320, 10))
    # lesson 12's blocks (lessons/_blocks.py)
    if name == "inception":
        return nn.Sequential(nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                             inception_block(10),                       # -> 88 channels
                             nn.Conv2d(88, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                             inception_block(20),
                             nn.Flatten(), nn.Linear(1408, 10))          # 88 × 4 × 4 = 1408
    return nn.Sequential(nn.Conv2d(1, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
                         residual_block(16),
                         nn.Conv2d(16, 32, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
                         residual_block(32),
                         nn.Flatten(), nn.Linear(512, 10))              # 32 × 4 × 4 = 512


def train(hp: Values, run):
    """The summary of the chosen model, then (epochs > 0) training as in lessons 9 and 10: the course's loop."""
    model = make_model(hp.model)
    yield ViewValue("summary", summarize(model))
    if hp.epochs:
        yield from _mnist.train_and_test(model, hp, run)


PARAMS = (
    ChoiceParam(name="model", default="cnn", choices=("mlp", "cnn", "inception", "resnet"),
                help=Text("mlp：第 9 课；cnn：第 10 课；inception、resnet：第 12 课",
                          "mlp: lesson 9; cnn: lesson 10; inception, resnet: lesson 12")),
    *_mnist.with_epochs(0, Text("训练轮数（0：只看摘要）", "number of epochs (0: the summary only)")),
)


LESSON = Lesson(
    id="sequential",
    number=11,
    title=Text("nn.Sequential", "Building models with nn.Sequential"),
    params=PARAMS,
    charts=_mnist.CHARTS,
    views=(View("summary", "table", Text("模型摘要", "Model summary")), *_mnist.VIEWS),
    train=train,
    data=(MNIST,),
    reads_data=lambda hp: hp.epochs > 0,
    headline=_mnist.HEADLINE,
    checkpoints=True,  # an epoch of MNIST takes seconds to minutes on a cpu: worth resuming
    shapes=lambda hp: model_trace(hp.model),
    labels={**_mnist.LABELS, **SUMMARY_LABELS, **SHAPE_LABELS},
)
