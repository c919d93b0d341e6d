"""Lesson 4: linear regression with nn.Module, a loss object and an optimizer; optimizers compared."""

import copy
import math

from labapp.lesson import (BoolParam, Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, MultiChoiceParam,
                           Text, Values, View, ViewValue)

EXPLANATION = Text(
    zh="""\
## 用 PyTorch 实现线性回归

前几课的模型、损失和更新都是手写的；这一课换成 PyTorch 的标准部件，写法从此固定为四步：

1. **准备数据**：x_data、y_data 都是形状 (3, 1) 的张量——3 个样本，每个样本 1 个特征。
2. **用类设计模型**：继承 `nn.Module`，在 `__init__` 里创建 `nn.Linear(1, 1)`
   （它持有权重 w 和偏置 b，并随机初始化），在 `forward` 里写前向计算。
   不需要写 backward：autograd 会根据前向计算自动求梯度。
3. **构造损失和优化器**：`criterion = nn.MSELoss(reduction='sum')`，
   `optimizer = torch.optim.SGD(model.parameters(), lr=0.01)`。
4. **训练循环**：每个 epoch 依次 `zero_grad` → 前向算 ŷ → 算损失 → `backward` → `step`。

训练结束后看 w、b 和 predict(4)：SGD 训练 1000 个 epoch 后 w ≈ 2，b ≈ 0，predict(4) ≈ 8。
只训练 100 个 epoch 时还没有到位：predict(4) 随随机的初始权重而变，大约在 7.5 到 8.1 之间
（试试不同的 --seed）。

**损失与 reduction**：MSE、L1、SmoothL1、Huber 任选。`sum` 把 3 个样本的损失相加，`mean` 取平均，
所以 `mean` 的梯度只有 `sum` 的 1/3：同样的 lr 下走得更慢，1000 个 epoch 后 w 还只有约 1.95。

**优化器**（额外参数只作用于接受它的优化器）：
- SGD：w ← w − lr·梯度。SGD-momentum 多了“速度”，`momentum` 决定保留多少上一步的方向，
  `nesterov` 先按速度看一步再求梯度。
- Adagrad、RMSprop、Adadelta：按梯度平方的历史给每个参数单独缩放步长。
  Adadelta 在 torch 里的默认 lr 是 1.0，lr = 0.01 时几乎不动。
- Adam、AdamW、Adamax：动量加自适应步长，`beta1`、`beta2` 是两个滑动平均的系数。
  AdamW 与 Adam 只差在权重衰减的方式，`weight_decay` 为 0 时两者完全一样。
- ASGD：对参数做平均的 SGD。Rprop：只看梯度的符号，步长自己增减，适合这种全批量的小问题。
- LBFGS：拟牛顿法，一次 step 里要多次重新计算损失，所以 `step` 需要一个闭包 closure，
  由闭包完成 zero_grad、前向、损失和 backward。所有优化器都接受闭包，本课统一这样写。
- `weight_decay` 是 L2 惩罚，除 Rprop 和 LBFGS 外都可用。

**比较优化器**（课程的练习）：`--compare all` 或 `--compare SGD,Adam,LBFGS`。
每个优化器从同一组初始权重出发、同步训练，曲线画在一起，最后用表格列出各自的 loss、w、b 和 predict(4)。
lr = 0.01 时 Adam、Adamax 和 Adagrad 在 1000 个 epoch 内都没有收敛：它们每步大约只移动 lr，
而 SGD 的步长与梯度成正比，远离最优点时走得快得多。
""",
    en="""\
## Linear regression with nn.Module

The earlier lessons wrote the model, the loss and the update by hand. From here on PyTorch's
standard parts take over, and a program always has the same four steps:

1. **Prepare the data**: x_data and y_data are tensors of shape (3, 1): three samples of one feature.
2. **Design the model as a class**: subclass `nn.Module`, create `nn.Linear(1, 1)` in `__init__`
   (it holds the weight w and the bias b, randomly initialised) and compute the output in `forward`.
   There is no backward to write: autograd derives the gradients from the forward pass.
3. **Build the loss and the optimizer**: `criterion = nn.MSELoss(reduction='sum')`,
   `optimizer = torch.optim.SGD(model.parameters(), lr=0.01)`.
4. **Train**: every epoch runs `zero_grad` → forward for ŷ → loss → `backward` → `step`.

Afterwards look at w, b and predict(4): SGD for 1000 epochs ends with w ≈ 2, b ≈ 0, predict(4) ≈ 8.
After only 100 epochs it is not there yet: predict(4) depends on the random initial weights and
lies roughly between 7.5 and 8.1 (try a few values of --seed).

**Loss and reduction**: MSE, L1, SmoothL1 or Huber. `sum` adds the three samples' losses and `mean`
averages them, so the `mean` gradient is a third of the `sum` one: at the same lr training is
slower, and after 1000 epochs w is still about 1.95.

**Optimizers** (each extra param applies to the optimizers that take it):
- SGD: w ← w − lr · gradient. SGD-momentum adds a velocity: `momentum` sets how much of the last
  step's direction is kept, and `nesterov` takes the gradient after a look-ahead step.
- Adagrad, RMSprop, Adadelta scale each parameter's step by its history of squared gradients.
  Adadelta's default lr in torch is 1.0; at lr = 0.01 it hardly moves.
- Adam, AdamW, Adamax combine momentum with adaptive steps; `beta1` and `beta2` are the factors of
  their two moving averages. AdamW differs from Adam only in how it applies weight decay: with
  `weight_decay` 0 the two are identical.
- ASGD is SGD that averages the parameters. Rprop looks only at the sign of the gradient and grows
  or shrinks its own step, which suits a small full-batch problem like this one.
- LBFGS, a quasi-Newton method, re-evaluates the loss several times within one step, so `step`
  takes a closure that does zero_grad, forward, loss and backward. Every torch optimizer accepts a
  closure, so this lesson uses one for all of them.
- `weight_decay` is an L2 penalty, available to all but Rprop and LBFGS.

**Compare optimizers** (the course's exercise): `--compare all` or `--compare SGD,Adam,LBFGS`.
Every optimizer starts from the same initial weights and they train side by side; the curves are
drawn together and a table lists each one's final loss, w, b and predict(4). At lr = 0.01, Adam,
Adamax and Adagrad have not converged after 1000 epochs: their steps are about lr in size, while
SGD's step grows with the gradient, so it moves much faster while it is far from the minimum.
""",
)

# Each optimizer of the lesson: its class in torch.optim, and which of the lesson's extra params it takes.
OPTIMIZERS = {
    "SGD": ("SGD", ("weight_decay",)),
    "SGD-momentum": ("SGD", ("momentum", "nesterov", "weight_decay")),
    "Adam": ("Adam", ("betas", "weight_decay")),
    "AdamW": ("AdamW", ("betas", "weight_decay")),
    "Adagrad": ("Adagrad", ("weight_decay",)),
    "Adadelta": ("Adadelta", ("weight_decay",)),
    "Adamax": ("Adamax", ("betas", "weight_decay")),
    "RMSprop": ("RMSprop", ("weight_decay",)),
    "ASGD": ("ASGD", ("weight_decay",)),
    "Rprop": ("Rprop", ()),
    "LBFGS": ("LBFGS", ()),
}
LOSSES = {"MSE": "MSELoss", "L1": "L1Loss", "SmoothL1": "SmoothL1Loss", "Huber": "HuberLoss"}

PARAMS = (
    ChoiceParam(name="optimizer", default="SGD", choices=tuple(OPTIMIZERS),
                help=Text("优化器（设置了 compare 时不用）", "optimizer (unused when compare is set)")),
    ChoiceParam(name="loss", default="MSE", choices=tuple(LOSSES), help=Text("损失函数", "loss function")),
    ChoiceParam(name="reduction", default="sum", choices=("sum", "mean"),
                help=Text("样本损失求和还是取平均", "sum or average the samples' losses")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=1000, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    FloatParam(name="momentum", default=0.9, min=0, max=1, max_open=True,
               help=Text("动量（SGD-momentum）", "momentum (SGD-momentum)")),
    BoolParam(name="nesterov", default=False, help=Text("Nesterov 动量（SGD-momentum）", "Nesterov momentum (SGD-momentum)")),
    FloatParam(name="beta1", default=0.9, min=0, max=1, max_open=True,
               help=Text("一阶矩系数 β1（Adam、AdamW、Adamax）", "first-moment factor β1 (Adam, AdamW, Adamax)")),
    FloatParam(name="beta2", default=0.999, min=0, max=1, max_open=True,
               help=Text("二阶矩系数 β2（Adam、AdamW、Adamax）", "second-moment factor β2 (Adam, AdamW, Adamax)")),
    FloatParam(name="weight_decay", default=0.0, min=0, max=10,
               help=Text("权重衰减（除 Rprop、LBFGS 外）", "weight decay (all but Rprop and LBFGS)")),
    MultiChoiceParam(name="compare", default=(), choices=tuple(OPTIMIZERS),
                     help=Text("比较这些优化器，例如 SGD,Adam 或 all", "compare these optimizers, e.g. SGD,Adam or all")),
)


def nesterov_needs_momentum(hp: Values) -> str | None:
    """Rule: Nesterov momentum is a look-ahead along the velocity, so there must be one."""
    if hp.nesterov and hp.momentum == 0 and "SGD-momentum" in (hp.compare or (hp.optimizer,)):
        return "nesterov, momentum: Nesterov momentum needs momentum > 0 (momentum is 0)"
    return None


x_list = [[1.0], [2.0], [3.0]]  # (3, 1): three samples, one feature each
y_list = [[2.0], [4.0], [6.0]]


def make_model():
    """The course's model; the class lives in here so that listing lessons does not import torch."""
    import torch

    class LinearModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)  # w and b, randomly initialised

        def forward(self, x):
            y_pred = self.linear(x)  # (N, 1) -> (N, 1)
            return y_pred

    return LinearModel()


def optimizer_settings(name: str, hp: Values) -> dict:
    """The keyword arguments for optimizer `name`: lr, and those of the lesson's extra params it takes."""
    settings = {"lr": hp.lr}
    for extra in OPTIMIZERS[name][1]:
        settings[extra] = (hp.beta1, hp.beta2) if extra == "betas" else hp[extra]
    return settings


def make_optimizer(name: str, parameters, hp: Values):
    """torch.optim's optimizer for `name`, with the lesson's settings."""
    import torch

    return getattr(torch.optim, OPTIMIZERS[name][0])(parameters, **optimizer_settings(name, hp))


def describe(name: str, hp: Values) -> str:
    """The optimizer as the torch call that builds it: 'SGD(lr=0.01, weight_decay=0.0)'."""
    arguments = ", ".join(f"{key}={value}" for key, value in optimizer_settings(name, hp).items())
    return f"{OPTIMIZERS[name][0]}({arguments})"


def train_epoch(model, optimizer, criterion, x_data, y_data) -> float:
    """One full-batch update; returns the loss before it."""

    def closure():  # the course's cycle up to the step: zero_grad, forward, loss, backward
        optimizer.zero_grad()
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        loss.backward()
        return loss

    # LBFGS calls the closure several times per step; the other optimizers call it once.
    return optimizer.step(closure).item()


def train(hp: Values, run):
    """Train one model, or one per compared optimizer side by side from the same initial weights."""
    import torch

    x_data = torch.tensor(x_list, device=run.device)
    y_data = torch.tensor(y_list, device=run.device)
    x_test = torch.tensor([[4.0]], device=run.device)
    names = hp.compare or (hp.optimizer,)
    first = make_model().to(run.device)  # drawn once from the run's seed, then copied for each optimizer
    models = {name: copy.deepcopy(first) for name in names}
    optimizers = {name: make_optimizer(name, models[name].parameters(), hp) for name in names}
    criterion = getattr(torch.nn, LOSSES[hp.loss])(reduction=hp.reduction)
    predict_before = first(x_test).item()
    diverged = {}  # optimizer -> epoch: in a comparison it stops there and the others go on

    for epoch in range(1, hp.epochs + 1):
        for name in names:
            if name in diverged:
                continue
            model = models[name]
            loss = train_epoch(model, optimizers[name], criterion, x_data, y_data)
            values = {"loss": loss, "w": model.linear.weight.item(), "b": model.linear.bias.item()}
            if hp.compare and not all(map(math.isfinite, values.values())):
                diverged[name] = epoch
                continue
            yield Metric(epoch=epoch, values=values, split=name if hp.compare else "train")
        if run.should_stop or len(diverged) == len(names):
            break

    with torch.no_grad():
        final = {name: {"loss": criterion(model(x_data), y_data).item(), "w": model.linear.weight.item(),
                        "b": model.linear.bias.item(), "predict(4)": model(x_test).item()}
                 for name, model in models.items()}
    if not hp.compare:
        result = final[hp.optimizer]
        yield ViewValue("result", {"optimizer": describe(hp.optimizer, hp), "predict(4) before": predict_before,
                                   "w": result["w"], "b": result["b"], "predict(4) after": result["predict(4)"]})
        return
    rows = []
    for name in names:
        if name in diverged:
            rows.append([name, f"diverged at epoch {diverged[name]}", "", "", ""])
        else:
            rows.append([name, *final[name].values()])
    yield ViewValue("comparison", {"columns": ["optimizer", "loss(w, b)", "w", "b", "predict(4)"], "rows": rows})
    yield ViewValue("settings", {name: describe(name, hp) for name in names})


LESSON = Lesson(
    id="linear-regression",
    number=4,
    title=Text("用PyTorch实现线性回归", "Linear regression with nn.Module"),
    explanation=EXPLANATION,
    params=PARAMS,
    rules=(nesterov_needs_momentum,),
    charts=(Chart(Text("损失", "Loss"), y=("loss",), splits=()),
            Chart(Text("参数 w 和 b", "Parameters w and b"), y=("w", "b"), splits=())),
    views=(View("result", "values", Text("结果", "Result")),
           View("comparison", "table", Text("各优化器的最终结果", "Final values per optimizer")),
           View("settings", "values", Text("各优化器的设置", "Optimizer settings"))),
    train=train,
)
