"""Lesson 12: advanced CNN: 1x1 convolutions, the Inception block, residual blocks, on MNIST."""

from labapp.lesson import BoolParam, ChoiceParam, Lesson, Text, Values, View, ViewValue
from lessons import _mnist
from lessons._blocks import SUMMARY_LABELS, inception_block, residual_block, shape, summarize, watch
from lessons._data import MNIST
from lessons._shapes import SHAPE_LABELS, model_trace
from lessons._mistakes import COMPARED_LABELS, COMPARED_VIEWS, NO_SKIP, compared, train_and_compare


def make_model(variant, skip=True):
    """The course's Net for the variant, written as the course writes it."""
    import torch.nn.functional as F
    from torch import nn

    class InceptionNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
            self.incep1 = inception_block(in_channels=10)
            self.incep2 = inception_block(in_channels=20)
            self.mp = nn.MaxPool2d(2)
            self.fc = nn.Linear(1408, 10)

        def forward(self, x):                         # (N, 1, 28, 28)
            in_size = x.size(0)
            x = F.relu(self.mp(self.conv1(x)))        # (N, 10, 12, 12)
            x = self.incep1(x)                        # (N, 88, 12, 12)
            x = F.relu(self.mp(self.conv2(x)))        # (N, 20, 4, 4)
            x = self.incep2(x)                        # (N, 88, 4, 4)
            x = x.view(in_size, -1)                   # (N, 1408)
            return self.fc(x)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
            self.mp = nn.MaxPool2d(2)
            self.rblock1 = residual_block(16, skip)  # skip False: the mistake, no `x +` in the blocks
            self.rblock2 = residual_block(32, skip)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):                         # (N, 1, 28, 28)
            in_size = x.size(0)
            x = self.mp(F.relu(self.conv1(x)))        # (N, 16, 12, 12)
            x = self.rblock1(x)                       # (N, 16, 12, 12)
            x = self.mp(F.relu(self.conv2(x)))        # (N, 32, 4, 4)
            x = self.rblock2(x)                       # (N, 32, 4, 4)
            x = x.view(in_size, -1)                   # (N, 512)
            return self.fc(x)

    return InceptionNet() if variant == "inception" else ResNet()


def shapes(model):
    """What goes into the last linear layer; for Inception, what each path of the first block gives."""
    import torch

    watched = {"into the last linear layer": (model.fc, "input")}
    if hasattr(model, "incep1"):
        block = model.incep1
        watched.update({"Inception(10), 1x1 path": (block.branch1x1, "output"),
                        "Inception(10), 5x5 path": (block.branch5x5_2, "output"),
                        "Inception(10), 3x3 path": (block.branch3x3_3, "output"),
                        "Inception(10), pool path": (block.branch_pool, "output"),
                        "Inception(10), concatenated": (block, "output")})
    seen = {}

    def note(name, which):
        def hook(module, inputs, output):
            seen[name] = shape(inputs[0] if which == "input" else output)
        return hook

    dummy = torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device)
    watch(model, [dummy], {module: note(name, which) for name, (module, which) in watched.items()})
    return {name: seen[name] for name in watched}


def train(hp: Values, run):
    """The summary and shapes of the variant's network, then training as in lesson 9: the course's loop.

    Without the skip connections, the course's ResNet then trains again from the same seed, for comparison.
    """
    model = make_model(hp.variant, hp.skip)
    yield ViewValue("summary", summarize(model))
    yield ViewValue("shapes", shapes(model))
    if hp.skip:
        yield from _mnist.train_and_test(model, hp, run)
        return
    yield from train_and_compare(lambda net, context: _mnist.train_and_test(net, hp, context), lambda: model,
                                 lambda: make_model(hp.variant), "no skip", run)


PARAMS = (
    ChoiceParam(name="variant", default="inception", choices=("inception", "resnet"),
                help=Text("Inception 块或残差块", "Inception blocks or residual blocks")),
    *_mnist.PARAMS,
    BoolParam(name="skip", default=True,
              help=Text("残差块的跳连 x + F(x)（关：经典错误，去掉跳连；会再训练一遍课程的网络作对比）",
                        "the residual blocks' skip connection x + F(x) (off: the classic mistake, without it; "
                        "the course's network then trains too, to compare)")),
)


def skip_needs_resnet(hp: Values) -> str | None:
    """Rule: only the ResNet has skip connections to take away."""
    if not hp.skip and hp.variant != "resnet":
        return f"skip, variant: only the resnet variant has skip connections to turn off (variant is {hp.variant})"
    return None


LESSON = Lesson(
    id="cnn-advanced",
    number=12,
    title=Text("卷积神经网络高级", "Advanced CNN: Inception and ResNet"),
    params=PARAMS,
    rules=(skip_needs_resnet,),
    charts=compared(_mnist.CHARTS),
    views=(*COMPARED_VIEWS, View("summary", "table", Text("模型摘要", "Model summary")),
           View("shapes", "values", Text("形状", "Shapes")), *_mnist.VIEWS),
    train=train,
    data=(MNIST,),
    headline=_mnist.HEADLINE,
    checkpoints=True,  # an epoch of MNIST takes seconds to minutes on a cpu: worth resuming
    shapes=lambda hp: model_trace(hp.variant),
    labels={**_mnist.LABELS, **SUMMARY_LABELS, **COMPARED_LABELS, **SHAPE_LABELS, "no skip": NO_SKIP,
            "into the last linear layer": Text("最后一个线性层的输入", "into the last linear layer"),
            "Inception(10), 1x1 path": Text("Inception(10)，1x1 分支", "Inception(10), 1x1 path"),
            "Inception(10), 5x5 path": Text("Inception(10)，5x5 分支", "Inception(10), 5x5 path"),
            "Inception(10), 3x3 path": Text("Inception(10)，3x3 分支", "Inception(10), 3x3 path"),
            "Inception(10), pool path": Text("Inception(10)，池化分支", "Inception(10), pool path"),
            "Inception(10), concatenated": Text("Inception(10)，拼接后", "Inception(10), concatenated")},
)
