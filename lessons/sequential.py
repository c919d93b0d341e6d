"""Lesson 11: the models of lessons 9 and 10 written with nn.Sequential, and a model summary: layers, shapes, params."""

from labapp.lesson import ChoiceParam, IntParam, Lesson, Text, Values, View, ViewValue
from lessons import mnist
from lessons.softmax_mnist import CHARTS, VIEWS, fit

EXPLANATION = Text(
    zh="""\
## 用 nn.Sequential 搭模型

第 9、10 课的模型都是一层接一层，`forward` 只是按顺序调用各层。这样的模型可以直接写成
`nn.Sequential`：把各层按顺序列出来，它的 `forward` 就是依次调用它们。

    mlp = nn.Sequential(nn.Flatten(),                         # (N, 1, 28, 28) -> (N, 784)
                        nn.Linear(784, 512), nn.ReLU(),
                        nn.Linear(512, 256), nn.ReLU(),
                        nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                        nn.Conv2d(10, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                        nn.Flatten(),                         # (N, 20, 4, 4) -> (N, 320)
                        nn.Linear(320, 10))

`F.relu` 和 `x.view(batch_size, -1)` 这类函数调用要换成模块：`nn.ReLU()`、`nn.Flatten()`。
自己写的模块也能放进去：`--model inception` 和 `--model resnet` 把第 12 课的 Inception 块和残差块放进 Sequential。
有分支（Inception 的四路）或跳跃连接（残差）的地方，还是要在模块里自己写 `forward`。

**模型摘要**：对每一层，喂一张假图片 (1, 1, 28, 28) 看它的输出形状，再数它的参数：
- `Linear(a, b)`：a·b 个权重 + b 个偏置；
- `Conv2d(c_in, c_out, k)`：c_out·c_in·k·k 个权重 + c_out 个偏置；
- ReLU、池化、Flatten 没有参数。
最后一行是总数，等于 `sum(p.numel() for p in model.parameters())`。
同一个种子下，Sequential 版本和课程的类版本按同样的顺序创建各层，初始权重一样，训练结果也一样。
`--epochs 0` 只显示摘要，不训练，也不需要 MNIST。

### 看什么
- 全连接网络有 575,050 个参数，七成在第一层（784·512 + 512 = 401,920）；CNN 只有 8,490 个。
- 卷积层的输出形状怎样一步步变小，展平后正好是最后一个线性层的输入（320、1408、512）。
""",
    en="""\
## Building models with nn.Sequential

The models of lessons 9 and 10 are layers one after another, and their `forward` only calls the
layers in order. Such a model can be written as an `nn.Sequential`: list the layers in order, and
its `forward` calls them one by one.

    mlp = nn.Sequential(nn.Flatten(),                         # (N, 1, 28, 28) -> (N, 784)
                        nn.Linear(784, 512), nn.ReLU(),
                        nn.Linear(512, 256), nn.ReLU(),
                        nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                        nn.Conv2d(10, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
                        nn.Flatten(),                         # (N, 20, 4, 4) -> (N, 320)
                        nn.Linear(320, 10))

Function calls such as `F.relu` and `x.view(batch_size, -1)` become modules: `nn.ReLU()` and
`nn.Flatten()`. Modules of your own fit in too: `--model inception` and `--model resnet` put
lesson 12's Inception and residual blocks into a Sequential. Where the data branch (Inception's four
paths) or skip a layer (the residual connection), a module still writes its own `forward`.

**A model summary**: feed one dummy image (1, 1, 28, 28) through the model, note each layer's output
shape, and count its parameters:
- `Linear(a, b)`: a·b weights + b biases;
- `Conv2d(c_in, c_out, k)`: c_out·c_in·k·k weights + c_out biases;
- ReLU, pooling and Flatten have none.
The last row is the total, the same as `sum(p.numel() for p in model.parameters())`.
With the same seed, a Sequential model creates its layers in the same order as the course's class,
so it starts from the same weights and trains to the same result.
`--epochs 0` shows the summary only: no training, no MNIST needed.

### What to look at
- The fully connected network has 575,050 parameters, 70 % of them in its first layer
  (784·512 + 512 = 401,920); the CNN has 8,490.
- How the convolutions' outputs shrink step by step, and how the flattened size is exactly the
  input of the last linear layer (320, 1408, 512).
""",
)

PARAMS = (
    ChoiceParam(name="model", default="cnn", choices=("mlp", "cnn", "inception", "resnet"),
                help=Text("mlp：第 9 课；cnn：第 10 课；inception、resnet：第 12 课",
                          "mlp: lesson 9; cnn: lesson 10; inception, resnet: lesson 12")),
    *[p for p in mnist.PARAMS if p.name != "epochs"],
    IntParam(name="epochs", default=10, min=0, max=1000,
             help=Text("训练轮数（0：只看摘要）", "number of epochs (0: the summary only)")),
)


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
    from lessons.cnn_advanced import inception_block, residual_block  # lesson 12's blocks

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


def layer_name(name, module):
    """'conv1: Conv2d(1, 10, 5x5)': a layer by its name in the model and what it is."""
    kind = type(module).__name__
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size"):
        kind += f"({module.in_channels}, {module.out_channels}, {module.kernel_size[0]}x{module.kernel_size[1]})"
    elif hasattr(module, "in_features"):
        kind += f"({module.in_features}, {module.out_features})"
    elif kind.endswith("Pool2d"):
        kind += f"({module.kernel_size})"
    return f"{name}: {kind}"


def shape(tensor):
    """'(N, 10, 24, 24)': an output's shape, N for the batch."""
    return "(" + ", ".join(["N", *map(str, tensor.shape[1:])]) + ")"


def summarize(model, input_shape=(1, 28, 28)):
    """A table: each of the model's top-level layers in the order its forward pass calls them, the output
    shape and the parameter count (a layer called twice counts once); the last row is the total."""
    import torch

    rows, counted = [], set()

    def note(name):
        def hook(module, inputs, output):
            params = 0 if id(module) in counted else sum(p.numel() for p in module.parameters())
            counted.add(id(module))
            rows.append([layer_name(name, module), shape(output), params])
        return hook

    hooks = [module.register_forward_hook(note(name)) for name, module in model.named_children()]
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))  # one dummy image: shapes, no random numbers
    finally:
        for hook in hooks:
            hook.remove()
    total = sum(row[2] for row in rows) + sum(p.numel() for p in model.parameters(recurse=False))
    return {"columns": ["layer", "output shape", "params"], "rows": rows + [["total", "", total]]}


def train(hp: Values, run):
    """The summary of the chosen model, then (epochs > 0) training as in lessons 9 and 10."""
    model = make_model(hp.model)
    yield ViewValue("summary", summarize(model))
    if hp.epochs:
        yield from fit(model, hp, run)


LESSON = Lesson(
    id="sequential",
    number=11,
    title=Text("nn.Sequential", "Building models with nn.Sequential"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=CHARTS,
    views=(View("summary", "table", Text("模型摘要", "Model summary")), *VIEWS),
    train=train,
    threads=mnist.THREADS,  # one: measured, see lessons/mnist.py
    data=lambda hp: ("mnist",) if hp.epochs else (),
)
