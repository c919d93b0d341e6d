"""Lesson 6: logistic regression: a sigmoid after nn.Linear, binary cross-entropy, P(pass | hours)."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue

EXPLANATION = Text(
    zh="""\
## 逻辑回归

线性回归预测的是一个数；分类问题要回答“属于哪一类”。这一课的数据：学习 1、2、3 小时的学生，
考试结果是 不及格、不及格、及格（y = 0, 0, 1）。我们不直接输出 0 或 1，而是输出 **及格的概率**。

**模型**：在 `nn.Linear(1, 1)` 后面接一个 sigmoid，ŷ = σ(w·x + b)，其中 σ(z) = 1 / (1 + e^(−z))。
σ 把任意实数压到 (0, 1) 之间，z = 0 时正好是 0.5，所以 ŷ 可以读作 P(及格 | 学习 x 小时)。

**损失**：二分类交叉熵（BCE），对每个样本

    loss = −[ y·log ŷ + (1 − y)·log(1 − ŷ) ]

y = 1 时只剩 −log ŷ，ŷ 越接近 1 损失越小；y = 0 时只剩 −log(1 − ŷ)。
课程用 `nn.BCELoss(reduction='sum')`（旧代码写作 size_average=False），优化器 SGD，lr = 0.01。

**结果**：除了损失曲线和 w、b，本课画出 x 从 0 到 10 小时的曲线 P(及格 | x)，
以及 0.5 这条线。曲线穿过 0.5 的位置就是 **决策边界**：w·x + b = 0，即 x = −b / w。
训练 1000 个 epoch 后，边界约在 2.4 小时（2.41 到 2.42）——在 2 小时（不及格）和 3 小时（及格）之间。
继续训练，边界会慢慢移向 2.5，曲线也越来越陡。
""",
    en="""\
## Logistic regression

Linear regression predicts a number; classification asks which class. The data: students who
studied 1, 2 and 3 hours, and whether they passed: fail, fail, pass (y = 0, 0, 1). Rather than a
bare 0 or 1, the model outputs the **probability of passing**.

**Model**: a sigmoid after `nn.Linear(1, 1)`: ŷ = σ(w·x + b) with σ(z) = 1 / (1 + e^(−z)).
σ squeezes any real number into (0, 1) and gives exactly 0.5 at z = 0, so ŷ reads as
P(pass | x hours of study).

**Loss**: binary cross-entropy (BCE), for each sample

    loss = −[ y·log ŷ + (1 − y)·log(1 − ŷ) ]

When y = 1 only −log ŷ is left, which shrinks as ŷ approaches 1; when y = 0 only −log(1 − ŷ).
The course uses `nn.BCELoss(reduction='sum')` (size_average=False in older code), SGD, lr = 0.01.

**Results**: besides the loss curve and w, b, the lesson draws P(pass | x) for x from 0 to 10 hours
with the 0.5 line. Where the curve crosses 0.5 is the **decision boundary**: w·x + b = 0, that is
x = −b / w. After 1000 epochs it lies at about 2.4 hours (2.41 to 2.42), between the 2 hours that
failed and the 3 that passed. With more training it creeps towards 2.5 and the curve grows steeper.
""",
)

PARAMS = (
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=1000, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    ChoiceParam(name="reduction", default="sum", choices=("sum", "mean"),
                help=Text("样本损失求和还是取平均", "sum or average the samples' losses")),
)

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

    for epoch in range(1, hp.epochs + 1):
        optimizer.zero_grad()
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        loss.backward()
        optimizer.step()
        w, b = model.linear.weight.item(), model.linear.bias.item()
        yield Metric(epoch=epoch, values={"loss": loss.item(), "w": w, "b": b})
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


LESSON = Lesson(
    id="logistic-regression",
    number=6,
    title=Text("逻辑回归", "Logistic regression"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("损失（BCE）", "Loss (BCE)"), y=("loss",)),
            Chart(Text("参数 w 和 b", "Parameters w and b"), y=("w", "b"))),
    views=(View("result", "values", Text("结果", "Result")),
           View("probability", "curve", Text("P(及格 | 学习时间)，0.5 线与交点",
                                             "P(pass | hours), the 0.5 line and the crossing"))),
    train=train,
)
