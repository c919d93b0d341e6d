"""Lesson 4: linear regression with nn.Module, a loss object and an optimizer; optimizers compared."""

import copy
import math

from labapp.lesson import (BoolParam, both, Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, MultiChoiceParam,
                           Text, Values, View, ViewValue)
from lessons._mistakes import ZERO_GRAD_OFF
from lessons._steps import Updates


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


def train_epoch(model, optimizer, criterion, x_data, y_data, zero_grad=True):
    """One full-batch update; returns the loss before it and the predictions it came from."""
    predictions = []

    def closure():  # the course's cycle up to the step: zero_grad, forward, loss, backward
        if zero_grad:  # off: the classic mistake, each backward() adds to the gradients kept from before
            optimizer.zero_grad()
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        loss.backward()
        predictions.append(y_pred)
        return loss

    # LBFGS calls the closure several times per step (and returns the first loss); the others call it once.
    return optimizer.step(closure), predictions[0]


def grad_norm(model) -> float:
    """The length of the gradient that the last step used, over all parameters: ‖(∂loss/∂w, ∂loss/∂b)‖."""
    return sum(float(p.grad.pow(2).sum()) for p in model.parameters() if p.grad is not None) ** 0.5


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
    if not hp.compare:  # step mode follows one model: each update's record
        updates = Updates(models[hp.optimizer], optimizers[hp.optimizer], {"linear.weight": "w", "linear.bias": "b"})
    criterion = getattr(torch.nn, LOSSES[hp.loss])(reduction=hp.reduction)
    predict_before = first(x_test).item()
    # what a checkpoint keeps (--checkpoints on): every compared model and optimizer
    state = {**{f"model {name}": models[name] for name in names}, **{f"optimizer {name}": optimizers[name] for name in names}}
    saved = run.restore(**state)  # {} unless this run continues from a checkpoint
    diverged = saved.get("diverged", {})  # optimizer -> epoch: in a comparison it stops there and the others go on
    norms = []  # zero_grad off: the gradient norm of each epoch's step (the only or the first optimizer)

    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
        for name in names:
            if name in diverged:
                continue
            model = models[name]
            loss, y_pred = train_epoch(model, optimizers[name], criterion, x_data, y_data, hp.zero_grad)
            if not hp.compare:
                yield updates.record(epoch, batch={"x": x_data, "y": y_data}, forward={"ŷ = w·x + b": y_pred}, loss=loss)
            values = {"loss": loss.item(), "w": model.linear.weight.item(), "b": model.linear.bias.item()}
            if not hp.zero_grad:  # what the step used: every gradient since the start, added up
                values["grad_norm"] = grad_norm(model)
                if name == names[0]:
                    norms.append(values["grad_norm"])
            if hp.compare and not all(map(math.isfinite, values.values())):
                diverged[name] = epoch
                continue
            yield Metric(epoch=epoch, values=values, split=name if hp.compare else "train")
        run.checkpoint(epoch, **state, diverged=diverged)
        if run.should_stop or len(diverged) == len(names):
            break

    with torch.no_grad():
        final = {name: {"loss": criterion(model(x_data), y_data).item(), "w": model.linear.weight.item(),
                        "b": model.linear.bias.item(), "predict(4)": model(x_test).item()}
                 for name, model in models.items()}
    if not hp.zero_grad:
        yield ViewValue("mistake", "zero_grad off")  # the label is the explanation, in the user's language
        yield ViewValue("grad norm", {"x": list(range(1, len(norms) + 1)), "y": norms,
                                      "x_label": "epoch", "y_label": "grad_norm"})
    if not hp.compare:
        result = final[hp.optimizer]
        yield ViewValue("result", {"optimizer": describe(hp.optimizer, hp), "predict(4) before": predict_before,
                                   "w": result["w"], "b": result["b"], "predict(4) after": result["predict(4)"]})
        return
    rows = []
    for name in names:
        if name in diverged:
            rows.append([name, both(f"第 {diverged[name]} 轮发散", f"diverged at epoch {diverged[name]}"), "", "", ""])
        else:
            rows.append([name, *final[name].values()])
    yield ViewValue("comparison", {"columns": ["optimizer", "loss(w, b)", "w", "b", "predict(4)"], "rows": rows})
    yield ViewValue("settings", {name: describe(name, hp) for name in names})


def nesterov_needs_momentum(hp: Values) -> str | None:
    """Rule: Nesterov momentum is a look-ahead along the velocity, so there must be one."""
    if hp.nesterov and hp.momentum == 0 and "SGD-momentum" in (hp.compare or (hp.optimizer,)):
        return "nesterov, momentum: Nesterov momentum needs momentum > 0 (momentum is 0)"
    return None


def steps_one_optimizer(hp: Values) -> str | None:
    """Step mode shows the updates of one model, so not those of a comparison."""
    if hp.compare:
        return f"compare: step mode follows one optimizer; leave compare empty (none) to step through {hp.optimizer}"
    return None


PARAMS = (
    ChoiceParam(name="optimizer", default="SGD", choices=tuple(OPTIMIZERS),
                help=Text("优化器（设置了 compare 时不用）", "optimizer (unused when compare is set)")),
    ChoiceParam(name="loss", default="MSE", choices=tuple(LOSSES), help=Text("损失函数", "loss function")),
    ChoiceParam(name="reduction", default="sum", choices=("sum", "mean"),
                help=Text("样本损失求和还是取平均", "sum or average the samples' losses")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    BoolParam(name="zero_grad", default=True,
              help=Text("每步先清零梯度（关：经典错误，梯度不断累加）",
                        "clear the gradients before each step (off: the classic mistake, they add up)")),
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
    # In the workbench and `labapp sweep` the comparison is a sweep over `optimizer`: one recorded run
    # per optimizer, from the same seed (so the same initial weights), curves overlaid and ranked.
    MultiChoiceParam(name="compare", default=(), choices=tuple(OPTIMIZERS), sweep_as="optimizer",
                     help=Text("比较这些优化器，例如 SGD,Adam 或 all（工作台和 labapp sweep 中每个一次运行）",
                               "compare these optimizers, e.g. SGD,Adam or all (a run each in the workbench "
                               "and labapp sweep)")),
)


LESSON = Lesson(
    id="linear-regression",
    number=4,
    title=Text("用PyTorch实现线性回归", "Linear regression with nn.Module"),
    params=PARAMS,
    rules=(nesterov_needs_momentum,),
    charts=(Chart(Text("损失", "Loss"), y=("loss",), splits=()),
            Chart(Text("参数 w 和 b", "Parameters w and b"), y=("w", "b"), splits=(), short=Text("w 和 b", "w, b")),
            Chart(Text("梯度的范数（zero_grad 关掉时）", "Gradient norm (with zero_grad off)"), y=("grad_norm",),
                  splits=(), short=Text("梯度范数", "Grad norm"), needs=(("zero_grad", False),))),
    views=(View("mistake", "text", Text("故意犯的错误", "The mistake made on purpose")),
           View("grad norm", "curve", Text("每步所用梯度的范数", "Norm of the gradient each step used")),
           View("result", "values", Text("结果", "Result")),
           View("comparison", "table", Text("各优化器的最终结果", "Final values per optimizer")),
           View("settings", "values", Text("各优化器的设置", "Optimizer settings"))),
    train=train,
    step_mode=steps_one_optimizer,
    labels={"predict(4) before": Text("训练前的 predict(4)", "predict(4) before"),
            "predict(4) after": Text("训练后的 predict(4)", "predict(4) after"),
            "optimizer": Text("优化器", "optimizer"), "grad_norm": Text("梯度范数", "gradient norm"),
            "zero_grad off": ZERO_GRAD_OFF},
    checkpoints=False,  # can keep them (--checkpoints on); its epochs take microseconds
)
