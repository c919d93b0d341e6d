"""The course's MNIST program, shared by lessons 9-12: its params, charts, and train() and test() each epoch.

A lesson brings its model; `train_and_test` does what the course's main loop does with it.
"""

import time

from labapp import confusion
from labapp.lesson import ChoiceParam, Chart, FloatParam, IntParam, Metric, Text, View, ViewValue
from lessons import _mnist_data as mnist_data
from lessons._data import MNIST

REPORT_EVERY = 300  # the course prints the mean loss of every 300 batches
DIGITS = [str(digit) for digit in range(10)]  # the classes, in the order of the model's outputs


def test(model, test_data):
    """The course's test(): the share of test images whose largest output is the label; and every answer,
    as lists (labels, predicted, the probability the model gave its answer) for the confusion matrix."""
    import torch

    model.eval()
    correct, seen, answers = 0, 0, []
    with torch.no_grad():
        for images, labels in test_data.batches(shuffle=False):
            outputs = model(images)
            _, predicted = torch.max(outputs, dim=1)  # the class with the largest output
            correct += (predicted == labels).sum()       # stays on the device: one sync at the end
            seen += len(labels)
            answers.append((labels, predicted, outputs.softmax(dim=1).amax(dim=1)))  # how sure it was
    model.train()
    labels, predicted, probability = (torch.cat(column).tolist() for column in zip(*answers))
    return correct.item() / seen, (labels, predicted, probability)


def train_and_test(model, hp, run):
    """The course's main loop: each epoch train() on every mini-batch, then test(); yields the records."""
    import torch

    train_data, test_data, test_dataset, about = mnist_data.load(run.data_path(MNIST.name), hp, run.device)
    yield ViewValue("data", about)
    model = model.to(run.device)
    criterion = torch.nn.CrossEntropyLoss()  # LogSoftmax + NLLLoss on the raw scores
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr, momentum=hp.momentum)
    batches = -(-len(train_data) // hp.batch_size)  # per epoch, the last one maybe smaller

    saved = run.restore(model=model, optimizer=optimizer)  # {} unless this run continues from a checkpoint
    step = saved.get("step", 0)
    for epoch in range(saved.get("epoch", 0) + 1, hp.epochs + 1):
        start = time.perf_counter()
        # Losses are summed on the device and read only when reported: reading one (.item()) makes
        # the CPU wait for the GPU, and the course's loop would do it after every batch.
        running_loss = epoch_loss = torch.zeros((), device=run.device)
        reported = False
        for batch_idx, (inputs, target) in enumerate(train_data.batches(shuffle=True)):
            optimizer.zero_grad()
            outputs = model(inputs)              # (64, 10)
            loss = criterion(outputs, target)
            loss.backward()
            optimizer.step()

            step += 1
            running_loss = running_loss + loss.detach()
            epoch_loss = epoch_loss + loss.detach()
            if batch_idx % REPORT_EVERY == REPORT_EVERY - 1:  # the course's print
                yield Metric(epoch=epoch, step=step, values={"loss": running_loss.item() / REPORT_EVERY})
                running_loss, reported = torch.zeros((), device=run.device), True
            run.batch(batch_idx + 1, batches)
            if run.should_stop:
                return
        if not reported:  # an epoch shorter than 300 batches: its mean, so that the chart is never empty
            yield Metric(epoch=epoch, step=step, values={"loss": running_loss.item() / (batch_idx + 1)})
        accuracy, answers = test(model, test_data)
        seconds = time.perf_counter() - start
        yield Metric(epoch=epoch, values={"loss": epoch_loss.item() / (batch_idx + 1), "seconds": seconds})
        yield Metric(epoch=epoch, split="test", values={"accuracy": accuracy})
        yield ViewValue("digits", mnist_data.digits(model, test_dataset, run.device))
        yield ViewValue("mistakes", confusion.summary(DIGITS, *answers,
                                                      example=lambda i: test_dataset.data[i].tolist()))
        run.checkpoint(epoch, model=model, optimizer=optimizer, step=step)  # with the random generators: resumable


PARAMS = (
    IntParam(name="batch_size", default=64, min=1, max=10_000, help=Text("每个小批量的图片数", "images per mini-batch")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=10, help=Text("学习率", "learning rate")),
    FloatParam(name="momentum", default=0.5, min=0, max=1, max_open=True, help=Text("SGD 的动量", "SGD momentum")),
    IntParam(name="epochs", default=10, min=1, max=1000, help=Text("训练轮数", "number of epochs")),
    ChoiceParam(name="loader", default="tensors", choices=("tensors", "dataloader"),
                help=Text("tensors：每个数据集只归一化一次再切片；dataloader：课程的 DataLoader，逐张变换",
                          "tensors: each split normalised once, then sliced; dataloader: the course's, per image")),
)

CHARTS = (Chart(Text("训练损失（每轮的平均）", "Training loss (mean per epoch)"), y=("loss",),
                short=Text("损失", "Loss")),
          Chart(Text("测试集准确率", "Test accuracy"), y=("accuracy",), splits=("test",),
                short=Text("测试准确率", "Test acc")),
          Chart(Text("每 300 个批次的平均损失（课程打印的）", "Loss, mean of every 300 batches (the course's print)"),
                y=("loss",), x="step", short=Text("每 300 批损失", "Loss/300"), every=REPORT_EVERY))
VIEWS = (View("data", "values", Text("数据", "Data")),
         View("digits", "text", Text("测试图片：模型的回答（pred）和标签（true）",
                                     "Test digits: the model's answer (pred) and the label (true)")),
         View("mistakes", confusion.KIND, Text("错在哪里：测试集上的混淆矩阵",
                                               "What it gets wrong: the confusion matrix on the test split")))
HEADLINE = ("test", "accuracy")
LABELS = {
    "training images": Text("训练图片", "training images"),
    "test images": Text("测试图片", "test images"),
    "batches per epoch": Text("每轮的批次数", "batches per epoch"),
    "training split": Text("训练集", "training split"),
    "loaded in": Text("读取用时", "loaded in"),
}


def with_epochs(minimum, help):
    """The params of the course's program, with epochs allowed down to `minimum` and its own help."""
    return (*[p for p in PARAMS if p.name != "epochs"],
            IntParam(name="epochs", default=10, min=minimum, max=1000, help=help))
