"""Lesson 10: basic CNN: an explorer of convolution, padding, stride and max pooling, then a CNN on MNIST."""

from labapp.lesson import IntParam, Lesson, TensorParam, Text, Values, View, ViewValue, tensor_shape
from lessons import mnist
from lessons.softmax_mnist import CHARTS, VIEWS, fit

EXPLANATION = Text(
    zh="""\
## 卷积神经网络基础

第 9 课把图片展平成 784 个数，丢掉了“哪些像素挨在一起”。**卷积**保留了图片的空间结构。

**卷积（其实是互相关）**：一个小的卷积核（比如 3×3）在输入上滑动，每到一个位置就把覆盖的
9 个数和核对应相乘再相加，得到输出的一个数。同一个核扫过整张图：参数少，而且在哪里都能认出同一种图案。
- **通道**：输入有 n 个通道（灰度图 1 个，彩色图 3 个）时，一个核的形状是 n×k×k，各通道的结果加在一起；
  m 个核给出 m 个输出通道。`Conv2d(1, 10, kernel_size=5)` 的权重形状是 (10, 1, 5, 5)。
- **padding**：在输入四周补 0，让输出不缩小（3×3 的核补 1 圈，5×5 的核补 2 圈）。
- **stride**：每次滑动的步长，步长 2 让输出的宽高大约减半。
- **最大池化**：`MaxPool2d(2)` 把每个 2×2 的格子换成其中最大的数，宽高减半，通道数不变，没有参数。

**输出大小的规则**：输出边长 = ⌊(输入 + 2·padding − 核) / stride⌋ + 1；池化：⌊输入 / 池化大小⌋。

**实验台**：改 `--input`、`--kernel`（嵌套列表，`example` 是课程的例子）、`--padding`、`--stride`、`--pool`，
结果由 torch 的 `F.conv2d` 和 `F.max_pool2d` 算出（和 `nn.Conv2d(1, 1, 3, bias=False)` 把权重设成核一样）。
课程的例子：5×5 输入、核 1…9：
- `--padding 1` → 第一行 [91, 168, 224, 215, 127]；
- `--stride 2` → [[211, 262], [251, 169]]；
- 2×2 最大池化 → [[4, 8], [9, 8]]（池化作用在输入上，和课程的例子一样）。
`--epochs 0` 只运行实验台，不训练，也不需要 MNIST。

**MNIST 上的 CNN**：conv 1→10（5×5）→ 池化 2 → ReLU → conv 10→20（5×5）→ 池化 2 → ReLU → 展平 → 线性 320→10。
形状：28 → 24 → 12 → 8 → 4，20×4×4 = 320。训练方法和第 9 课一样（SGD lr 0.01，momentum 0.5，batch 64）。

### 看什么
- 课程的结果：10 个 epoch 后测试准确率 98.69 %（全部 6 万张训练图片），比第 9 课的全连接网络（约 97 %）好，
  而参数少得多（8,490 个，对比 575,050 个）。
- 卷积比矩阵乘法慢：看看每个 epoch 的秒数。
""",
    en="""\
## Basic CNN

Lesson 9 flattened each image into 784 numbers and so threw away which pixels are neighbours.
**Convolution** keeps the image's layout.

**Convolution (really cross-correlation)**: a small kernel, say 3x3, slides over the input; at each
position the 9 numbers under it are multiplied by the kernel's and added up, giving one number of
the output. The same kernel sweeps the whole image: few parameters, and a pattern is found wherever
it is.
- **Channels**: with n input channels (1 for grey, 3 for colour) a kernel is n×k×k and the channels'
  results are added; m kernels give m output channels. `Conv2d(1, 10, kernel_size=5)` has weights
  of shape (10, 1, 5, 5).
- **Padding**: zeros around the input so the output does not shrink (1 ring for 3x3, 2 for 5x5).
- **Stride**: the step of the slide; stride 2 about halves the width and height.
- **Max pooling**: `MaxPool2d(2)` replaces each 2x2 block by its largest number: half the width
  and height, the same channels, no parameters.

**The output-size rule**: side = ⌊(input + 2·padding − kernel) / stride⌋ + 1; pooling: ⌊input / pool⌋.

**The explorer**: change `--input`, `--kernel` (nested lists; `example` is the course's), `--padding`,
`--stride` and `--pool`; torch's `F.conv2d` and `F.max_pool2d` compute the result (the same as an
`nn.Conv2d(1, 1, 3, bias=False)` whose weight is set to the kernel). The course's examples, a 5x5
input and the kernel 1…9:
- `--padding 1` → first row [91, 168, 224, 215, 127];
- `--stride 2` → [[211, 262], [251, 169]];
- 2x2 max pooling → [[4, 8], [9, 8]] (pooling the input, as the course's example does).
`--epochs 0` runs the explorer only: no training, no MNIST needed.

**The CNN on MNIST**: conv 1→10 (5x5) → pool 2 → ReLU → conv 10→20 (5x5) → pool 2 → ReLU → flatten →
linear 320→10. Shapes: 28 → 24 → 12 → 8 → 4, and 20×4×4 = 320. Trained as in lesson 9 (SGD lr 0.01,
momentum 0.5, batch 64).

### What to look at
- The course's result: 98.69 % test accuracy after 10 epochs (all 60,000 training images), better
  than lesson 9's fully connected network (about 97 %) with far fewer parameters (8,490 against
  575,050).
- Convolutions cost more than matrix products: watch the seconds per epoch.
""",
)

COURSE_INPUT = [[3, 4, 6, 5, 7], [2, 4, 6, 8, 2], [1, 6, 7, 8, 4], [9, 7, 4, 6, 2], [3, 7, 5, 4, 1]]
COURSE_KERNEL = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]

PARAMS = (
    TensorParam(name="input", default=None, empty="example", max_size=400,
                help=Text("实验台的输入（二维）", "the explorer's input (2-D)")),
    TensorParam(name="kernel", default=None, empty="example", max_size=100,
                help=Text("实验台的卷积核（二维）", "the explorer's kernel (2-D)")),
    IntParam(name="padding", default=0, min=0, max=10, help=Text("四周补几圈 0", "rings of zeros around the input")),
    IntParam(name="stride", default=1, min=1, max=10, help=Text("卷积核每次移动的步长", "the kernel's step")),
    IntParam(name="pool", default=2, min=1, max=10, help=Text("最大池化的大小（作用在输入上）",
                                                              "max pooling size (applied to the input)")),
    *[p for p in mnist.PARAMS if p.name != "epochs"],
    IntParam(name="epochs", default=10, min=0, max=1000,
             help=Text("训练轮数（0：只运行实验台）", "number of epochs (0: the explorer only)")),
)


def explorer_tensors(hp: Values):
    """The input and kernel as nested lists: the user's, or the course's example."""
    return (COURSE_INPUT if hp.input is None else hp.input), (COURSE_KERNEL if hp.kernel is None else hp.kernel)


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
    rule = {
        "convolution": f"⌊({h} + 2·{hp.padding} − {kh}) / {hp.stride}⌋ + 1 = {side(h, kh, hp.padding, hp.stride)}"
                       + ("" if (h, kh) == (w, kw) else f" by ⌊({w} + 2·{hp.padding} − {kw}) / {hp.stride}⌋ + 1 = "
                                                         f"{side(w, kw, hp.padding, hp.stride)}"),
        "pooling": f"⌊{h} / {hp.pool}⌋ = {h // hp.pool}"
                   + ("" if h == w else f" by ⌊{w} / {hp.pool}⌋ = {w // hp.pool}"),
        "the MNIST CNN": "28 → conv 5 → 24 → pool 2 → 12 → conv 5 → 8 → pool 2 → 4: 20 × 4 × 4 = 320 features",
    }
    yield ViewValue("conv", f"{h}x{w} input, {kh}x{kw} kernel, padding {hp.padding}, stride {hp.stride} → "
                            f"{output.shape[2]}x{output.shape[3]}\n{matrix(output[0, 0].tolist())}")
    yield ViewValue("pool", f"{h}x{w} input, {hp.pool}x{hp.pool} max pooling → "
                            f"{pooled.shape[2]}x{pooled.shape[3]}\n{matrix(pooled[0, 0].tolist())}")
    yield ViewValue("rule", rule)


def make_model():
    """The course's CNN."""
    import torch
    import torch.nn.functional as F

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = torch.nn.Conv2d(10, 20, kernel_size=5)
            self.pooling = torch.nn.MaxPool2d(2)
            self.fc = torch.nn.Linear(320, 10)

        def forward(self, x):                             # x: (N, 1, 28, 28)
            batch_size = x.size(0)
            x = F.relu(self.pooling(self.conv1(x)))       # (N, 10, 24, 24) -> (N, 10, 12, 12)
            x = F.relu(self.pooling(self.conv2(x)))       # (N, 20, 8, 8) -> (N, 20, 4, 4)
            x = x.view(batch_size, -1)                    # (N, 320)
            return self.fc(x)                             # (N, 10)

    return Net()


def train(hp: Values, run):
    """The explorer, then (epochs > 0) the CNN on MNIST."""
    yield from explore(hp)  # no random numbers drawn: training starts from the same seed as without it
    if hp.epochs:
        yield from fit(make_model(), hp, run)


LESSON = Lesson(
    id="cnn-basics",
    number=10,
    title=Text("卷积神经网络基础", "Basic CNN"),
    explanation=EXPLANATION,
    params=PARAMS,
    rules=(shapes_agree,),
    charts=CHARTS,
    views=(View("conv", "text", Text("卷积（torch 计算）", "Convolution (computed by torch)")),
           View("pool", "text", Text("最大池化（torch 计算）", "Max pooling (computed by torch)")),
           View("rule", "values", Text("输出大小的规则", "The output-size rule")),
           *VIEWS),
    train=train,
    threads=mnist.THREADS,  # one: measured, see lessons/mnist.py
    data=lambda hp: ("mnist",) if hp.epochs else (),
)
