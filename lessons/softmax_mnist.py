"""Lesson 9: softmax classifier: MNIST digits, a 784-512-256-128-64-10 network, cross-entropy, train() and test()."""

import time

from labapp.lesson import Chart, Lesson, Metric, Text, View, ViewValue
from lessons import mnist

EXPLANATION = Text(
    zh="""\
## 多分类问题：Softmax 分类器

**MNIST**：7 万张手写数字，每张 28×28 个灰度像素，6 万张训练、1 万张测试，标签是 0 到 9。
之前都是二分类，这次有 **10 个类别**。

**Softmax**：最后一层输出 10 个分数 z（logits），可以是任意实数。Softmax 把它们变成概率：
P(类别 i) = exp(zᵢ) / Σⱼ exp(zⱼ)——每个都是正数，加起来等于 1。

**交叉熵**：损失 = −log P(真实类别)；用 one-hot 标签 y 写就是 −Σ yᵢ log ŷᵢ。
PyTorch 的 `nn.CrossEntropyLoss` = `LogSoftmax` + `NLLLoss`，输入是原始分数，
所以模型最后一层是线性层，**后面不接 softmax**（再接一个就成了两次 softmax，训练变差）。

**模型**：每张图先展平成 784 个数（`x.view(-1, 784)`），再经过 784 → 512 → 256 → 128 → 64 → 10，
中间用 ReLU，最后一层不加激活。SGD，lr 0.01，momentum 0.5，batch 64，10 个 epoch。

**transforms**：torchvision 的 MNIST 类给出 0–255 的 PIL 图片。`ToTensor` 变成 (1, 28, 28) 的张量，
取值 0 到 1（通道在前）；`Normalize((0.1307,), (0.3081,))` 减去 MNIST 像素的均值、除以标准差，
输入以 0 为中心、幅度约为 1，SGD 更好走。课程的代码：

    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    train_dataset = datasets.MNIST(root='../dataset/mnist/', train=True,
                                   download=True, transform=transform)
    train_loader = DataLoader(train_dataset, shuffle=True, batch_size=64)
    test_dataset = datasets.MNIST(root='../dataset/mnist/', train=False,
                                  download=True, transform=transform)
    test_loader = DataLoader(test_dataset, shuffle=False, batch_size=64)

每个 epoch，DataLoader 要调用 6 万次 `train_dataset[i]`：每次把存好的字节做成一张 PIL 图片，
对这一张图做 ToTensor 和 Normalize，再把 64 张拼成一批。同样的像素、同样的计算，每个 epoch
用 Python 一张一张地重做一遍——在 CPU 上，这和模型本身的前向、反向传播一样费时，甚至更久。

**为什么 labapp 只准备一次数据**（默认的 `--loader tensors`）：像素不会变，所以 labapp 对一个数据集的
全部图片一次做完同样的两步，得到一个张量 (60000, 1, 28, 28)（188 MB；在 GPU 上训练时就放在 GPU 上），
每个小批量就是从里面按 DataLoader 会打乱出的顺序取出的一片（用同样的随机数）。
数字一样、批次一样、结果一样，在 CPU 上每个 epoch 大约只用一半的时间。`--loader dataloader` 走课程的流程：
比一比每个 epoch 的秒数。（在和别的程序共用的 CPU 上，torch 的第二个线程会让课程的程序再慢上好几倍：
labapp 用一个线程训练这几课。）
数据放不进内存、每个样本要从磁盘读、或者每个 epoch 要随机做数据增强时，DataLoader 仍然是正确的工具。

**train() 和 test()**：课程的 train() 每 300 个批次打印一次平均损失；test() 数一数最大输出
（`torch.max(outputs, dim=1)`）等于标签的测试图片有多少。labapp 把两者都画出来，另外还有每个 epoch 的平均损失。

### 看什么
- 用完整的 6 万张训练，测试准确率大约是 90 %、93 %……第 10 个 epoch 约 97 %（课程的结果）。
- 图表下面的数字：前几张测试图片和几张模型认错的图片，以及模型的回答（pred）和标签（true）。
- `tensors` 和 `dataloader` 每个 epoch 各用几秒（seconds）。
- 全连接网络不管像素之间谁挨着谁；第 10 课的卷积会利用这一点。
""",
    en="""\
## Softmax classifier (MNIST)

**MNIST**: 70,000 handwritten digits, 28x28 grey pixels each, 60,000 to train on and 10,000 to
test; the label is the digit 0-9. So far there were two classes; now there are **ten**.

**Softmax**: the last layer gives 10 scores z (logits), any real numbers. Softmax turns them into
probabilities: P(class i) = exp(zᵢ) / Σⱼ exp(zⱼ), each positive, all summing to 1.

**Cross-entropy**: the loss is −log P(true class); with a one-hot label y, −Σ yᵢ log ŷᵢ. torch's
`nn.CrossEntropyLoss` is `LogSoftmax` followed by `NLLLoss` and takes the raw scores, so the model
ends with a linear layer and **no softmax** (one more would apply softmax twice and train worse).

**The model**: each image is flattened to 784 numbers (`x.view(-1, 784)`), then goes through
784 → 512 → 256 → 128 → 64 → 10 with ReLU in between and nothing after the last layer.
SGD with lr 0.01 and momentum 0.5, batches of 64, 10 epochs.

**Transforms**: torchvision's MNIST class gives PIL images with pixels 0-255. `ToTensor` makes a
(1, 28, 28) tensor in [0, 1] (channel first); `Normalize((0.1307,), (0.3081,))` subtracts MNIST's
mean pixel and divides by its standard deviation, so the inputs are centred on 0 with a spread of
about 1, which SGD handles better. The course's code:

    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    train_dataset = datasets.MNIST(root='../dataset/mnist/', train=True,
                                   download=True, transform=transform)
    train_loader = DataLoader(train_dataset, shuffle=True, batch_size=64)
    test_dataset = datasets.MNIST(root='../dataset/mnist/', train=False,
                                  download=True, transform=transform)
    test_loader = DataLoader(test_dataset, shuffle=False, batch_size=64)

Every epoch the DataLoader calls `train_dataset[i]` 60,000 times: each call makes a PIL image from
the stored bytes and runs ToTensor and Normalize on that one image, and the loader stacks 64 of
them into a batch. The same arithmetic on the same pixels, redone every epoch, one image at a time
in Python: on a CPU it takes as long as the model's own forward and backward passes, or longer.

**Why labapp prepares the data once** (`--loader tensors`, the default): the pixels never change,
so labapp does the same two steps once for all the images of a split, which gives one tensor
(60000, 1, 28, 28) (188 MB; on the GPU when training there), and each mini-batch is a slice of it,
taken in the order the DataLoader would shuffle (with the same random numbers). The same numbers,
the same batches, the same results, and on a CPU an epoch in about half the time. `--loader
dataloader` runs the course's pipeline: compare the seconds per epoch. (On a CPU that other programs
share, torch's second thread can make the course's program several times slower still: labapp
trains these lessons on one thread.) A DataLoader is still the right tool when the
data do not fit in memory, when each sample is read from disk, or when it is augmented at random
every epoch.

**train() and test()**: the course's train() prints the mean loss of every 300 batches; test()
counts the test images whose largest output (`torch.max(outputs, dim=1)`) is the label. labapp
charts both, and the mean loss of each epoch too.

### What to look at
- With all 60,000 training images, test accuracy climbs about 90 %, 93 %, … to about 97 % at
  epoch 10 (the course's results).
- The digits under the charts: the first test images and a few the model gets wrong, with its
  answer (pred) and the label (true).
- The seconds per epoch with `tensors` and with `dataloader`.
- A fully connected network ignores which pixels are neighbours; lesson 10's convolutions use it.
""",
)

PARAMS = mnist.PARAMS

# Charts and views that lessons 9-12 share.
CHARTS = (Chart(Text("训练损失（每个 epoch 的平均）", "Training loss (mean per epoch)"), y=("loss",)),
          Chart(Text("测试集准确率", "Test accuracy"), y=("accuracy",), splits=("test",)),
          Chart(Text("每 300 个批次的平均损失（课程打印的）", "Loss, mean of every 300 batches (the course's print)"),
                y=("loss",), x="step"))
VIEWS = (View("data", "values", Text("数据", "Data")),
         View("digits", "text", Text("测试图片：模型的回答（pred）和标签（true）",
                                     "Test digits: the model's answer (pred) and the label (true)")))


def make_model():
    """The course's network; the class lives in here so that listing lessons does not import torch."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = torch.nn.Linear(784, 512)
            self.l2 = torch.nn.Linear(512, 256)
            self.l3 = torch.nn.Linear(256, 128)
            self.l4 = torch.nn.Linear(128, 64)
            self.l5 = torch.nn.Linear(64, 10)

        def forward(self, x):                  # x: (N, 1, 28, 28)
            x = x.view(-1, 784)                # (N, 784): the image as one row of pixels
            x = torch.relu(self.l1(x))         # (N, 512)
            x = torch.relu(self.l2(x))         # (N, 256)
            x = torch.relu(self.l3(x))         # (N, 128)
            x = torch.relu(self.l4(x))         # (N, 64)
            return self.l5(x)                  # (N, 10): raw scores, no softmax: CrossEntropyLoss has it

    return Net()


def fit(model, hp, run):
    """The course's main loop for lessons 9-12: train() then test() each epoch; yields the records."""
    import torch

    train_data, test_data, test_dataset, about = mnist.load(run.data_path("mnist"), hp, run.device)
    yield ViewValue("data", about)
    model = model.to(run.device)
    criterion = torch.nn.CrossEntropyLoss()  # LogSoftmax + NLLLoss on the raw scores
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.lr, momentum=hp.momentum)

    step = 0
    for epoch in range(1, hp.epochs + 1):
        start = time.perf_counter()
        # Losses are summed on the device and read only when reported: reading one (.item()) makes
        # the CPU wait for the GPU, and the course's loop would do it after every batch.
        running_loss = epoch_loss = torch.zeros((), device=run.device)
        for batch_idx, (inputs, target) in enumerate(train_data.batches(shuffle=True)):
            optimizer.zero_grad()
            outputs = model(inputs)              # (64, 10)
            loss = criterion(outputs, target)
            loss.backward()
            optimizer.step()

            step += 1
            running_loss = running_loss + loss.detach()
            epoch_loss = epoch_loss + loss.detach()
            if batch_idx % 300 == 299:           # the course prints the mean of every 300 batches
                yield Metric(epoch=epoch, step=step, values={"loss": running_loss.item() / 300})
                running_loss = torch.zeros((), device=run.device)
            if run.should_stop:
                return
        accuracy, wrong = mnist.evaluate(model, test_data)
        seconds = time.perf_counter() - start
        yield Metric(epoch=epoch, values={"loss": epoch_loss.item() / (batch_idx + 1), "seconds": seconds})
        yield Metric(epoch=epoch, split="test", values={"accuracy": accuracy})
        yield ViewValue("digits", mnist.digits(model, test_dataset, run.device, wrong))


def train(hp, run):
    """Lesson 9: the fully connected network on MNIST."""
    yield from fit(make_model(), hp, run)


LESSON = Lesson(
    id="softmax-mnist",
    number=9,
    title=Text("多分类问题", "Softmax classifier (MNIST)"),
    explanation=EXPLANATION,
    params=PARAMS,
    charts=CHARTS,
    views=VIEWS,
    train=train,
    threads=mnist.THREADS,  # one: measured, see lessons/mnist.py
    data=("mnist",),
)
