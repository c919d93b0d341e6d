"""Lesson 8: Dataset and DataLoader: the diabetes data in shuffled mini-batches, loaded by worker processes."""

import signal

from labapp.lesson import (BoolParam, Chart, FloatParam, IntParam, Lesson, Metric, Text, Values, View,
                           ViewValue)
from lessons import _diabetes
from lessons._data import DIABETES


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


def make_model():
    """Lesson 7's network, as the course writes it again: 8 → 6 → 4 → 1 with sigmoids."""
    import torch

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(8, 6)
            self.linear2 = torch.nn.Linear(6, 4)
            self.linear3 = torch.nn.Linear(4, 1)
            self.sigmoid = torch.nn.Sigmoid()

        def forward(self, x):                      # x: (N, 8)
            x = self.sigmoid(self.linear1(x))      # (N, 6)
            x = self.sigmoid(self.linear2(x))      # (N, 4)
            return self.sigmoid(self.linear3(x))   # (N, 1): P(y = 1) for each row

    return Model()


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
    dataset = DiabetesDataset(run.data_path(DIABETES.name))
    workers = hp.num_workers > 0
    train_loader = DataLoader(dataset=dataset, batch_size=hp.batch_size, shuffle=hp.shuffle,
                              num_workers=hp.num_workers,
                              persistent_workers=workers,  # start the workers once per run, not every epoch
                              worker_init_fn=ignore_ctrl_c if workers else None)
    model = make_model().to(run.device)
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr)
    yield ViewValue("batches", describe_batches(hp, train_loader))

    iteration, epoch = 0, 0
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
                run.batch(batches, len(train_loader))
                if run.should_stop:
                    break
            if run.should_stop:
                break
            yield Metric(epoch=epoch, values={"loss": loss_sum / len(dataset), "accuracy": correct / len(dataset),
                                              "batches": batches})
    finally:
        # The persistent worker processes end with their loader: now, even when the run stops mid-epoch.
        del train_loader

    yield from _diabetes.after_training(model, criterion, dataset.x_data.to(run.device),
                                        dataset.y_data.to(run.device), epoch)
    yield ViewValue("mistakes", _diabetes.mistakes(model, dataset.x_data.to(run.device), dataset.y_data.to(run.device)))


PARAMS = (
    IntParam(name="batch_size", default=32, min=1, max=759,
             help=Text("每个小批量的样本数", "samples per mini-batch")),
    BoolParam(name="shuffle", default=True, help=Text("每轮打乱样本顺序", "shuffle the samples every epoch")),
    IntParam(name="num_workers", default=2, min=0, max=4,
             help=Text("准备批次的子进程数（0：在训练进程里）", "worker processes that prepare batches (0: none)")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=100, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
)


LESSON = Lesson(
    id="dataset-dataloader",
    number=8,
    title=Text("加载数据集", "Dataset and DataLoader"),
    params=PARAMS,
    charts=(Chart(Text("每轮的损失", "Loss per epoch"), y=("loss",), short=Text("损失", "Loss")),
            Chart(Text("准确率（每轮训练中累计）", "Accuracy (running, during each epoch)"), y=("accuracy",)),
            Chart(Text("每次迭代（每批）的损失", "Loss per iteration"), y=("loss",), x="step",
                  short=Text("每批损失", "Batch loss"))),
    views=(View("batches", "values", Text("小批量", "Mini-batches")),
           View("result", "values", Text("结果", "Result")), _diabetes.MISTAKES),
    train=train,
    data=(DIABETES,),
    headline=_diabetes.HEADLINE,
    labels={**_diabetes.LABELS,
            "samples": Text("样本数", "samples"), "batch size": Text("批大小", "batch size"),
            "batches per epoch": Text("每轮的批次数", "batches per epoch"),
            "rows in the last batch": Text("最后一批的行数", "rows in the last batch"),
            "shuffle": Text("打乱", "shuffle"), "worker processes": Text("子进程数", "worker processes"),
            "batches": Text("批次数", "batches")},
)
