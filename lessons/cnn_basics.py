"""Lesson 10: basic CNN: an explorer of convolution, padding, stride and max pooling, then a CNN on MNIST."""

import math

from labapp.lesson import IntParam, Lesson, TensorParam, Text, Values, View, ViewValue, both, tensor_shape
from lessons import _mnist
from lessons._data import MNIST
from lessons._shapes import COURSE_LAYERS, LayersParam, cnn_trace, plan

COURSE_INPUT = [[3, 4, 6, 5, 7], [2, 4, 6, 8, 2], [1, 6, 7, 8, 4], [9, 7, 4, 6, 2], [3, 7, 5, 4, 1]]
COURSE_KERNEL = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def explorer_tensors(hp: Values):
    """The input and kernel as nested lists: the user's, or the course's example."""
    return (COURSE_INPUT if hp.input is None else hp.input), (COURSE_KERNEL if hp.kernel is None else hp.kernel)


def side(size, kernel, padding, stride):
    """The output-size rule of a convolution (and, with padding 0 and stride = kernel, of pooling)."""
    return (size + 2 * padding - kernel) // stride + 1


def matrix(rows):
    """A matrix as aligned text, whole numbers without a decimal point."""
    cells = [[f"{v:g}" for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("  ".join(c.rjust(width) for c in row) for row in cells)


def explore(hp: Values):
    """The explorer: convolution and pooling computed by torch, and the output-size rule."""
    import torch
    import torch.nn.functional as F

    x_list, k_list = explorer_tensors(hp)
    x = torch.tensor(x_list, dtype=torch.float32).view(1, 1, *tensor_shape(x_list))  # (batch, channel, H, W)
    kernel = torch.tensor(k_list, dtype=torch.float32).view(1, 1, *tensor_shape(k_list))  # (out, in, kH, kW)
    output = F.conv2d(x, kernel, padding=hp.padding, stride=hp.stride)
    pooled = F.max_pool2d(x, kernel_size=hp.pool)  # stride = kernel size, as MaxPool2d's default
    (h, w), (kh, kw) = x.shape[2:], kernel.shape[2:]
    conv_h = f"⌊({h} + 2·{hp.padding} − {kh}) / {hp.stride}⌋ + 1 = {side(h, kh, hp.padding, hp.stride)}"
    conv_w = f"⌊({w} + 2·{hp.padding} − {kw}) / {hp.stride}⌋ + 1 = {side(w, kw, hp.padding, hp.stride)}"
    pool_h, pool_w = f"⌊{h} / {hp.pool}⌋ = {h // hp.pool}", f"⌊{w} / {hp.pool}⌋ = {w // hp.pool}"
    square, pool_square = (h, kh) == (w, kw), h == w
    rule = {
        "convolution": both(conv_h if square else f"高 {conv_h}，宽 {conv_w}",
                            conv_h if square else f"{conv_h} by {conv_w}"),
        "pooling": both(pool_h if pool_square else f"高 {pool_h}，宽 {pool_w}",
                        pool_h if pool_square else f"{pool_h} by {pool_w}"),
        "the MNIST CNN": both(size_path(hp.layers, "zh"), size_path(hp.layers, "en")),
    }
    out, shrunk = f"{output.shape[2]}x{output.shape[3]}", f"{pooled.shape[2]}x{pooled.shape[3]}"
    yield ViewValue("conv", both(f"{h}x{w} 输入，{kh}x{kw} 卷积核，padding {hp.padding}，stride {hp.stride} → {out}\n"
                                 f"{matrix(output[0, 0].tolist())}",
                                 f"{h}x{w} input, {kh}x{kw} kernel, padding {hp.padding}, stride {hp.stride} → {out}\n"
                                 f"{matrix(output[0, 0].tolist())}"))
    yield ViewValue("pool", both(f"{h}x{w} 输入，{hp.pool}x{hp.pool} 最大池化 → {shrunk}\n{matrix(pooled[0, 0].tolist())}",
                                 f"{h}x{w} input, {hp.pool}x{hp.pool} max pooling → {shrunk}\n"
                                 f"{matrix(pooled[0, 0].tolist())}"))
    yield ViewValue("rule", rule)


def size_path(layers, lang="en"):
    """How the image's side shrinks through the conv and pool layers, and the flatten size: the course's
    '28 → conv 5 → 24 → pool 2 → 12 → conv 5 → 8 → pool 2 → 4: 20 × 4 × 4 = 320 features'."""
    zh = lang == "zh"
    steps = plan(layers)
    path = ["×".join(map(str, dict.fromkeys(steps[0].input[1:])))]
    for step in steps:
        if step.layer[0] == "linear":
            break
        kind, size = ("conv", step.layer[2]) if step.layer[0] == "conv" else ("pool", step.layer[1])
        what = {"conv": "卷积", "pool": "池化"}[kind] if zh else kind
        path += [f"{what} {size}", "×".join(map(str, dict.fromkeys(step.output[1:])))]
    flat = next((step.input for step in steps if step.flatten), None)
    if flat is None:
        return " → ".join(path) + ("：没有展平（线性层直接用 784 个像素）" if zh else ": no flatten (a linear layer on the 784 pixels)")
    return " → ".join(path) + (f"：{' × '.join(map(str, flat))} = {math.prod(flat)} 个特征" if zh
                               else f": {' × '.join(map(str, flat))} = {math.prod(flat)} features")


def make_model(layers=COURSE_LAYERS):
    """The CNN of the layer list; by default the course's: conv 10 5, pool 2, conv 20 5, pool 2, linear 10."""
    import torch
    import torch.nn.functional as F

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = plan(layers)  # each layer's input and output shape, worked out (lessons/_shapes.py)
            self.layers = torch.nn.ModuleList()
            for step in self.steps:
                kind, *numbers = step.layer
                if kind == "conv":  # the course: Conv2d(1, 10, kernel_size=5), then Conv2d(10, 20, kernel_size=5)
                    out, kernel, padding, stride = numbers
                    self.layers.append(torch.nn.Conv2d(step.input[0], out, kernel_size=kernel, padding=padding,
                                                       stride=stride))
                elif kind == "pool":  # the course: MaxPool2d(2)
                    self.layers.append(torch.nn.MaxPool2d(numbers[0], stride=numbers[1]))
                else:  # the course: Linear(320, 10), 320 being the flatten size
                    self.layers.append(torch.nn.Linear(math.prod(step.input), numbers[0]))

        def forward(self, x):                             # x: (N, 1, 28, 28)
            batch_size = x.size(0)
            for step, layer in zip(self.steps, self.layers):
                if step.flatten:
                    x = x.view(batch_size, -1)            # (N, C·H·W): the course's (N, 320)
                x = layer(x)                              # (N, *step.output)
                if step.relu:                             # relu(pooling(conv(x))), as the course writes it
                    x = F.relu(x)
            return x                                      # (N, 10)

    return Net()


def train(hp: Values, run):
    """The explorer, then (epochs > 0) the CNN on MNIST, trained and tested each epoch by the course's loop."""
    yield from explore(hp)  # no random numbers drawn: training starts from the same seed as without it
    yield ViewValue("layers", cnn_trace(hp.layers).table())
    if hp.epochs:
        yield from _mnist.train_and_test(make_model(hp.layers), hp, run)


PARAMS = (
    TensorParam(name="input", default=None, empty="example", max_size=400,
                help=Text("实验台的输入（二维）", "the explorer's input (2-D)")),
    TensorParam(name="kernel", default=None, empty="example", max_size=100,
                help=Text("实验台的卷积核（二维）", "the explorer's kernel (2-D)")),
    IntParam(name="padding", default=0, min=0, max=10, help=Text("四周补几圈 0", "rings of zeros around the input")),
    IntParam(name="stride", default=1, min=1, max=10, help=Text("卷积核每次移动的步长", "the kernel's step")),
    IntParam(name="pool", default=2, min=1, max=10, help=Text("最大池化的大小（作用在输入上）",
                                                              "max pooling size (applied to the input)")),
    *_mnist.with_epochs(0, Text("训练轮数（0：只运行实验台）", "number of epochs (0: the explorer only)")),
    LayersParam(name="layers", default=COURSE_LAYERS,
                help=Text("MNIST 上的 CNN，逗号分隔：conv 输出通道 核大小 [pad P] [stride S]、pool 大小、linear 输出；"
                          "每个卷积块后有 ReLU",
                          "the MNIST CNN, comma-separated: conv OUT KERNEL [pad P] [stride S], pool SIZE, linear OUT; "
                          "a ReLU after each conv block")),
)


def shapes_agree(hp: Values) -> str | None:
    """Both 2-D, and the kernel and pool fit the (padded) input."""
    x, k = explorer_tensors(hp)
    (xs, ks) = tensor_shape(x), tensor_shape(k)
    if len(xs) != 2 or len(ks) != 2:
        return f"input, kernel: both must be 2-D (nested lists of rows), not shape {xs} and {ks}"
    if min(xs[0], xs[1]) + 2 * hp.padding < max(ks):
        return f"kernel, padding: a {ks[0]}x{ks[1]} kernel does not fit a {xs[0]}x{xs[1]} input padded by {hp.padding}"
    if hp.pool > min(xs):
        return f"pool: {hp.pool} is larger than the {xs[0]}x{xs[1]} input"
    return None


LESSON = Lesson(
    id="cnn-basics",
    number=10,
    title=Text("卷积神经网络基础", "Basic CNN"),
    params=PARAMS,
    rules=(shapes_agree,),
    charts=_mnist.CHARTS,
    views=(View("conv", "text", Text("卷积（torch 计算）", "Convolution (computed by torch)")),
           View("pool", "text", Text("最大池化（torch 计算）", "Max pooling (computed by torch)")),
           View("rule", "values", Text("输出大小的规则", "The output-size rule")),
           View("layers", "table", Text("各层的输出形状（训练前算出）", "Each layer's output shape (worked out before training)")),
           *_mnist.VIEWS),
    train=train,
    data=(MNIST,),
    reads_data=lambda hp: hp.epochs > 0,
    shapes=lambda hp: cnn_trace(hp.layers),
    headline=_mnist.HEADLINE,
    checkpoints=True,  # an epoch of MNIST takes seconds to minutes on a cpu: worth resuming
    labels={**_mnist.LABELS,
            "convolution": Text("卷积", "convolution"), "pooling": Text("池化", "pooling"),
            "the MNIST CNN": Text("MNIST 上的 CNN", "the MNIST CNN")},
)
