"""Lesson 14: a bidirectional GRU reads a surname letter by letter and names its country (18 countries)."""


from labapp import confusion
from labapp.lesson import (BoolParam, both, Chart, FloatParam, IntParam, Lesson, Metric, Text, TextParam, TryIt, Values,
                           View, ViewValue, shown)
from lessons._blocks import watch
from lessons._checkpoint import checkpoint_file, load_checkpoint, snapshot
from lessons._data import NAMES_TEST, NAMES_TRAIN
from lessons._shapes import RNN_LABELS, rnn_classifier_trace
from lessons._names import N_CHARS, make_tensors, read_names, sorted_batch, to_ascii


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
    rows = [["inputs (batch, seq_len)", inputs]]
    seen = {model.embedding: lambda args, out: [["input.t() (seq_len, batch)", args[0]],
                                                ["embedding (seq_len, batch, hidden)", out]],
            model.gru: lambda args, out: [[both("packed.data（字母数, hidden）", "packed.data (letters, hidden)"),
                                           args[0].data],
                                          [both("hidden（层数·方向数, batch, hidden）",
                                                "hidden (layers·directions, batch, hidden)"), out[1]]],
            model.fc: lambda args, out: [[both("hidden_cat（batch, 方向数·hidden）", "hidden_cat (batch, directions·hidden)"),
                                          args[0]],
                                         [both("fc_output（batch, 国家数）", "fc_output (batch, countries)"), out]]}
    watch(model, [inputs, lengths], {layer: lambda m, args, out: rows.extend(seen[m](args, out)) for layer in seen})
    return {"columns": ["tensor", "shape"], "rows": [[name, str(tuple(t.shape))] for name, t in rows]}


def test(model, seq, lengths, device):
    """The predicted country of every name and the probability the model gives it (the names sorted longest
    first, as packing wants)."""
    import torch

    model.eval()
    with torch.no_grad():
        outputs = [model(seq[i:i + 1024, :int(lengths[i])].to(device), lengths[i:i + 1024])
                   for i in range(0, len(lengths), 1024)]
    model.train()
    probability, predicted = torch.cat(outputs).softmax(dim=1).max(dim=1)  # the likeliest country, how likely
    return predicted.cpu(), probability.cpu()


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
            why = both("没有输入姓氏", "no name given") if not name else both("没有拉丁字母", "no Latin letters")
            rows.append([name or both("（空）", "(empty)"), why, ""])
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
        yield ViewValue("checkpoint", {"loaded": state["file"], "trained epochs": state["epoch"],
                                       "its test accuracy": f"{state['test_accuracy']:.1%}"})
        if hp.predict is not None:
            yield ViewValue("predictions", predict(state, hp.predict))
        return

    train_rows = [row for row in read_names(run.data_path(NAMES_TRAIN.name)) if row[0]]
    countries = sorted({country for _, country in train_rows})
    index = {country: i for i, country in enumerate(countries)}
    test_rows = [row for row in read_names(run.data_path(NAMES_TEST.name)) if row[0] and row[1] in index]
    train_seq, train_len, train_y = make_tensors(*zip(*[(n, index[c]) for n, c in train_rows]))
    test_seq, test_len, test_y = make_tensors(*zip(*[(n, index[c]) for n, c in test_rows]))
    order = test_len.argsort(descending=True)  # sorted once: every test batch is then longest first
    test_seq, test_len, test_y = test_seq[order], test_len[order], test_y[order]
    test_names = [test_rows[i][0] for i in order.tolist()]
    majority = max(countries, key=lambda c: int((test_y == index[c]).sum()))
    baseline = float((test_y == index[majority]).float().mean())  # the accuracy of always answering it
    longest = train_seq.shape[1]
    yield ViewValue("data", {"training names": len(train_rows), "test names": len(test_rows),
                             "countries": len(countries), "longest name": both(f"{longest} 个字母", f"{longest} letters"),
                             "always answering the most common": both(f"{COUNTRY_ZH.get(majority, majority)}：{baseline:.1%}",
                                                                      f"{majority}: {baseline:.1%}")})

    model = make_model(hp.hidden_size, hp.n_layers, hp.bidirectional, len(countries)).to(run.device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=hp.lr)
    shuffle = torch.Generator().manual_seed(run.seed)
    inputs, lengths, _ = sorted_batch(train_seq, train_len, train_y, torch.arange(min(hp.batch_size, len(train_y))))
    yield ViewValue("shapes", shapes(model, inputs.to(run.device), lengths))
    saved = run.restore(model=model, optimizer=optimizer, shuffle=shuffle)  # {} unless resuming a checkpoint
    step, state, best = saved.get("step", 0), None, tuple(saved.get("best", (0.0, 0)))
    batches = -(-len(train_y) // hp.batch_size)  # per epoch
    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
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
            run.batch(step - (epoch - 1) * batches, batches)
            if run.should_stop:
                break
        if run.should_stop:
            break
        predicted, probability = test(model, test_seq, test_len, run.device)
        accuracy = float((predicted == test_y).float().mean())
        best = max(best, (accuracy, -epoch))
        state = snapshot(model, hp, countries, epoch, accuracy)
        run.keep(state)  # the model that the Try-it box and --predict answer with
        yield Metric(epoch=epoch, values={"loss": loss_sum / len(train_y)})
        yield Metric(epoch=epoch, values={"accuracy": accuracy}, split="test")
        yield ViewValue("mistakes", confusion.summary(countries, test_y.tolist(), predicted.tolist(),
                                                      probability.tolist(), example=lambda i: test_names[i]))
        run.checkpoint(epoch, model=model, optimizer=optimizer, shuffle=shuffle, step=step, best=list(best),
                       countries=countries)  # what --resume continues from, and --load answers with

    if state is None:
        return
    yield ViewValue("result", {"best test accuracy": both(f"{best[0]:.1%}（第 {-best[1]} 轮）", f"{best[0]:.1%} at epoch {-best[1]}"),
                               "last test accuracy": both(f"{state['test_accuracy']:.1%}（第 {state['epoch']} 轮）",
                                                          f"{state['test_accuracy']:.1%} at epoch {state['epoch']}")})
    if hp.predict is not None:  # an empty text, too, gets its answer: "no name given"
        yield ViewValue("predictions", predict(state, hp.predict))


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
    TextParam(name="load", default="",
              help=Text("不训练，用这次运行（运行目录）最好的检查点回答",
                        "answer with the best checkpoint of this run (its folder) instead of training")),
)

def checkpoint_exists(hp: Values) -> str | None:
    """Rule: a model to load must be a run folder with a checkpoint, or a checkpoint file."""
    if not hp.load:
        return None
    try:
        found = checkpoint_file(hp.load).is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL character
        found = False
    return None if found else (f"load: {shown(hp.load)} has no checkpoint: give the folder of an rnn-classifier run "
                               "that finished an epoch (`labapp runs --lesson rnn-classifier` lists them)")


COUNTRY_ZH = {"Arabic": "阿拉伯", "Chinese": "中国", "Czech": "捷克", "Dutch": "荷兰", "English": "英国",
              "French": "法国", "German": "德国", "Greek": "希腊", "Irish": "爱尔兰", "Italian": "意大利",
              "Japanese": "日本", "Korean": "韩国", "Polish": "波兰", "Portuguese": "葡萄牙", "Russian": "俄罗斯",
              "Scottish": "苏格兰", "Spanish": "西班牙", "Vietnamese": "越南"}

LABELS = {
    # the views' keys and columns
    "training names": Text("训练姓氏", "training names"), "test names": Text("测试姓氏", "test names"),
    "countries": Text("国家数", "countries"),
    "always answering the most common": Text("永远回答最常见的国家", "always answering the most common"), "longest name": Text("最长的姓氏", "longest name"),
    "best test accuracy": Text("最好的测试准确率", "best test accuracy"),
    "last test accuracy": Text("最后的测试准确率", "last test accuracy"),
    "country": Text("国家", "country"), "probability": Text("概率", "probability"), "name": Text("姓氏", "name"),
    "tensor": Text("张量", "tensor"), "shape": Text("形状", "shape"),
    "loaded": Text("读取的文件", "loaded"), "trained epochs": Text("训练过的轮数", "trained epochs"),
    "its test accuracy": Text("它的测试准确率", "its test accuracy"),
    "try it": Text("试一试", "try it"),
    **{country: Text(zh, country) for country, zh in COUNTRY_ZH.items()},  # the data's 18 countries
}


LESSON = Lesson(
    id="rnn-classifier",
    number=14,
    title=Text("循环神经网络高级", "RNN classifier: names to countries"),
    params=PARAMS,
    rules=(checkpoint_exists,),
    charts=(Chart(Text("训练损失", "Training loss"), y=("loss",), short=Text("损失", "Loss")),
            Chart(Text("测试准确率", "Test accuracy"), y=("accuracy",), splits=("test",), short=Text("测试准确率", "Test acc")),
            Chart(Text("每批的损失", "Loss per batch"), y=("loss",), x="step", short=Text("每批损失", "Batch loss"))),
    views=(View("predictions", "table", Text("前 3 个国家", "Top 3 countries")),
           View("result", "values", Text("结果", "Result")),
           View("data", "values", Text("数据", "Data")),
           View("shapes", "table", Text("张量形状（第一批）", "Tensor shapes (first batch)")),
           View("mistakes", confusion.KIND, Text("错在哪里：测试集上的混淆矩阵",
                                                 "What it gets wrong: the confusion matrix on the test split")),
           View("checkpoint", "values", Text("模型文件", "Model file"))),
    train=train,
    data=(NAMES_TRAIN, NAMES_TEST),
    reads_data=lambda hp: not hp["load"],  # a loaded model needs no data
    total=lambda hp: 0 if hp["load"] else hp["epochs"],
    try_it=TryIt(prompt=Text("输入一个姓氏，回车：前 3 个国家", "type a surname, Enter: its top 3 countries"),
                 title=Text("试一试", "Try it"), predict=predict),
    headline=("test", "accuracy"),
    checkpoints=True,  # an epoch takes seconds on a cpu, and the course trains 100
    shapes=lambda hp: rnn_classifier_trace(hp.hidden_size, hp.n_layers, hp.bidirectional),
    labels={**LABELS, **RNN_LABELS},
)
