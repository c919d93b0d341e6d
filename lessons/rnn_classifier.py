"""Lesson 14: a bidirectional GRU reads a surname letter by letter and names its country (18 countries)."""

import csv
import gzip
import unicodedata
from pathlib import Path

from labapp.lesson import (BoolParam, Chart, FloatParam, IntParam, Lesson, Metric, Text, TextParam, TryIt, Values,
                           View, ViewValue, shown)

EXPLANATION = Text(
    zh="""\
## 循环神经网络高级：从姓氏猜国家

数据：names_train（13,374 个姓氏）和 names_test（6,700 个），每个姓氏标着 18 个国家之一。
俄语姓氏占 46.8 %：永远猜 "Russian" 就有 46.8 % 的准确率，模型要比这个好得多才算学到东西。

### 从字母到张量
- 每个字母用它的 **ASCII 码**（0–127）表示："Maclean" → [77, 97, 99, 108, 101, 97, 110]。
  ASCII 以外的字母先去掉重音：Müller → Muller，Strauß → Strauss；剩下读不了的字符略去，
  什么都不剩（空名字、汉字）就给出提示，不会出错。
- 一批名字长短不一，短的在后面 **补 0（padding）** 成矩形 (batch, seq_len)，再转置成
  GRU 要的 (seq_len, batch)。
- **Embedding(128, hidden_size)**：每个码一行，查表得到 (seq_len, batch, hidden_size)。

### 模型：Embedding → GRU → Linear
- **GRU(hidden_size, hidden_size, n_layers, bidirectional=True)**：GRU 是带“门”的 RNN，
  更新门和重置门决定保留多少旧的 h、吸收多少新输入，长序列上比普通 RNN 好训练。
- **双向**：一个方向从左往右读，另一个从右往左读。h_n 的形状是
  (n_layers × 2, batch, hidden_size)；取最后一层的两个方向 `hidden[-1]`、`hidden[-2]`
  拼起来，得到 (batch, 2 × hidden_size)。
- **Linear(2 × hidden_size, 18)** 给出 18 个国家的得分，用 CrossEntropyLoss 训练，Adam lr 0.001。

### pack_padded_sequence
补上的 0 不是名字的一部分，不该被读进 h。`pack_padded_sequence(embedding, seq_lengths)`
把各名字的有效部分按时间步打包：第 t 步只算长度大于 t 的那些名字。它要求一批里的名字
**按长度从长到短排好**，所以每一批先排序。长度必须放在 **cpu** 上，哪怕模型在 cuda 上。

### 看什么
- 训练损失和每个 epoch 的测试准确率：课程的设置下第 5 个 epoch 约 80 %，最好约 85 %（第 14 个 epoch 左右）。
- “张量形状”表：第一批数据经过每一层后的真实形状。
- **试一试**：训练开始后（每个 epoch 结束时更新模型），在训练页的输入框里输入一个姓氏，
  看模型给出的前 3 个国家和概率；命令行用 `--predict Nakamura,Ivanov,Smith`。
  `--save on` 把模型存到运行目录的 model.pt，之后 `--load 路径 --predict 名字` 不用重新训练。
- 各国准确率：样本多的国家（Russian、English、Arabic、Japanese）学得好，样本少的差很多。
""",
    en="""\
## RNN classifier: from a surname to its country

The data: names_train (13,374 surnames) and names_test (6,700), each labelled with one of 18
countries. Russian names make up 46.8 %: always answering "Russian" already scores 46.8 %, so
the model has learnt something only when it does much better.

### From letters to tensors
- Each letter is its **ASCII code** (0 to 127): "Maclean" → [77, 97, 99, 108, 101, 97, 110].
  Letters outside ASCII lose their accents first: Müller → Muller, Strauß → Strauss; what
  still cannot be read is left out, and when nothing is left (an empty name, Chinese
  characters) you get a message, not an error.
- The names of a batch differ in length: the short ones are **padded** with 0 at the end into
  a rectangle (batch, seq_len), then transposed to the (seq_len, batch) that the GRU expects.
- **Embedding(128, hidden_size)**: one row per code, looked up into (seq_len, batch, hidden_size).

### The model: Embedding → GRU → Linear
- **GRU(hidden_size, hidden_size, n_layers, bidirectional=True)**: a GRU is an RNN with gates;
  its update and reset gates decide how much of the old h to keep and how much of the new input
  to take, which makes long sequences easier to train than with a plain RNN.
- **Bidirectional**: one direction reads left to right, the other right to left. h_n has the
  shape (n_layers × 2, batch, hidden_size); the last layer's two directions, `hidden[-1]` and
  `hidden[-2]`, are concatenated into (batch, 2 × hidden_size).
- **Linear(2 × hidden_size, 18)** gives the 18 countries' scores, trained with CrossEntropyLoss
  and Adam at lr 0.001.

### pack_padded_sequence
The padding zeros are not part of a name and must not flow into h.
`pack_padded_sequence(embedding, seq_lengths)` packs the real part of each name step by step:
at step t only the names longer than t are computed. It wants the names of a batch **sorted
from longest to shortest**, so each batch is sorted first. The lengths must be on the **cpu**,
even when the model runs on cuda.

### What to look at
- The training loss and the test accuracy of each epoch: with the course's settings about 80 %
  at epoch 5, and the best about 85 % (around epoch 14).
- The table of tensor shapes: the first batch's real shapes after each layer.
- **Try it**: once training has begun (the model is refreshed at the end of every epoch), type a
  surname into the box on the Train tab and see the model's top 3 countries with their
  probabilities; headless, `--predict Nakamura,Ivanov,Smith`. `--save on` keeps the model as
  model.pt in the run's folder; `--load PATH --predict NAME` then answers without training.
- Accuracy per country: countries with many names (Russian, English, Arabic, Japanese) are
  learnt well, the rare ones much less so.
""",
)

PARAMS = (
    IntParam(name="hidden_size", default=100, min=1, max=1024,
             help=Text("嵌入和 GRU 隐藏层的大小", "size of the embedding and of the GRU's hidden state")),
    IntParam(name="n_layers", default=2, min=1, max=8, help=Text("GRU 的层数", "GRU layers")),
    BoolParam(name="bidirectional", default=True, help=Text("双向 GRU", "bidirectional GRU")),
    IntParam(name="batch_size", default=256, min=1, max=20_000, help=Text("每批的名字数", "names per batch")),
    FloatParam(name="lr", default=0.001, min=0, min_open=True, max=1, help=Text("学习率（Adam）", "learning rate (Adam)")),
    IntParam(name="epochs", default=100, min=1, max=1000, help=Text("训练轮数", "number of epochs")),
    TextParam(name="predict", default=None, empty="none",
              help=Text("训练后要猜的姓氏，逗号分隔", "surnames to try after training, comma-separated")),
    BoolParam(name="save", default=False,
              help=Text("把模型存到运行目录的 model.pt", "save the model as model.pt in the run's folder")),
    TextParam(name="load", default="",
              help=Text("不训练，用这个 model.pt（--save on 存的）回答",
                        "answer with this model.pt (saved with --save on) instead of training")),
)

N_CHARS = 128  # the embedding's rows: one per ASCII code
# Letters that NFKD does not split into an ASCII letter and an accent.
ASCII_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                             "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})


def checkpoint_exists(hp: Values) -> str | None:
    """Rule: a model to load must be a file."""
    if not hp.load:
        return None
    try:
        found = Path(hp.load).expanduser().is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL character
        found = False
    return None if found else f"load: {shown(hp.load)} is not a file: give the model.pt of a run made with --save on"


def to_ascii(name: str) -> str:
    """`name` in the embedding's 128 codes: accents dropped (Müller → Muller), anything else left out."""
    decomposed = unicodedata.normalize("NFKD", name.strip().translate(ASCII_EXTRA))
    return "".join(ch for ch in decomposed if ord(ch) < N_CHARS)


def read_names(path) -> list[tuple[str, str]]:
    """(surname, country) rows: gzip, CSV with quoted fields (two surnames hold a comma)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return [(to_ascii(row[0]), row[1]) for row in csv.reader(f) if len(row) >= 2]


def make_tensors(names, labels):
    """Codes padded with 0 (N, longest), lengths (N,) and labels (N,), all on the cpu."""
    import torch

    lengths = torch.tensor([len(name) for name in names])
    seq = torch.zeros(len(names), int(lengths.max()), dtype=torch.long)
    for i, name in enumerate(names):
        seq[i, :len(name)] = torch.tensor([ord(ch) for ch in name])
    return seq, lengths, torch.tensor(labels)


def sorted_batch(seq, lengths, labels, idx):
    """The names at `idx`, longest first as pack_padded_sequence wants them, cut to the longest."""
    lengths, order = lengths[idx].sort(descending=True)
    idx = idx[order]
    return seq[idx, :int(lengths[0])], lengths, labels[idx]


def make_model(hidden_size, n_layers, bidirectional, n_countries):
    """The course's RNNClassifier; the class lives in here so that listing lessons does not import torch."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    class RNNClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.n_directions = 2 if bidirectional else 1
            self.embedding = torch.nn.Embedding(N_CHARS, hidden_size)
            self.gru = torch.nn.GRU(hidden_size, hidden_size, n_layers, bidirectional=bidirectional)
            self.fc = torch.nn.Linear(hidden_size * self.n_directions, n_countries)

        def forward(self, input, seq_lengths):  # input (batch, seq_len), longest name first
            input = input.t()  # (seq_len, batch)
            hidden = torch.zeros(n_layers * self.n_directions, input.size(1), hidden_size, device=input.device)
            embedding = self.embedding(input)  # (seq_len, batch, hidden_size)
            gru_input = pack_padded_sequence(embedding, seq_lengths.cpu())  # lengths on the cpu, even for cuda
            output, hidden = self.gru(gru_input, hidden)  # hidden (n_layers * n_directions, batch, hidden_size)
            if self.n_directions == 2:
                hidden_cat = torch.cat([hidden[-1], hidden[-2]], dim=1)  # (batch, 2 * hidden_size)
            else:
                hidden_cat = hidden[-1]  # (batch, hidden_size)
            fc_output = self.fc(hidden_cat)  # (batch, n_countries)
            return fc_output

    return RNNClassifier()


def shapes(model, inputs, lengths):
    """The real shapes of a batch through each layer, caught by forward hooks: rows of (tensor, shape)."""
    import torch

    rows = [["inputs (batch, seq_len)", inputs]]
    hooks = {model.embedding: lambda args, out: [["input.t() (seq_len, batch)", args[0]],
                                                 ["embedding (seq_len, batch, hidden)", out]],
             model.gru: lambda args, out: [["packed data (letters, hidden)", args[0].data],
                                           ["hidden (layers·directions, batch, hidden)", out[1]]],
             model.fc: lambda args, out: [["hidden_cat (batch, directions·hidden)", args[0]],
                                          ["fc_output (batch, countries)", out]]}
    handles = [layer.register_forward_hook(lambda m, args, out: rows.extend(hooks[m](args, out))) for layer in hooks]
    try:
        with torch.no_grad():
            model(inputs, lengths)
    finally:
        for handle in handles:
            handle.remove()
    return {"columns": ["tensor", "shape"], "rows": [[name, str(tuple(t.shape))] for name, t in rows]}


def test(model, seq, lengths, device):
    """The predicted country of every name (the names sorted longest first, as packing wants)."""
    import torch

    model.eval()
    with torch.no_grad():
        predicted = [model(seq[i:i + 1024, :int(lengths[i])].to(device), lengths[i:i + 1024]).argmax(dim=1).cpu()
                     for i in range(0, len(lengths), 1024)]
    model.train()
    return torch.cat(predicted)


def snapshot(model, hp, countries, epoch, accuracy):
    """The trained model as plain data on the cpu: what `predict` reads and what --save writes."""
    return {"lesson": "rnn-classifier", "hidden_size": hp.hidden_size, "n_layers": hp.n_layers,
            "bidirectional": hp.bidirectional, "countries": list(countries), "epoch": epoch,
            "test_accuracy": accuracy, "model": {k: v.detach().to("cpu", copy=True)
                                                 for k, v in model.state_dict().items()}}


def load_checkpoint(path):
    """A snapshot saved with --save on; ValueError if the file is not one."""
    import torch

    try:
        state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same plain message
        said = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"{path} is not a model saved by rnn-classifier ({said[:80]})") from None
    if not isinstance(state, dict) or state.get("lesson") != "rnn-classifier":
        raise ValueError(f"{path} is not a model saved by rnn-classifier")
    return state


def predict(state, text: str):
    """The top 3 countries with their probabilities for each comma-separated name of `text`."""
    import torch

    model = make_model(state["hidden_size"], state["n_layers"], state["bidirectional"], len(state["countries"]))
    model.load_state_dict(state["model"])
    model.eval()
    rows = []
    for name in text.split(","):
        name, readable = name.strip(), to_ascii(name)
        if not readable:
            why = "no name given" if not name else "no Latin letters"
            rows.append([name or "(empty)", why, ""])
            continue
        codes = torch.tensor([[ord(ch) for ch in readable]])  # (1, seq_len)
        with torch.no_grad():
            probabilities = model(codes, torch.tensor([len(readable)])).softmax(dim=1)[0]
        top = probabilities.topk(min(3, len(probabilities)))
        shown = name if readable == name else f"{name} → {readable}"
        for rank, (p, i) in enumerate(zip(top.values.tolist(), top.indices.tolist())):
            rows.append([shown if rank == 0 else "", state["countries"][i], f"{p:.1%}"])
    return {"columns": ["name", "country", "probability"], "rows": rows}


def train(hp: Values, run):
    """Adam on cross-entropy over batches sorted by length and packed; test accuracy after each epoch."""
    import torch

    if hp.load:  # no training: the saved model answers
        state = load_checkpoint(hp.load)
        run.keep(state)
        yield ViewValue("checkpoint", {"loaded": hp.load, "trained epochs": state["epoch"],
                                       "its test accuracy": f"{state['test_accuracy']:.1%}"})
        if hp.predict is not None:
            yield ViewValue("predictions", predict(state, hp.predict))
        return

    train_rows = [row for row in read_names(run.data_path("names_train")) if row[0]]
    countries = sorted({country for _, country in train_rows})
    index = {country: i for i, country in enumerate(countries)}
    test_rows = [row for row in read_names(run.data_path("names_test")) if row[0] and row[1] in index]
    train_seq, train_len, train_y = make_tensors(*zip(*[(n, index[c]) for n, c in train_rows]))
    test_seq, test_len, test_y = make_tensors(*zip(*[(n, index[c]) for n, c in test_rows]))
    order = test_len.argsort(descending=True)  # sorted once: every test batch is then longest first
    test_seq, test_len, test_y = test_seq[order], test_len[order], test_y[order]
    majority = max(countries, key=lambda c: int((test_y == index[c]).sum()))
    baseline = float((test_y == index[majority]).float().mean())  # the accuracy of always answering it
    yield ViewValue("data", {"training names": len(train_rows), "test names": len(test_rows),
                             "countries": len(countries), "longest name": f"{train_seq.shape[1]} letters",
                             f"always answering {majority!r}": f"{baseline:.1%}"})

    model = make_model(hp.hidden_size, hp.n_layers, hp.bidirectional, len(countries)).to(run.device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=hp.lr)
    shuffle = torch.Generator().manual_seed(run.seed)
    inputs, lengths, _ = sorted_batch(train_seq, train_len, train_y, torch.arange(min(hp.batch_size, len(train_y))))
    yield ViewValue("shapes", shapes(model, inputs.to(run.device), lengths))
    step, state, best = 0, None, (0.0, 0)
    for epoch in range(1, hp.epochs + 1):
        loss_sum = 0.0
        for idx in torch.randperm(len(train_y), generator=shuffle).split(hp.batch_size):
            inputs, lengths, target = sorted_batch(train_seq, train_len, train_y, idx)
            output = model(inputs.to(run.device), lengths)  # lengths stay on the cpu
            loss = criterion(output, target.to(run.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            step += 1
            loss_sum += loss.item() * len(idx)
            yield Metric(epoch=epoch, step=step, values={"loss": loss.item()})
            if run.should_stop:
                break
        if run.should_stop:
            break
        predicted = test(model, test_seq, test_len, run.device)
        accuracy = float((predicted == test_y).float().mean())
        best = max(best, (accuracy, -epoch))
        state = snapshot(model, hp, countries, epoch, accuracy)
        run.keep(state)  # the model that the Try-it box and --predict answer with
        yield Metric(epoch=epoch, values={"loss": loss_sum / len(train_y)})
        yield Metric(epoch=epoch, values={"accuracy": accuracy}, split="test")

    if state is None:
        return
    yield ViewValue("result", {"best test accuracy": f"{best[0]:.1%} at epoch {-best[1]}",
                               "last test accuracy": f"{state['test_accuracy']:.1%} at epoch {state['epoch']}"})
    rows = [[c, int((test_y == i).sum()), f"{float((predicted[test_y == i] == i).float().mean()):.1%}"]
            for i, c in enumerate(countries) if (test_y == i).any()]
    yield ViewValue("countries", {"columns": ["country", "test names", "accuracy"],
                                  "rows": sorted(rows, key=lambda row: -row[1])})
    if hp.predict is not None:  # an empty text, too, gets its answer: "no name given"
        yield ViewValue("predictions", predict(state, hp.predict))
    if hp.save:
        yield ViewValue("checkpoint", save(state, run))


def save(state, run):
    """Write the model to model.pt in the run's folder; what was done, for the checkpoint view."""
    import torch

    if run.out_dir is None:
        return {"not saved": "this run keeps no folder (--no-record): run without it to save"}
    path = run.out_dir / "model.pt"
    torch.save(state, path)
    run.log(f"saved the model of epoch {state['epoch']} to {path}")
    return {"saved": str(path), "try it": f"labapp run rnn-classifier --load {path} --predict Nakamura"}


LESSON = Lesson(
    id="rnn-classifier",
    number=14,
    title=Text("循环神经网络高级", "RNN classifier: names to countries"),
    explanation=EXPLANATION,
    params=PARAMS,
    rules=(checkpoint_exists,),
    charts=(Chart(Text("训练损失", "Training loss"), y=("loss",)),
            Chart(Text("测试准确率", "Test accuracy"), y=("accuracy",), splits=("test",)),
            Chart(Text("每批的损失", "Loss per batch"), y=("loss",), x="step")),
    views=(View("predictions", "table", Text("前 3 个国家", "Top 3 countries")),
           View("result", "values", Text("结果", "Result")),
           View("data", "values", Text("数据", "Data")),
           View("shapes", "table", Text("张量形状（第一批）", "Tensor shapes (first batch)")),
           View("countries", "table", Text("各国测试准确率", "Test accuracy per country")),
           View("checkpoint", "values", Text("模型文件", "Model file"))),
    train=train,
    threads=1,  # measured: 3.1–4.6 s an epoch on one thread; two threads spin, 2.2 s alone but 13–14 s when shared
    data=lambda hp: () if hp["load"] else ("names_train", "names_test"),  # a loaded model needs no data
    total=lambda hp: 0 if hp["load"] else hp["epochs"],
    try_it=TryIt(prompt=Text("输入一个姓氏，回车：前 3 个国家", "type a surname, Enter: its top 3 countries"),
                 title=Text("试一试", "Try it"), predict=predict),
)
