"""Lesson 8: Dataset and DataLoader: the diabetes data in shuffled mini-batches, loaded by worker processes."""

import signal

from labapp.lesson import (BoolParam, Chart, FloatParam, IntParam, Lesson, Metric, Text, Values, View,
                           ViewValue)
from lessons.multi_dim_input import final_result, make_model

EXPLANATION = Text(
    zh="""\
## 加载数据集：Dataset 和 DataLoader

上一课每个 epoch 用全部 759 行算一次梯度、更新一次（full batch）。另一个极端是每个样本更新一次。
折中的做法是 **小批量（mini-batch）**：每次取 `batch_size` 行。三个词：
- **epoch**：所有样本都参与了一次训练；
- **batch size**：一次前向、反向、更新所用的样本数；
- **iteration**：一次更新。每个 epoch 的 iteration 数 = ⌈759 / 32⌉ = **24**（最后一批只有 23 行）。

**Dataset** 是一个抽象类，继承它并实现两个方法：
- `__getitem__(index)`：按下标返回一个样本 (x, y)；
- `__len__()`：样本总数。
本课的 `DiabetesDataset` 在 `__init__` 里把整个文件读进内存——数据小时这样最简单；
数据大时（比如几万张图片）就只在 `__init__` 里记下文件名，到 `__getitem__` 里再读。

**DataLoader** 负责剩下的事：每个 epoch 打乱下标（`shuffle=True`），按 `batch_size` 分组，
对每个下标调用 `dataset[i]`，再把 32 个样本拼成张量：inputs (32, 8)、labels (32, 1)。
训练循环变成两层：外层是 epoch，内层是 `for inputs, labels in train_loader`。

**num_workers**：用几个子进程并行准备批次（0 表示在训练进程里自己准备）。
- 在 Windows 和 macOS 上子进程是 spawn 出来的：它会重新导入你的程序，所以课程代码要把训练放在
  `if __name__ == '__main__':` 下面，Dataset 类也必须能按名字导入（定义在模块顶层）。
- labapp 让 worker 在整个训练期间常驻（`persistent_workers=True`），停止时会把它们关掉。
- 这个数据集很小、已经在内存里，worker 只会增加开销：比较一下 `--num-workers 0` 和 `2` 的耗时。
  读取一个样本很慢时（解码图片、读文件），worker 才划算。

### 看什么
- 每个 iteration 的损失会抖动：每一批是不同的 32 行；每个 epoch 的损失是这一 epoch 所有批次的平均（按行数加权）。
- 课程设置（batch 32、lr 0.01、100 个 epoch）下损失一直在 0.645 附近，准确率 65.3 %——
  还是第 7 课的平台：模型对每一行都预测 1。虽然每个 epoch 更新 24 次，但 2,400 个 lr 0.01 的小步
  走过的路并不比第 7 课 100 个 lr 0.1 的步子远多少。
- 试试 `--lr 0.5`：100 个 epoch 就能到约 75–77 %；`--lr 0.1` 大约要 300 个 epoch。
  同样越过平台，小批量用的 epoch 比第 7 课的 full batch 少得多——每个 epoch 更新 24 次。
""",
    en="""\
## Dataset and DataLoader

Last lesson made one update per epoch from all 759 rows (full batch). The other extreme is one
update per sample. The middle way is the **mini-batch**: `batch_size` rows per update. Three words:
- **epoch**: every sample has taken part in training once;
- **batch size**: the samples in one forward pass, backward pass and update;
- **iteration**: one update. Iterations per epoch = ⌈759 / 32⌉ = **24** (the last batch has 23 rows).

A **Dataset** is an abstract class: subclass it and write two methods:
- `__getitem__(index)`: one sample (x, y) by its index;
- `__len__()`: how many samples there are.
This lesson's `DiabetesDataset` reads the whole file into memory in `__init__`, the simplest way
for small data; for large data (say, tens of thousands of images) `__init__` keeps only the file
names and `__getitem__` reads each one when asked.

A **DataLoader** does the rest: each epoch it shuffles the indices (`shuffle=True`), groups them
by `batch_size`, calls `dataset[i]` for each and stacks the 32 samples into tensors: inputs
(32, 8) and labels (32, 1). Training becomes two loops: epochs outside,
`for inputs, labels in train_loader` inside.

**num_workers**: how many processes prepare batches in parallel (0: the training process does it).
- On Windows and macOS the workers are spawned: each imports your program afresh, which is why the
  course's code puts training under `if __name__ == '__main__':`, and why the Dataset class must
  be importable by name (defined at the top level of a module).
- labapp keeps its workers for the whole run (`persistent_workers=True`) and shuts them down when
  the run ends or is stopped.
- This dataset is tiny and already in memory, so workers only add overhead: compare the time
  with `--num-workers 0` and `2`. Workers pay off when loading a sample is slow (decoding images,
  reading files).

### What to look at
- The iteration loss jitters: each batch is a different 32 rows. The epoch loss is the mean over
  the epoch's batches (weighted by their rows).
- With the course's settings (batch 32, lr 0.01, 100 epochs) the loss stays near 0.645 and
  accuracy at 65.3 %: lesson 7's plateau again, with the model answering 1 for every row. There
  are 24 updates per epoch, but 2,400 small steps of lr 0.01 cover little more ground than lesson
  7's 100 steps of lr 0.1.
- Try `--lr 0.5`: 100 epochs reach about 75–77 %; `--lr 0.1` takes about 300. Mini-batches get past
  the plateau in far fewer epochs than lesson 7's full batch, because each epoch makes 24 updates.
""",
)

PARAMS = (
    IntParam(name="batch_size", default=32, min=1, max=759,
             help=Text("每个小批量的样本数", "samples per mini-batch")),
    BoolParam(name="shuffle", default=True, help=Text("每个 epoch 打乱样本顺序", "shuffle the samples every epoch")),
    IntParam(name="num_workers", default=2, min=0, max=4,
             help=Text("准备批次的子进程数（0：在训练进程里）", "worker processes that prepare batches (0: none)")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
)


# -- the Dataset -----------------------------------------------------------------------------------
# With num_workers > 0 the DataLoader hands the dataset to its worker processes. Where workers are
# spawned rather than forked (Windows, macOS), the dataset travels pickled, and the worker finds its
# class by name in this module: the class must be a module attribute. But it subclasses torch's
# Dataset, and this module must import without torch (so that listing lessons stays instant). So
# the class is made on first use: by dataset_class() in training, by __getattr__ in a worker.

def _define_dataset_class():
    import numpy as np
    import torch
    from torch.utils.data import Dataset

    class DiabetesDataset(Dataset):
        """The course's Dataset: the whole file in memory, one (x, y) pair per index."""

        def __init__(self, filepath):
            xy = np.loadtxt(filepath, delimiter=",", dtype=np.float32)  # (759, 9)
            self.len = xy.shape[0]
            self.x_data = torch.from_numpy(xy[:, :-1])   # (759, 8)
            self.y_data = torch.from_numpy(xy[:, [-1]])  # (759, 1)

        def __getitem__(self, index):                    # one sample: x (8,), y (1,)
            return self.x_data[index], self.y_data[index]

        def __len__(self):                               # how the DataLoader knows when an epoch ends
            return self.len

    DiabetesDataset.__qualname__ = "DiabetesDataset"  # its name at module level, where pickle looks
    return DiabetesDataset


def dataset_class():
    """The DiabetesDataset class, made on first use and kept as a module attribute."""
    if "DiabetesDataset" not in globals():
        globals()["DiabetesDataset"] = _define_dataset_class()
    return globals()["DiabetesDataset"]


def __getattr__(name):
    """DiabetesDataset for a spawned worker that unpickles the dataset; nothing else."""
    if name == "DiabetesDataset":
        return dataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ignore_ctrl_c(worker_id):
    """Run by each worker process as it starts: Ctrl-C is for the training process, which stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def describe_batches(hp: Values, train_loader):
    """How the DataLoader cuts the rows into mini-batches."""
    rows = len(train_loader.dataset)
    batches = len(train_loader)  # the DataLoader knows: ⌈rows / batch_size⌉
    return {"samples": rows, "batch size": hp.batch_size, "batches per epoch": batches,
            "rows in the last batch": rows - (batches - 1) * hp.batch_size,
            "shuffle": "on" if hp.shuffle else "off", "worker processes": hp.num_workers}


def train(hp: Values, run):
    """Mini-batch SGD on BCE: the DataLoader serves shuffled batches, one update each."""
    import torch
    from torch.utils.data import DataLoader

    DiabetesDataset = dataset_class()
    dataset = DiabetesDataset(run.data_path("diabetes"))
    workers = hp.num_workers > 0
    train_loader = DataLoader(dataset=dataset, batch_size=hp.batch_size, shuffle=hp.shuffle,
                              num_workers=hp.num_workers,
                              persistent_workers=workers,  # start the workers once per run, not every epoch
                              worker_init_fn=ignore_ctrl_c if workers else None)
    model = make_model().to(run.device)  # lesson 7's 8 → 6 → 4 → 1 sigmoid network
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr)
    yield ViewValue("batches", describe_batches(hp, train_loader))

    iteration = 0
    try:
        for epoch in range(1, hp.epochs + 1):
            loss_sum, correct, batches = 0.0, 0, 0
            for inputs, labels in train_loader:            # inputs (32, 8), labels (32, 1)
                inputs, labels = inputs.to(run.device), labels.to(run.device)
                y_pred = model(inputs)
                loss = criterion(y_pred, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

                iteration += 1
                batches += 1
                loss_sum += loss.item() * len(labels)     # the mean of this batch, weighted by its rows
                correct += ((y_pred >= 0.5) == (labels == 1)).sum().item()
                yield Metric(epoch=epoch, step=iteration, values={"loss": loss.item()})
                if run.should_stop:
                    break
            if run.should_stop:
                break
            yield Metric(epoch=epoch, values={"loss": loss_sum / len(dataset), "accuracy": correct / len(dataset),
                                              "batches": batches})
    finally:
        # The persistent worker processes end with their loader: now, even when the run stops mid-epoch.
        del train_loader

    yield ViewValue("result", final_result(model, criterion, dataset.x_data.to(run.device),
                                           dataset.y_data.to(run.device)))


LESSON = Lesson(
    id="dataset-dataloader",
    number=8,
    title=Text("加载数据集", "Dataset and DataLoader"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=(Chart(Text("每个 epoch 的损失", "Loss per epoch"), y=("loss",)),
            Chart(Text("准确率", "Accuracy"), y=("accuracy",)),
            Chart(Text("每个 iteration 的损失", "Loss per iteration"), y=("loss",), x="step")),
    views=(View("batches", "values", Text("小批量", "Mini-batches")),
           View("result", "values", Text("结果", "Result"))),
    train=train,
    data=("diabetes",),
)
