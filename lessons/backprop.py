"""Lesson 3: backpropagation with autograd: tensors that require grad, backward(), and the update."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue

EXPLANATION = Text(
    zh="""\
## 反向传播

上一课的梯度是手算的；模型一复杂，手算就不现实了。PyTorch 的 **autograd** 会替我们算：

1. 把参数建成张量并设置 `requires_grad=True`，例如 `w = torch.tensor([1.0], requires_grad=True)`。
2. 前向计算 `l = (x * w - y) ** 2` 时，PyTorch 一边算数值，一边记下 **计算图**：
   每个结果张量都带着 `grad_fn`，指向产生它的运算（MulBackward0、SubBackward0、PowBackward0……）。
3. `l.backward()` 从损失出发沿计算图反向走，用链式法则把 ∂l/∂w 累加进 `w.grad`。
4. 更新时用 `w.data`（或 `torch.no_grad()`）修改数值，这一步不能再被记进计算图；
   然后 **`w.grad.data.zero_()` 清零**——梯度是累加的，不清零下一次就会叠加上去。

本课按样本逐个更新（和上一课的 stochastic 模式一样），并展示每个样本的梯度、
最后一次前向计算的计算图，以及训练前后的 predict(4)。

变体：
- **wx**：ŷ = w·x，w 从 1 开始，predict(4) 从 4.0 变为约 8.0。
- **wx+b**：ŷ = w·x + b，多一个参数，图里多一条分支。
- **quadratic**：ŷ = w1·x² + w2·x + b，三个参数都从 1 开始。数据其实是直线，100 个 epoch 后
  predict(4) ≈ 8.544——多余的 x² 项还没有完全退到 0，模型更灵活，收敛也更慢。
""",
    en="""\
## Backpropagation

The last lesson's gradient was derived by hand, which stops being practical as soon as the
model grows. PyTorch's **autograd** does it for us:

1. Make the parameters tensors with `requires_grad=True`, e.g. `w = torch.tensor([1.0], requires_grad=True)`.
2. While computing the forward pass `l = (x * w - y) ** 2`, PyTorch records a **computational
   graph**: each result carries a `grad_fn` naming the operation that made it (MulBackward0,
   SubBackward0, PowBackward0, ...).
3. `l.backward()` walks the graph from the loss back to the leaves and, by the chain rule,
   adds ∂l/∂w into `w.grad`.
4. The update changes the numbers through `w.data` (or under `torch.no_grad()`) so that it is
   not recorded in the graph; then **`w.grad.data.zero_()`** — gradients accumulate, and without
   zeroing the next backward adds onto the old one.

Updates are per sample (like the stochastic mode of the last lesson). The lesson shows each
sample's gradient, the graph of the last forward pass, and predict(4) before and after.

Variants:
- **wx**: ŷ = w·x, w starts at 1; predict(4) goes from 4.0 to about 8.0.
- **wx+b**: ŷ = w·x + b, one more parameter and one more branch in the graph.
- **quadratic**: ŷ = w1·x² + w2·x + b, every parameter starting at 1. The data lie on a line, yet after 100 epochs
  predict(4) ≈ 8.544: the extra x² term has not faded to 0 — a more flexible model converges
  more slowly.
""",
)

PARAMS = (
    ChoiceParam(name="variant", default="wx", choices=("wx", "wx+b", "quadratic"),
                help=Text("模型：w·x、w·x + b 或 w1·x² + w2·x + b", "model: w·x, w·x + b or w1·x² + w2·x + b")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=1000, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
)

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# Initial values of each variant's parameters. The quadratic homework starts every parameter at 1,
# which is what gives the course's predict(4) ≈ 8.544 after 100 epochs (b = 0 would give 8.324).
START = {
    "wx": {"w": 1.0},
    "wx+b": {"w": 1.0, "b": 0.0},
    "quadratic": {"w1": 1.0, "w2": 1.0, "b": 1.0},
}


def forward(x, p, variant):
    """ŷ for one sample; `p` maps parameter names to tensors."""
    if variant == "wx":
        return x * p["w"]
    if variant == "wx+b":
        return x * p["w"] + p["b"]
    return p["w1"] * x ** 2 + p["w2"] * x + p["b"]


def loss(x, y, p, variant):
    y_pred = forward(x, p, variant)
    return (y_pred - y) ** 2


def graph_lines(tensor, names):
    """The chain of grad_fn nodes behind `tensor`, as indented lines; leaves show their names."""
    lines = []

    def visit(fn, depth):
        if fn is None:
            return
        leaf = getattr(fn, "variable", None)
        label = f"AccumulateGrad -> {names.get(id(leaf), 'tensor')}" if leaf is not None else type(fn).__name__
        lines.append("  " * depth + ("└─ " if depth else "") + label)
        for child, _ in fn.next_functions:
            visit(child, depth + 1)

    visit(tensor.grad_fn, 0)
    return lines


def train(hp: Values, run):
    """Per-sample updates with autograd; one metric per epoch."""
    import torch

    p = {name: torch.tensor([value], requires_grad=True, device=run.device)
         for name, value in START[hp.variant].items()}
    names = {id(t): name for name, t in p.items()}
    before = forward(4, p, hp.variant).item()
    yield ViewValue("result", {"predict(4) before": before})

    for epoch in range(1, hp.epochs + 1):
        grads = []
        for x, y in zip(x_data, y_data):
            l = loss(x, y, p, hp.variant)
            l.backward()
            grads.append([x, y] + [t.grad.item() for t in p.values()])
            for t in p.values():
                t.data = t.data - hp.lr * t.grad.data
                t.grad.data.zero_()
        values = {"loss": l.item()}  # the last sample's loss, as the course prints it
        values.update({name: t.item() for name, t in p.items()})
        yield Metric(epoch=epoch, values=values)
        if run.should_stop:
            break

    yield ViewValue("grads", {"columns": ["x", "y"] + [f"∂l/∂{name}" for name in p], "rows": grads})
    yield ViewValue("graph", "\n".join(graph_lines(l, names)))
    after = forward(4, p, hp.variant).item()
    result = {"predict(4) before": before}
    result.update({name: round(t.item(), 6) for name, t in p.items()})
    result["predict(4) after"] = round(after, 6)
    yield ViewValue("result", result)


LESSON = Lesson(
    id="backprop",
    builds_optimizer=False,  # updates w by hand: no torch._dynamo to pre-import
    number=3,
    title=Text("反向传播", "Backpropagation with autograd"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("损失（每个 epoch 最后一个样本）", "Loss (last sample of each epoch)"), y=("loss",)),
            Chart(Text("参数", "Parameters"), y=("w", "b", "w1", "w2"))),
    views=(View("result", "values", Text("结果", "Result")),
           View("grads", "table", Text("最后一个 epoch 各样本的梯度", "Gradients of the last epoch")),
           View("graph", "text", Text("计算图（最后一次前向）", "Computational graph (last forward pass)"))),
    train=train,
)
