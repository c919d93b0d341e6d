"""Lesson 7: multiple-dimension input: 8 features, stacked layers 8 → 6 → 4 → 1, full batch, diabetes."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue

EXPLANATION = Text(
    zh="""\
## 多维特征输入

前几课每个样本只有一个特征 x。这一课的数据 diabetes.csv.gz 有 759 行（759 个病人），
每行 **8 个特征**（怀孕次数、血糖、血压、皮褶厚度、胰岛素、BMI、家族系数、年龄，都已缩放到 [-1, 1]），
最后一列是 0/1 标签。

**一次算完所有样本**：把数据排成矩阵 X，形状 (759, 8)。`nn.Linear(8, 6)` 计算 X·Wᵀ + b，
W 的形状是 (6, 8)，结果是 (759, 6)——一次矩阵乘法就算完 759 个样本，不用写循环。

**层层堆叠**：8 → 6 → 4 → 1，每个线性层后面接一个非线性激活函数（课程用 sigmoid）。
没有激活函数，几个线性层叠起来仍然只是一个线性变换；有了它，网络才能拟合弯曲的边界。
输出层的 sigmoid 把结果变成概率 P(y = 1)，损失是 BCE（对 759 行取平均），优化器 SGD，lr = 0.1。
每个 epoch 用全部数据更新一次（full batch）。

### 65.3 % 的平台
按课程设置训练 100 个 epoch，损失停在约 0.645，准确率 65.3 %。看起来学到了点什么，其实没有：
759 个标签里有 496 个是 1，占 65.3 %。模型 **对每一行都预测 1**（结果里的 “predicted 1” 会告诉你），
它只学会了“多数类”。连 0.645 也不是巧合：对所有行都输出同一个概率 p 时，BCE 最小在 p = 0.653，
最小值 −(0.653·ln 0.653 + 0.347·ln 0.347) ≈ 0.645，正是标签本身的熵。
所以看分类准确率，一定先和“永远猜多数类”的基线比。

为什么卡住？权重初始很小，sigmoid 隐藏层对每一行都输出约 0.5，而 sigmoid 的斜率最大只有 0.25，
梯度每往回传一层就再乘上一个小于 0.25 的数（梯度消失）。最快能学的是输出层的偏置，也就是类别比例；
之后损失曲面几乎是平的，lr = 0.1 的 SGD 要爬很久。

### 怎样越过平台
- **多训练**：sigmoid、lr 0.1，几千个 epoch（随 seed 不同，约 3,000 到 7,000）后损失突然下降；10,000 个 epoch 时损失约 0.463，准确率 76–77 %。
- **更大的学习率**：lr = 1.0 只要约 1,000 个 epoch 就到同样的位置。
- **隐藏层换成 ReLU**（`--activation relu`）：正半轴斜率为 1，梯度不再一层层缩小，
  lr 0.1 约 1,000–2,000 个 epoch 就超过 75 %（换不同的 seed 试试：有的初始化会多卡一阵）。
- 更好的优化器（第 4 课比较过）也有帮助。

注意：这里的准确率是在训练用的同一批数据上算的，没有单独的测试集。
""",
    en="""\
## Multiple-dimension input

So far each sample had one feature x. This lesson's data, diabetes.csv.gz, has 759 rows (patients)
with **8 features** each (pregnancies, glucose, blood pressure, skin thickness, insulin, BMI,
pedigree, age, all scaled to [-1, 1]) and a 0/1 label in the last column.

**All samples at once**: the data form a matrix X of shape (759, 8). `nn.Linear(8, 6)` computes
X·Wᵀ + b with W of shape (6, 8), giving (759, 6): one matrix product handles all 759 rows, no loop.

**Stacked layers**: 8 → 6 → 4 → 1, a non-linear activation after each linear layer (the course
uses sigmoid). Without it, linear layers stacked together are still one linear map; with it, the
network can bend its decision boundary. The sigmoid at the output turns the result into a
probability P(y = 1); the loss is BCE (mean over the 759 rows), the optimizer SGD with lr = 0.1.
Each epoch makes one update from all the data (full batch).

### The 65.3 % plateau
With the course's settings the loss settles near 0.645 after 100 epochs, with 65.3 % accuracy.
That looks like learning, but it is not: 496 of the 759 labels are 1, which is 65.3 %. The model
**predicts 1 for every row** ("predicted 1" in the result says so); it has found the majority
class and nothing else. Even 0.645 is no accident: if the model gives every row the same
probability p, BCE is smallest at p = 0.653, where it is −(0.653·ln 0.653 + 0.347·ln 0.347) ≈ 0.645,
the entropy of the labels themselves. So always compare a classifier's accuracy with the
"always guess the majority class" baseline.

Why does it stall? The weights start small, so the sigmoid hidden layers give about 0.5 for every
row, and a sigmoid's slope is at most 0.25: each layer the gradient passes back through multiplies
it by less than 0.25 (vanishing gradients). The quickest thing to learn is the output's bias, the
class share; after that the loss surface is nearly flat, and SGD at lr 0.1 crawls across it.

### Getting past it
- **Train longer**: with sigmoid and lr 0.1 the loss drops suddenly after several thousand epochs
  (3,000 to 7,000, depending on the seed); at 10,000 epochs it is about 0.463 with 76–77 % accuracy.
- **A larger learning rate**: lr = 1.0 gets there in about 1,000 epochs.
- **ReLU hidden layers** (`--activation relu`): slope 1 for positive inputs, so gradients no
  longer shrink layer by layer; at lr 0.1 accuracy passes 75 % within about 1,000–2,000 epochs
  (try other seeds: some initialisations stay stuck a while longer).
- A better optimizer (compared in lesson 4) helps too.

Note that accuracy here is measured on the very rows the model trains on: there is no test set.
""",
)

PARAMS = (
    FloatParam(name="lr", default=0.1, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    ChoiceParam(name="activation", default="sigmoid", choices=("sigmoid", "relu"),
                help=Text("隐藏层的激活函数（输出层总是 sigmoid）",
                          "activation of the hidden layers (the output is always sigmoid)")),
)


def load_diabetes(path):
    """The course's data as tensors: x_data (N, 8) features, y_data (N, 1) labels 0/1."""
    import numpy as np
    import torch

    xy = np.loadtxt(path, delimiter=",", dtype=np.float32)  # (759, 9), no header
    x_data = torch.from_numpy(xy[:, :-1])   # (759, 8): every column but the last
    y_data = torch.from_numpy(xy[:, [-1]])  # (759, 1): [-1] in a list keeps it a matrix, like y_pred
    return x_data, y_data


def make_model(activation="sigmoid"):
    """The course's 8 → 6 → 4 → 1 network; the class lives in here so that listing lessons does not import torch."""
    import torch

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(8, 6)
            self.linear2 = torch.nn.Linear(6, 4)
            self.linear3 = torch.nn.Linear(4, 1)
            self.activate = torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU()
            self.sigmoid = torch.nn.Sigmoid()  # the output is a probability, whatever the hidden layers use

        def forward(self, x):                      # x: (N, 8)
            x = self.activate(self.linear1(x))     # (N, 6)
            x = self.activate(self.linear2(x))     # (N, 4)
            return self.sigmoid(self.linear3(x))   # (N, 1): P(y = 1) for each row

    return Model()


def accuracy(y_pred, y_data):
    """The share of rows where the predicted class (P ≥ 0.5 means 1) is the label."""
    return ((y_pred >= 0.5) == (y_data == 1)).float().mean().item()


def describe_data(y_data):
    """What a model that always answers the majority class would score: the baseline to beat."""
    rows, ones = len(y_data), int(y_data.sum().item())
    share = max(ones, rows - ones) / rows
    return {"rows": rows, "label 1": f"{ones} of {rows} ({ones / rows:.1%})",
            "always guessing the majority class": f"{share:.1%}"}


def final_result(model, criterion, x_data, y_data):
    """Loss, accuracy and how many rows the trained model calls 1, with the data's baseline."""
    import torch

    with torch.no_grad():
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data).item()
    said_one = int((y_pred >= 0.5).sum().item())
    result = describe_data(y_data)
    result.update({"loss": loss, "accuracy": f"{accuracy(y_pred, y_data):.1%}",
                   "predicted 1": f"{said_one} of {len(y_data)} rows"})
    return result


def train(hp: Values, run):
    """Full-batch SGD on BCE: one update per epoch from all the rows."""
    import torch

    x_data, y_data = load_diabetes(run.data_path("diabetes"))
    x_data, y_data = x_data.to(run.device), y_data.to(run.device)
    model = make_model(hp.activation).to(run.device)
    criterion = torch.nn.BCELoss()  # mean over the rows (the course's size_average=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr)
    yield ViewValue("result", describe_data(y_data))

    for epoch in range(1, hp.epochs + 1):
        y_pred = model(x_data)               # forward: all rows at once, (759, 1)
        loss = criterion(y_pred, y_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield Metric(epoch=epoch, values={"loss": loss.item(), "accuracy": accuracy(y_pred, y_data)})
        if run.should_stop:
            break

    yield ViewValue("result", final_result(model, criterion, x_data, y_data))


LESSON = Lesson(
    id="multi-dim-input",
    number=7,
    title=Text("多维特征输入", "Multiple-dimension input"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("损失（BCE）", "Loss (BCE)"), y=("loss",)),
            Chart(Text("准确率", "Accuracy"), y=("accuracy",))),
    views=(View("result", "values", Text("结果", "Result")),),
    train=train,
    data=("diabetes",),
)
