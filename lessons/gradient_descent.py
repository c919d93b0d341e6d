"""Lesson 2: gradient descent with a hand-derived gradient: batch, stochastic and mini-batch."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue

EXPLANATION = Text(
    zh="""\
## 梯度下降

穷举法要把每个 w 都试一遍；梯度下降只需要知道“往哪边走损失会变小”。
对模型 ŷ = x·w，损失 cost(w) = 平均 (x·w − y)²，它对 w 的导数（梯度）可以手算：

    ∂cost/∂w = 平均 2·x·(x·w − y)

梯度指向损失增大的方向，所以每一步沿反方向走一小段：**w ← w − lr · 梯度**。
学习率 lr 决定步子大小：太小走得慢，太大会来回越过最低点，甚至发散（试试 lr = 10）。

三种模式的区别在于每次更新用多少样本：
- **batch（批量）**：每个 epoch 用全部样本算一次平均梯度，更新一次。方向稳定，但每步代价高。
- **stochastic（随机）**：每个样本单独算梯度并立即更新，一个 epoch 更新 3 次。
  更新更频繁、带噪声，噪声有时还能帮助跳出鞍点。
- **mini-batch（小批量）**：每次取 `batch_size` 个样本，是前两者的折中，也是深度学习的默认做法。

图中是每个 epoch 开始时全体数据上的 cost 和 epoch 结束时的 w。
训练前 predict(4) = 4.0；100 个 epoch 后 w ≈ 2，predict(4) ≈ 8。
""",
    en="""\
## Gradient descent

Exhaustive search tries every w; gradient descent only needs to know which way is downhill.
For the model ŷ = x·w the cost is the mean of (x·w − y)², and its derivative (the gradient)
can be worked out by hand:

    ∂cost/∂w = mean of 2·x·(x·w − y)

The gradient points uphill, so each update takes a small step the other way:
**w ← w − lr · gradient**. The learning rate lr sets the step: too small and training crawls,
too large and w jumps back and forth across the minimum or even diverges (try lr = 10).

The three modes differ in how many samples feed one update:
- **batch**: one update per epoch from the mean gradient over all samples. A steady direction,
  but every step costs a full pass.
- **stochastic**: one update per sample, three per epoch. Updates are frequent and noisy, and
  the noise can even help escape saddle points.
- **mini-batch**: `batch_size` samples per update, the middle ground and the usual choice in
  deep learning.

The chart shows the cost over all the data at the start of each epoch and w at its end.
Before training predict(4) = 4.0; after 100 epochs w ≈ 2 and predict(4) ≈ 8.
""",
)

PARAMS = (
    ChoiceParam(name="mode", default="batch", choices=("batch", "stochastic", "mini-batch"),
                help=Text("每次更新用全部样本、单个样本还是小批量", "update from all samples, one sample, or a mini-batch")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=1000, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    FloatParam(name="w0", default=1.0, min=-1000, max=1000, help=Text("w 的初始值", "initial w")),
    IntParam(name="batch_size", default=2, min=1, max=3, help=Text("小批量大小（mini-batch）", "mini-batch size (mini-batch mode)")),
)

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(x, w):
    return x * w


def cost(xs, ys, w):
    """Mean squared error over the samples."""
    total = 0.0
    for x, y in zip(xs, ys):
        y_pred = forward(x, w)
        total += (y_pred - y) ** 2
    return total / len(xs)


def gradient(xs, ys, w):
    """d cost / d w, worked out by hand: the mean of 2·x·(x·w − y)."""
    grad = 0.0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


def batches(hp: Values):
    """The (xs, ys) of each update in one epoch, in order."""
    size = {"batch": len(x_data), "stochastic": 1, "mini-batch": hp.batch_size}[hp.mode]
    for start in range(0, len(x_data), size):
        yield x_data[start:start + size], y_data[start:start + size]


def train(hp: Values, run):
    """Gradient descent on w; one metric per epoch."""
    w = hp.w0
    yield ViewValue("result", {"predict(4) before": forward(4, w)})
    for epoch in range(1, hp.epochs + 1):
        cost_val = cost(x_data, y_data, w)  # over all data, before this epoch's updates
        steps = []
        for xs, ys in batches(hp):
            grad_val = gradient(xs, ys, w)
            w -= hp.lr * grad_val
            steps.append([xs, ys, grad_val])
        yield Metric(epoch=epoch, values={"cost": cost_val, "w": w})
        if run.should_stop:
            break
    yield ViewValue("updates", {"columns": ["x", "y", "gradient"], "rows": steps})
    yield ViewValue("result", {"predict(4) before": forward(4, hp.w0), "w": round(w, 6),
                               "predict(4) after": round(forward(4, w), 6)})


LESSON = Lesson(
    id="gradient-descent",
    number=2,
    title=Text("梯度下降", "Gradient descent"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("代价", "Cost"), y=("cost",)), Chart(Text("权重 w", "Weight w"), y=("w",))),
    views=(View("result", "values", Text("结果", "Result")),
           View("updates", "table", Text("最后一个 epoch 的每次更新", "Updates of the last epoch"))),
    train=train,
    uses_torch=False,
)
