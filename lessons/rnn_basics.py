"""Lesson 13: a basic RNN learns to turn "hello" into "ohlol": RNNCell step by step, RNN, embeddings."""

from labapp.lesson import Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text, Values, View, ViewValue, both
from lessons._shapes import RNN_LABELS, rnn_basics_trace

COURSE_LR = {"rnncell": 0.1, "rnn": 0.05, "embedding": 0.05}

idx2char = ["e", "h", "l", "o"]
x_data = [1, 0, 2, 2, 3]  # "hello"
y_data = [3, 1, 2, 3, 2]  # "ohlol"
one_hot_lookup = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
input_size, hidden_size, batch_size, seq_len = 4, 4, 1, 5
num_class, embedding_size, emb_hidden_size, num_layers = 4, 10, 8, 2


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


def shapes(model, variant, inputs, labels):
    """The run's real tensors, layer by layer: rows of (tensor, shape, what it is)."""
    import torch

    rows = [["inputs", inputs.shape, both("(batch, seq_len)：字母的下标", "(batch, seq_len): letter indices") if variant == "embedding"
             else both("(seq_len, batch, input_size)：'hello' 的独热编码行", "(seq_len, batch, input_size): 'hello' as one-hot rows")]]
    with torch.no_grad():
        if variant == "rnncell":
            hidden = torch.zeros(batch_size, hidden_size, device=inputs.device)
            rows += [["inputs[t]", inputs[0].shape, both("一步：(batch, input_size)", "one step: (batch, input_size)")],
                     ["hidden", hidden.shape, both("(batch, hidden_size)，h0 全为 0", "(batch, hidden_size), h0 = zeros")],
                     ["rnncell(x, h)", model(inputs[0], hidden).shape, both("下一个 hidden = e h l o 的得分", "the next hidden = the scores of e h l o")]]
        elif variant == "rnn":
            h0 = torch.zeros(1, batch_size, hidden_size, device=inputs.device)
            out, h_n = model.rnn(inputs, h0)
            rows += [["h0", h0.shape, "(num_layers, batch, hidden_size)"],
                     ["out", out.shape, both("(seq_len, batch, hidden_size)：每一步的 h", "(seq_len, batch, hidden_size): h at every step")],
                     ["h_n", h_n.shape, both("(num_layers, batch, hidden_size)：最后一步的 h", "(num_layers, batch, hidden_size): h at the last step")],
                     ["out.view(-1, 4)", model(inputs).shape, both("每一步一行得分", "one row of scores per step")]]
        else:
            h0 = torch.zeros(num_layers, batch_size, emb_hidden_size, device=inputs.device)
            embedded = model.emb(inputs)
            out, h_n = model.rnn(embedded, h0)
            rows += [["emb(inputs)", embedded.shape, "(batch, seq_len, embedding_size)"],
                     ["h0", h0.shape, both("(num_layers, batch, hidden_size)：batch_first 不影响它", "(num_layers, batch, hidden_size): batch_first leaves it")],
                     ["out", out.shape, both("(batch, seq_len, hidden_size)：最后一层，每一步", "(batch, seq_len, hidden_size): the last layer, every step")],
                     ["h_n", h_n.shape, both("(num_layers, batch, hidden_size)：每一层，最后一步", "(num_layers, batch, hidden_size): every layer, last step")],
                     ["fc(out).view(-1, 4)", model(inputs).shape, both("每一步一行得分", "one row of scores per step")]]
    rows.append(["labels", labels.shape, both("'ohlol' 的类别下标", "'ohlol' as class indices")])
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

    saved = run.restore(model=model, optimizer=optimizer)  # {} unless this run continues from a checkpoint
    history, first_right = saved.get("history", []), saved.get("first_right")
    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
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
            "input": "hello", "target": "ohlol", "predicted": predicted, "letters right": both(f"{seq_len} 个中 {right} 个", f"{right} of {seq_len}"),
            "epoch": epoch, "lr": lr, "first 'ohlol' at epoch": first_right or both("还没有：多训练几轮，或换一个 seed",
                                                            "not yet: more epochs or another seed")})
        yield ViewValue("history", {"columns": ["epoch", "loss", "predicted"], "rows": list(history)})
        run.checkpoint(epoch, model=model, optimizer=optimizer, history=history, first_right=first_right)
        if run.should_stop:
            break


PARAMS = (
    ChoiceParam(name="variant", default="rnncell", choices=tuple(COURSE_LR),
                help=Text("RNNCell 逐步、整段 RNN，或 Embedding + 2 层 RNN",
                          "RNNCell step by step, RNN over the sequence, or embedding + 2-layer RNN")),
    FloatParam(name="lr", default=None, empty="auto", min=0, min_open=True, max=10,
               help=Text("学习率（auto：rnncell 0.1，rnn 和 embedding 0.05）",
                         "learning rate (auto: 0.1 for rnncell, 0.05 for rnn and embedding)")),
    IntParam(name="epochs", default=15, min=1, max=10_000, help=Text("训练轮数", "number of epochs")),
)


LESSON = Lesson(
    id="rnn-basics",
    number=13,
    title=Text("循环神经网络基础", "Basic RNN"),
    params=PARAMS,
    charts=(Chart(Text("损失", "Loss"), y=("loss",)),
            Chart(Text("预测对的字母比例", "Share of letters right"), y=("accuracy",),
                  short=Text("字母对的比例", "Letters right"))),
    views=(View("prediction", "values", Text("预测", "Prediction")),
           View("history", "table", Text("每轮的预测", "Predictions by epoch")),
           View("shapes", "table", Text("张量形状", "Tensor shapes"))),
    train=train,
    shapes=lambda hp: rnn_basics_trace(hp.variant),
    seed=2,  # the course's result with every variant's defaults: "ohlol" within 15 epochs (seed 0 never gets there)
    labels={**RNN_LABELS, "input": Text("输入", "input"), "target": Text("目标", "target"), "predicted": Text("预测", "predicted"),
            "letters right": Text("对的字母", "letters right"),
            "first 'ohlol' at epoch": Text("第一次得到 'ohlol' 的轮次", "first 'ohlol' at epoch"),
            "tensor": Text("张量", "tensor"), "shape": Text("形状", "shape"), "what it is": Text("含义", "what it is")},
    checkpoints=False,  # can keep them (--checkpoints on); its epochs take milliseconds
)
