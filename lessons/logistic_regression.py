"""Lesson 6: logistic regression: a sigmoid after nn.Linear, binary cross-entropy, P(pass | hours)."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue, every_run
from lessons._steps import Updates


x_list = [[1.0], [2.0], [3.0]]  # hours of study, (3, 1)
y_list = [[0.0], [0.0], [1.0]]  # passed the exam, (3, 1)
HOURS = [i / 20 for i in range(201)]  # 0, 0.05, ..., 10 for the curve


def make_model():
    """The course's model; the class lives in here so that listing lessons does not import torch."""
    import torch

    class LogisticRegressionModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, x):
            y_pred = torch.sigmoid(self.linear(x))  # (N, 1), each a probability in (0, 1)
            return y_pred

    return LogisticRegressionModel()


def train(hp: Values, run):
    """Full-batch SGD on BCE; then the probability curve and its 0.5 crossing."""
    import torch

    x_data = torch.tensor(x_list, device=run.device)
    y_data = torch.tensor(y_list, device=run.device)
    model = make_model().to(run.device)
    criterion = torch.nn.BCELoss(reduction=hp.reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr)
    updates = Updates(model, optimizer, {"linear.weight": "w", "linear.bias": "b"})  # for step mode

    saved = run.restore(model=model, optimizer=optimizer)  # {} unless this run continues from a checkpoint
    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
        optimizer.zero_grad()
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        loss.backward()
        optimizer.step()
        yield updates.record(epoch, batch={"x": x_data, "y": y_data}, forward={"ŷ = σ(w·x + b)": y_pred}, loss=loss)
        w, b = model.linear.weight.item(), model.linear.bias.item()
        yield Metric(epoch=epoch, values={"loss": loss.item(), "w": w, "b": b})
        run.checkpoint(epoch, model=model, optimizer=optimizer)  # only with --checkpoints on: an epoch is a blink
        if run.should_stop:
            break

    with torch.no_grad():
        p_pass = model(torch.tensor(HOURS, device=run.device).view(-1, 1)).view(-1).tolist()  # (201,)
        p_four = model(torch.tensor([[4.0]], device=run.device)).item()
    crossing = -b / w if w != 0 else None  # σ(w·x + b) = 0.5 where w·x + b = 0
    shown = crossing if crossing is not None and HOURS[0] <= crossing <= HOURS[-1] else None
    yield ViewValue("probability", {"x": HOURS, "y": p_pass, "x_label": "hours", "y_label": "P(pass)",
                                    "hline": 0.5, "vline": shown})
    result = {"w": w, "b": b, "P(pass | 4 hours)": p_four}
    result["P(pass) = 0.5 at hours"] = crossing if crossing is not None else "never (w = 0)"
    yield ViewValue("result", result)


PARAMS = (
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=1000, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    ChoiceParam(name="reduction", default="sum", choices=("sum", "mean"),
                help=Text("样本损失求和还是取平均", "sum or average the samples' losses")),
)


LESSON = Lesson(
    id="logistic-regression",
    number=6,
    title=Text("逻辑回归", "Logistic regression"),
    params=PARAMS,
    charts=(Chart(Text("损失（BCE）", "Loss (BCE)"), y=("loss",)),
            Chart(Text("参数 w 和 b", "Parameters w and b"), y=("w", "b"), short=Text("w 和 b", "w, b"))),
    views=(View("result", "values", Text("结果", "Result")),
           View("probability", "curve", Text("P(及格 | 学习时间)，0.5 线与交点",
                                             "P(pass | hours), the 0.5 line and the crossing"))),
    train=train,
    step_mode=every_run,
    labels={"P(pass | 4 hours)": Text("P(及格 | 4 小时)", "P(pass | 4 hours)"),
            "P(pass) = 0.5 at hours": Text("P(及格) = 0.5 时的小时数", "P(pass) = 0.5 at hours"),
            "hours": Text("小时", "hours"), "P(pass)": Text("P(及格)", "P(pass)")},
    checkpoints=False,  # can keep them (--checkpoints on); its epochs take milliseconds
)
