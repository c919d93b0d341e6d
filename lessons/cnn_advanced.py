"""Lesson 12: advanced CNN: 1x1 convolutions, the Inception block, residual blocks, on MNIST."""

import functools

from labapp.lesson import ChoiceParam, Lesson, Text, Values, View, ViewValue
from lessons import mnist
from lessons.sequential import shape, summarize
from lessons.softmax_mnist import CHARTS, VIEWS, fit

EXPLANATION = Text(
    zh="""\
## 卷积神经网络高级：Inception 和 ResNet

**1×1 卷积**：核只有一个像素，它不看邻居，只把同一位置上各通道的数加权求和。它用来改变通道数：
把 192 个通道先压到 16 个再做 5×5 卷积，乘法次数能少一个数量级。

**Inception 块**（`--variant inception`）：不知道用哪种核好，就都用上，让训练去挑。四路并行，输出宽高相同，
在通道维拼接（`torch.cat(outputs, dim=1)`）：
- 平均池化 3×3（stride 1，padding 1）→ 1×1 卷积，24 个通道；
- 1×1 卷积，16 个通道；
- 1×1 卷积 16 → 5×5 卷积（padding 2），24 个通道；
- 1×1 卷积 16 → 3×3 卷积 24 → 3×3 卷积（padding 1），24 个通道。
合计 24 + 16 + 24 + 24 = **88** 个通道。网络：conv 1→10（5×5）→ 池化 → ReLU → Inception(10) →
conv 88→20（5×5）→ 池化 → ReLU → Inception(20) → 展平 88×4×4 = **1408** → 线性 1408→10。

**残差块**（`--variant resnet`）：层数很多时，梯度一层层连乘会消失，更深的网络反而训练得更差。
残差块输出 relu(x + F(x))，F 是两个 3×3 卷积（保持通道数和宽高，才能和 x 相加）。
即使 F 学不到东西，块也至少能把 x 原样传下去；反向传播时梯度多了一条直达的路（导数里多了一个 1）。
网络：conv 1→16（5×5）→ ReLU → 池化 → 残差块(16) → conv 16→32（5×5）→ ReLU → 池化 → 残差块(32) →
展平 32×4×4 = **512** → 线性 512→10。

训练方法和第 9 课一样（SGD lr 0.01，momentum 0.5，batch 64，10 个 epoch）。

### 看什么
- 课程的结果（全部 6 万张训练图片，10 个 epoch）：Inception 98.66 %，ResNet 99.01 %，第 10 课的 CNN 98.69 %。
- 模型摘要里各块的输出形状（88 个通道）和最后一个线性层的输入（1408、512），还有参数个数。
- 每个 epoch 的秒数：Inception 和 ResNet 的计算量比第 10 课的 CNN 大得多。
""",
    en="""\
## Advanced CNN: Inception and ResNet

**1x1 convolutions**: a one-pixel kernel looks at no neighbours; it only mixes the channels at each
position into a weighted sum. It changes the number of channels cheaply: squeezing 192 channels to
16 before a 5x5 convolution cuts the multiplications by an order of magnitude.

**The Inception block** (`--variant inception`): when you cannot tell which kernel is best, use them
all and let training choose. Four paths run side by side, keep the width and height, and are
concatenated along the channels (`torch.cat(outputs, dim=1)`):
- 3x3 average pooling (stride 1, padding 1) → 1x1 convolution, 24 channels;
- 1x1 convolution, 16 channels;
- 1x1 convolution to 16 → 5x5 convolution (padding 2), 24 channels;
- 1x1 convolution to 16 → 3x3 convolution to 24 → 3x3 convolution (padding 1), 24 channels.
In all 24 + 16 + 24 + 24 = **88** channels. The network: conv 1→10 (5x5) → pool → ReLU →
Inception(10) → conv 88→20 (5x5) → pool → ReLU → Inception(20) → flatten 88×4×4 = **1408** →
linear 1408→10.

**Residual blocks** (`--variant resnet`): with many layers the gradient, multiplied layer after
layer, vanishes, and a deeper network trains worse than a shallower one. A residual block outputs
relu(x + F(x)), where F is two 3x3 convolutions that keep the channels and the size (so that x can
be added). If F learns nothing, the block still passes x on; and backward, the gradient gets a
direct path (a 1 added to the derivative). The network: conv 1→16 (5x5) → ReLU → pool →
residual(16) → conv 16→32 (5x5) → ReLU → pool → residual(32) → flatten 32×4×4 = **512** →
linear 512→10.

Trained as in lesson 9 (SGD lr 0.01, momentum 0.5, batch 64, 10 epochs).

### What to look at
- The course's results (all 60,000 training images, 10 epochs): Inception 98.66 %, ResNet 99.01 %,
  against 98.69 % for lesson 10's CNN.
- In the model summary: each block's output shape (88 channels), the input of the last linear
  layer (1408, 512), and the parameter counts.
- The seconds per epoch: Inception and ResNet compute far more than lesson 10's CNN.
""",
)

PARAMS = (
    ChoiceParam(name="variant", default="inception", choices=("inception", "resnet"),
                help=Text("Inception 块或残差块", "Inception blocks or residual blocks")),
    *mnist.PARAMS,
)


@functools.cache
def _blocks():
    """The course's two blocks, as classes made on first use (this module imports without torch)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class InceptionA(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

            self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

            self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
            self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

            self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

        def forward(self, x):                                                      # (N, C, H, W)
            branch1x1 = self.branch1x1(x)                                          # (N, 16, H, W)
            branch5x5 = self.branch5x5_2(self.branch5x5_1(x))                      # (N, 24, H, W)
            branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))    # (N, 24, H, W)
            branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))  # (N, 24, H, W)
            outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
            return torch.cat(outputs, dim=1)                                       # (N, 88, H, W)

    class ResidualBlock(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.channels = channels
            self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

        def forward(self, x):
            y = F.relu(self.conv1(x))
            y = self.conv2(y)
            return F.relu(x + y)                  # the same shape in and out, so x can be added

    return InceptionA, ResidualBlock


def inception_block(in_channels):
    """The course's InceptionA: four paths concatenated to 88 channels."""
    return _blocks()[0](in_channels)


def residual_block(channels):
    """The course's ResidualBlock: relu(x + conv3x3(relu(conv3x3(x))))."""
    return _blocks()[1](channels)


def make_model(variant):
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
            self.rblock1 = residual_block(16)
            self.rblock2 = residual_block(32)
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

    watch = {"into the last linear layer": (model.fc, "input")}
    if hasattr(model, "incep1"):
        block = model.incep1
        watch.update({"Inception(10), 1x1 path": (block.branch1x1, "output"),
                      "Inception(10), 5x5 path": (block.branch5x5_2, "output"),
                      "Inception(10), 3x3 path": (block.branch3x3_3, "output"),
                      "Inception(10), pool path": (block.branch_pool, "output"),
                      "Inception(10), concatenated": (block, "output")})
    seen = {}

    def note(name, which):
        def hook(module, inputs, output):
            seen[name] = shape(inputs[0] if which == "input" else output)
        return hook

    hooks = [module.register_forward_hook(note(name, which)) for name, (module, which) in watch.items()]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
    return {name: seen[name] for name in watch}


def train(hp: Values, run):
    """The summary and shapes of the variant's network, then training as in lesson 9."""
    model = make_model(hp.variant)
    yield ViewValue("summary", summarize(model))
    yield ViewValue("shapes", shapes(model))
    yield from fit(model, hp, run)


LESSON = Lesson(
    id="cnn-advanced",
    number=12,
    title=Text("卷积神经网络高级", "Advanced CNN: Inception and ResNet"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=CHARTS,
    views=(View("summary", "table", Text("模型摘要", "Model summary")),
           View("shapes", "values", Text("形状", "Shapes")), *VIEWS),
    train=train,
    threads=mnist.THREADS,  # one: measured, see lessons/mnist.py
    data=("mnist",),
)
