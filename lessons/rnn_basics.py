"""Lesson 13: a basic RNN learns to turn "hello" into "ohlol": RNNCell step by step, RNN, embeddings."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue

EXPLANATION = Text(
    zh="""\
## 循环神经网络基础

文字、语音、股价这样的 **序列** 前后相关，长度也不固定。RNN 用 **同一个单元（同一组权重）**
依次处理序列的每一项，并把 **隐藏状态 h** 从这一步带到下一步，h 就是它对“前面读过什么”的记忆：

    h_t = tanh(W_ih · x_t + b_ih + W_hh · h_(t-1) + b_hh)

```
      x1         x2         x3                x5
      ↓          ↓          ↓                 ↓
h0 → [单元] → h1 → [单元] → h2 → [单元] → h3 … [单元] → h5
              ↓          ↓          ↓         ↓
             o1         o2         o3        o5
```
图里每个 [单元] 都是同一个：参数量与序列长度无关。

**任务**：把 "hello" 变成 "ohlol"。字母表 e、h、l、o 编号 0–3，输入 hello = [1, 0, 2, 2, 3]，
目标 ohlol = [3, 1, 2, 3, 2]。每一步都是一个 4 类分类问题，用 CrossEntropyLoss。

### 形状：(seq_len, batch, input_size)
- **RNNCell(input_size, hidden_size)** 一次只走一步：输入 (batch, input_size) 和
  h (batch, hidden_size)，输出新的 h (batch, hidden_size)。整个序列存成
  (seq_len, batch, input_size) = (5, 1, 4)，沿第 0 维循环。
- **RNN(input_size, hidden_size, num_layers)** 一次走完整个序列：输入 (seq_len, batch, input_size)，
  h0 (num_layers, batch, hidden_size)；输出 out (seq_len, batch, hidden_size) 是最后一层
  **每一步** 的 h，h_n (num_layers, batch, hidden_size) 是 **每一层最后一步** 的 h。
  `batch_first=True` 把输入和 out 换成 (batch, seq_len, …)，h0 和 h_n 的形状不变。

### 三个变体
- **rnncell**：输入是 one-hot 向量（4 维），RNNCell(4, 4)。隐藏层大小取 4 = 字母数，
  于是 h 本身就是 4 个字母的得分。5 步的损失相加后一起反向传播。Adam，lr 0.1。
- **rnn**：同一个模型，用一次 nn.RNN(4, 4) 调用算完 5 步：out (5, 1, 4) 变成 (5, 4)，
  和标签 (5,) 算平均损失。Adam，lr 0.05。
- **embedding**：one-hot 维数高、稀疏、不能学习。Embedding(4, 10) 是一张可学习的查找表：
  第 i 行就是第 i 个字母的 10 维稠密向量。之后接 2 层 RNN(10, 隐藏 8) 和 Linear(8, 4)，
  由线性层把 h 变成字母得分，隐藏层大小不必再等于类别数。Adam，lr 0.05。

lr 填 auto 就用课程对所选变体的取值。

### 看什么
- 每个 epoch 的损失和预测出的字符串（这一轮前向计算的结果，更新之前）。
- “张量形状”表列出这次运行里真实张量的形状，对照上面的规则看。
- 15 个 epoch 内，embedding 变体对 seed 0–4 都能得到 "ohlol"；rnncell 只有其中 3 个，rnn 只有 2 个：
  试试 `--seed 1`、`--seed 2`……，或者多训练几个 epoch。one-hot 输入加上“隐藏层就是输出”的限制，
  让前两个变体学得慢。
""",
    en="""\
## Basic RNN

**Sequences** such as text, speech or prices depend on what came before, and their length
varies. An RNN reads a sequence one item at a time with **one and the same cell (the same
weights)**, and carries a **hidden state h** from each step to the next: h is its memory of what
it has read so far:

    h_t = tanh(W_ih · x_t + b_ih + W_hh · h_(t-1) + b_hh)

```
      x1         x2         x3               x5
      ↓          ↓          ↓                ↓
h0 → [cell] → h1 → [cell] → h2 → [cell] → h3 … [cell] → h5
              ↓          ↓          ↓        ↓
             o1         o2         o3       o5
```
Every [cell] in the picture is the same one: the parameter count does not grow with the length.

**The task**: turn "hello" into "ohlol". The letters e, h, l, o are numbered 0 to 3: the input
hello is [1, 0, 2, 2, 3] and the target ohlol [3, 1, 2, 3, 2]. Each step is a 4-class
classification, scored with CrossEntropyLoss.

### Shapes: (seq_len, batch, input_size)
- **RNNCell(input_size, hidden_size)** takes one step: input (batch, input_size) and
  h (batch, hidden_size) give the next h (batch, hidden_size). The whole sequence is stored as
  (seq_len, batch, input_size) = (5, 1, 4), and a loop runs along dimension 0.
- **RNN(input_size, hidden_size, num_layers)** runs the whole sequence in one call: input
  (seq_len, batch, input_size) and h0 (num_layers, batch, hidden_size) give out (seq_len, batch,
  hidden_size), the last layer's h at **every step**, and h_n (num_layers, batch, hidden_size),
  **every layer's** h at the last step. `batch_first=True` makes the input and out
  (batch, seq_len, ...); h0 and h_n keep their shape.

### The three variants
- **rnncell**: one-hot input (4 numbers per letter) into RNNCell(4, 4). The hidden size is 4,
  the number of letters, so h itself holds the four letters' scores. The five steps' losses are
  added up and back-propagated together. Adam, lr 0.1.
- **rnn**: the same model as one nn.RNN(4, 4) call over all five steps: out (5, 1, 4) is viewed
  as (5, 4) and scored against the labels (5,), averaged. Adam, lr 0.05.
- **embedding**: one-hot vectors are wide, sparse and fixed. Embedding(4, 10) is a learnt lookup
  table: row i is a dense 10-number vector for letter i. Then a 2-layer RNN(10, hidden 8) and
  Linear(8, 4), which turns h into letter scores, so the hidden size need not equal the number
  of classes any more. Adam, lr 0.05.

An lr of auto takes the course's value for the chosen variant.

### What to look at
- The loss and the predicted string of each epoch (from that epoch's forward pass, before the
  update).
- The table of tensor shapes lists this run's real tensors: compare them with the rules above.
- Within 15 epochs the embedding variant reaches "ohlol" for each of seeds 0 to 4; rnncell for 3
  of them and rnn for 2: try `--seed 1`, `--seed 2`, ..., or a few more epochs. One-hot inputs, and
  a hidden state that must also be the output, make the first two variants slower learners.
""",
)

COURSE_LR = {"rnncell": 0.1, "rnn": 0.05, "embedding": 0.05}

PARAMS = (
    ChoiceParam(name="variant", default="rnncell", choices=tuple(COURSE_LR),
                help=Text("RNNCell 逐步、整段 RNN，或 Embedding + 2 层 RNN",
                          "RNNCell step by step, RNN over the sequence, or embedding + 2-layer RNN")),
    FloatParam(name="lr", default=None, empty="auto", min=0, min_open=True, max=10,
               help=Text("学习率（auto：rnncell 0.1，rnn 和 embedding 0.05）",
                         "learning rate (auto: 0.1 for rnncell, 0.05 for rnn and embedding)")),
    IntParam(name="epochs", default=15, min=1, max=10_000, help=Text("训练轮数", "number of epochs")),
)

idx2char = ["e", "h", "l", "o"]
x_data = [1, 0, 2, 2, 3]  # "hello"
y_data = [3, 1, 2, 3, 2]  # "ohlol"
one_hot_lookup = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
input_size, hidden_size, batch_size, seq_len = 4, 4, 1, 5
num_class, embedding_size, emb_hidden_size, num_layers = 4, 10, 8, 2


def make_data(variant, device):
    """inputs and labels as the variant's model takes them."""
    import torch

    if variant == "embedding":
        inputs = torch.tensor([x_data], device=device)                 # (batch, seq_len) letter indices
        return inputs, torch.tensor(y_data, device=device)             # labels (seq_len,)
    x_one_hot = [one_hot_lookup[x] for x in x_data]
    inputs = torch.tensor(x_one_hot, dtype=torch.float32, device=device).view(seq_len, batch_size, input_size)
    if variant == "rnncell":
        return inputs, torch.tensor(y_data, device=device).view(-1, 1)  # labels (seq_len, 1): one per step
    return inputs, torch.tensor(y_data, device=device)                 # labels (seq_len * batch,)


def make_model(variant):
    """The variant's model; the classes live in here so that listing lessons does not import torch."""
    import torch

    class CellModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnncell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)

        def forward(self, input, hidden):  # input (batch, input_size), hidden (batch, hidden_size)
            return self.rnncell(input, hidden)  # the next hidden (batch, hidden_size)

    class RNNModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=1)

        def forward(self, input):  # (seq_len, batch, input_size)
            hidden = torch.zeros(1, input.size(1), hidden_size, device=input.device)  # (num_layers, batch, hidden)
            out, _ = self.rnn(input, hidden)  # out (seq_len, batch, hidden_size)
            return out.view(-1, hidden_size)  # (seq_len * batch, hidden_size): the scores of each step

    class EmbeddingModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(input_size, embedding_size)
            self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=emb_hidden_size,
                                    num_layers=num_layers, batch_first=True)
            self.fc = torch.nn.Linear(emb_hidden_size, num_class)

        def forward(self, x):  # (batch, seq_len) letter indices
            hidden = torch.zeros(num_layers, x.size(0), emb_hidden_size, device=x.device)
            x = self.emb(x)  # (batch, seq_len, embedding_size)
            x, _ = self.rnn(x, hidden)  # (batch, seq_len, emb_hidden_size)
            x = self.fc(x)  # (batch, seq_len, num_class)
            return x.view(-1, num_class)  # (batch * seq_len, num_class)

    return {"rnncell": CellModel, "rnn": RNNModel, "embedding": EmbeddingModel}[variant]()


def shapes(model, variant, inputs, labels):
    """The run's real tensors, layer by layer: rows of (tensor, shape, what it is)."""
    import torch

    rows = [["inputs", inputs.shape, "(batch, seq_len): letter indices" if variant == "embedding"
             else "(seq_len, batch, input_size): 'hello' as one-hot rows"]]
    with torch.no_grad():
        if variant == "rnncell":
            hidden = torch.zeros(batch_size, hidden_size, device=inputs.device)
            rows += [["inputs[t]", inputs[0].shape, "one step: (batch, input_size)"],
                     ["hidden", hidden.shape, "(batch, hidden_size), h0 = zeros"],
                     ["rnncell(x, h)", model(inputs[0], hidden).shape, "the next hidden = the scores of e h l o"]]
        elif variant == "rnn":
            h0 = torch.zeros(1, batch_size, hidden_size, device=inputs.device)
            out, h_n = model.rnn(inputs, h0)
            rows += [["h0", h0.shape, "(num_layers, batch, hidden_size)"],
                     ["out", out.shape, "(seq_len, batch, hidden_size): h at every step"],
                     ["h_n", h_n.shape, "(num_layers, batch, hidden_size): h at the last step"],
                     ["out.view(-1, 4)", model(inputs).shape, "one row of scores per step"]]
        else:
            h0 = torch.zeros(num_layers, batch_size, emb_hidden_size, device=inputs.device)
            embedded = model.emb(inputs)
            out, h_n = model.rnn(embedded, h0)
            rows += [["emb(inputs)", embedded.shape, "(batch, seq_len, embedding_size)"],
                     ["h0", h0.shape, "(num_layers, batch, hidden_size): batch_first leaves it"],
                     ["out", out.shape, "(batch, seq_len, hidden_size): the last layer, every step"],
                     ["h_n", h_n.shape, "(num_layers, batch, hidden_size): every layer, last step"],
                     ["fc(out).view(-1, 4)", model(inputs).shape, "one row of scores per step"]]
    rows.append(["labels", labels.shape, "'ohlol' as class indices"])
    return {"columns": ["tensor", "shape", "what it is"], "rows": [[n, str(tuple(s)), w] for n, s, w in rows]}


def train(hp: Values, run):
    """Adam on the cross-entropy of each step; one metric and the predicted string per epoch."""
    import torch

    lr = hp.lr or COURSE_LR[hp.variant]
    inputs, labels = make_data(hp.variant, run.device)
    model = make_model(hp.variant).to(run.device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    yield ViewValue("shapes", shapes(model, hp.variant, inputs, labels))

    history, first_right = [], None
    for epoch in range(1, hp.epochs + 1):
        optimizer.zero_grad()
        if hp.variant == "rnncell":
            loss, steps = 0, []
            hidden = torch.zeros(batch_size, hidden_size, device=run.device)  # h0
            for input, label in zip(inputs, labels):  # input (1, 4), label (1,): one step
                hidden = model(input, hidden)  # h_t from x_t and h_(t-1)
                loss += criterion(hidden, label)  # the five steps' losses, added up
                steps.append(hidden)
            outputs = torch.cat(steps)  # (5, 4): the scores of each step
        else:
            outputs = model(inputs)  # (5, 4): all five steps at once
            loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        predicted_idx = outputs.argmax(dim=1).tolist()  # this epoch's forward pass, before the update
        predicted = "".join(idx2char[i] for i in predicted_idx)
        right = sum(p == y for p, y in zip(predicted_idx, y_data))
        if predicted == "ohlol" and first_right is None:
            first_right = epoch
        history.append([epoch, loss.item(), predicted])
        yield Metric(epoch=epoch, values={"loss": loss.item(), "accuracy": right / seq_len})
        yield ViewValue("prediction", {
            "input": "hello", "target": "ohlol", "predicted": predicted, "letters right": f"{right} of {seq_len}",
            "epoch": epoch, "lr": lr, "first 'ohlol' at epoch": first_right or "not yet: more epochs or another --seed"})
        yield ViewValue("history", {"columns": ["epoch", "loss", "predicted"], "rows": list(history)})
        if run.should_stop:
            break


LESSON = Lesson(
    id="rnn-basics",
    number=13,
    title=Text("循环神经网络基础", "Basic RNN"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("损失", "Loss"), y=("loss",)),
            Chart(Text("预测对的字母比例", "Share of letters right"), y=("accuracy",))),
    views=(View("prediction", "values", Text("预测", "Prediction")),
           View("history", "table", Text("每个 epoch 的预测", "Predictions by epoch")),
           View("shapes", "table", Text("张量形状", "Tensor shapes"))),
    train=train,
)
