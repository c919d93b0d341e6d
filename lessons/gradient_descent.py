"""Lesson 2: gradient descent with a hand-derived gradient: batch, stochastic and mini-batch."""

from labapp.lesson import (Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Step, Text, Values, View, ViewValue,
                           every_run)


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
            w_old, w = w, w - hp.lr * grad_val  # the update: w ← w − lr·grad
            steps.append([xs, ys, grad_val])
            yield Step(epoch, batch={"x": xs, "y": ys}, forward={"ŷ = x·w": [forward(x, w_old) for x in xs]},
                       loss=cost(xs, ys, w_old), loss_name="cost", grads={"w": grad_val},
                       before={"w": w_old}, after={"w": w}, lr=hp.lr)
        yield Metric(epoch=epoch, values={"cost": cost_val, "w": w})
        if run.should_stop:
            break
    yield ViewValue("updates", {"columns": ["x", "y", "gradient"], "rows": steps})
    yield ViewValue("result", {"predict(4) before": forward(4, hp.w0), "w": round(w, 6),
                               "predict(4) after": round(forward(4, w), 6)})


PARAMS = (
    ChoiceParam(name="mode", default="batch", choices=("batch", "stochastic", "mini-batch"),
                help=Text("每次更新用全部样本、单个样本还是小批量", "update from all samples, one sample, or a mini-batch")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=1000, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    FloatParam(name="w0", default=1.0, min=-1000, max=1000, help=Text("w 的初始值", "initial w")),
    IntParam(name="batch_size", default=2, min=1, max=3, help=Text("小批量大小（mini-batch）", "mini-batch size (mini-batch mode)")),
)


LESSON = Lesson(
    id="gradient-descent",
    number=2,
    title=Text("梯度下降", "Gradient descent"),
    params=PARAMS,
    charts=(Chart(Text("代价", "Cost"), y=("cost",)), Chart(Text("权重 w", "Weight w"), y=("w",))),
    views=(View("result", "values", Text("结果", "Result")),
           View("updates", "table", Text("最后一个 epoch 的每次更新", "Updates of the last epoch"))),
    train=train,
    step_mode=every_run,
    uses_torch=False,
    labels={"predict(4) before": Text("训练前的 predict(4)", "predict(4) before"),
            "predict(4) after": Text("训练后的 predict(4)", "predict(4) after"),
            "cost": Text("代价", "cost"), "gradient": Text("梯度", "gradient")},
)
