"""The classic mistakes that lessons 3, 4, 9 and 12 let a learner make on purpose: what each one does, in both languages.

A lesson that makes one yields ViewValue("mistake", KEY); its labels map KEY to the explanation below,
so that the view reads in the user's language (the Results panel and `labapp run` alike). The lines are
broken here because a view never wraps them.
"""

import dataclasses
import re
import textwrap

from labapp.lesson import Text, View

COLUMNS = 76


def _lines_zh(text: str) -> str:
    """Chinese text broken into lines of at most COLUMNS columns (a Chinese character takes two), never inside a
    run of Latin letters such as `zero_grad()`."""
    lines, line, width = [], "", 0
    for word in re.findall(r"[\x21-\x7e]+|.", text):  # a run of ASCII, or one other character
        size = len(word) if word.isascii() else 2 * len(word)
        if width + size > COLUMNS and line and word not in "，。；：）、":  # no line starts with punctuation
            lines.append(line.rstrip())
            line, width = "", 0
        if line or word != " ":
            line, width = line + word, width + size
    return "\n".join(lines + [line])


def explained(zh: str, en: str) -> Text:
    """An explanation with its lines broken for a view."""
    return Text(_lines_zh(zh), textwrap.fill(en, COLUMNS))


ZERO_GRAD_OFF = explained(
    "zero_grad 关掉了：backward() 不会覆盖 .grad，而是把新梯度加到旧梯度上。不清零，第 t 步用的就是前 t 步梯度之和，"
    "像一个没有摩擦的动量：开头几步梯度范数一路变大，参数冲过最低点，等累加的梯度转向时又冲回来，"
    "就这样来回振荡，损失忽高忽低，永远停不下来（看梯度范数图和损失图）；学习率再大一点，"
    "振荡会越来越大，最后发散（inf/nan）。所以课程每一步都先把梯度清零（optimizer.zero_grad() 或 w.grad.data.zero_()）。",
    "zero_grad is off: backward() does not replace .grad, it adds the new gradient to the one already there. "
    "Never cleared, the gradient of step t is the sum of every gradient so far, a momentum without friction: "
    "in the first steps its norm grows, the parameters overshoot the minimum, and by the time the summed gradient "
    "turns around they shoot back: they swing to and fro, the loss jumps up and down and never settles (see "
    "the gradient norm and the loss). With a larger lr the swings grow until the run diverges (inf/nan). That "
    "is why the course clears the gradients before every step (optimizer.zero_grad(), or w.grad.data.zero_()).")

EXTRA_SOFTMAX = explained(
    "网络最后多加了一个 softmax：CrossEntropyLoss 本身就是 LogSoftmax + NLLLoss，它把输入当作原始分数（logits）。"
    "先做一次 softmax，交给它的就成了 0 到 1 之间的概率，它再做一次 log-softmax：10 个输入都挤在 [0, 1] 里，"
    "最好的情况下正确类别的概率也只有 e/(e+9) ≈ 0.23，损失降不到 1.46 以下；"
    "而且 softmax 饱和以后梯度很小，错的样本推不动。所以它学得更慢，训练同样的轮数，准确率更低"
    "（对比同一个种子下课程网络的曲线和准确率）。正确做法：最后一层输出原始分数，softmax 只在需要概率时"
    "（预测时）才加。",
    "The network ends in an extra softmax. CrossEntropyLoss is LogSoftmax + NLLLoss: it expects raw scores "
    "(logits). Given probabilities instead, it applies a second (log-)softmax to ten numbers squeezed into "
    "[0, 1]: even a perfect answer gets only e/(e+9) ≈ 0.23 for the right class, so the loss cannot go below "
    "1.46, and once the softmax saturates its gradients are tiny, so wrong answers are hardly pushed. It learns "
    "more slowly and reaches a lower accuracy in the same epochs (compare the course's network, trained from "
    "the same seed, on the charts and in the final numbers). The fix: the last layer gives raw scores, and a "
    "softmax is applied only where probabilities are wanted, when predicting.")

FLOAT_LABELS = explained(
    "标签变成了 float：CrossEntropyLoss 的目标要么是类别编号（整数，long，形状 (N,)），要么是每个类别的概率"
    "（float，形状和输入一样 (N, 10)）。形状 (N,) 的 float 两样都不是，torch 就报 “expected target dtype to be "
    "Long”之类的错（旧版本是 “expected scalar type Long but found Float”）。常见原因：标签从 numpy 或 CSV 读进来"
    "是 float，或者写了 torch.Tensor(labels)（它总是 float32）。改法：labels.long()，或者 torch.tensor(labels, "
    "dtype=torch.long)；MNIST 的 torchvision 数据集本来就给 long。（BCELoss 正相反：它要 float 标签，形状和输出一样。）",
    "The labels are float. CrossEntropyLoss takes either class indices (whole numbers, dtype long, shape (N,)) "
    "or a probability per class (float, the input's shape (N, 10)). A float tensor of shape (N,) is neither, "
    "and torch stops with an error such as \"expected target dtype to be Long\" (older versions: \"expected "
    "scalar type Long but found Float\"). The usual causes: labels read from numpy or a CSV file as floats, or "
    "made with torch.Tensor(labels), which is always float32. The fix: labels.long(), or torch.tensor(labels, "
    "dtype=torch.long); torchvision's MNIST gives long labels already. (BCELoss is the other way round: it "
    "wants float labels of the output's shape.)")


# -- a mistake beside the course's run ------------------------------------------------------------------

def reseed(seed):
    """Every generator back to the run's seed, as the runner set them before train()."""
    import random

    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


class WithoutCheckpoints:
    """The run as a comparison's two trainings see it: two trainings in one run cannot be resumed from one
    checkpoint, so neither keeps any (`labapp run --resume` then says the run has none)."""

    def __init__(self, run):
        self._run = run

    def __getattr__(self, name):
        return getattr(self._run, name)

    def restore(self, **objects):
        return {}

    def checkpoint(self, epoch, **state):
        pass


def train_and_compare(train_and_test, make_mistake, make_course, key, run):
    """The run with the mistake (`train_and_test(model, run)`'s records as they are), then the course's model from
    the same seed, so from the same initial weights and batches: its metrics under the splits 'course train' and
    'course test', its views left out. Then the explanation (`key`) and the test accuracies side by side."""
    from labapp.lesson import Metric, ViewValue

    accuracies = {"with the mistake": [], "the course's network": []}
    run = WithoutCheckpoints(run)
    for record in train_and_test(make_mistake(), run):
        yield record
        if isinstance(record, Metric) and record.split == "test":
            accuracies["with the mistake"].append(record.values["accuracy"])
    if run.should_stop:
        return
    yield ViewValue("mistake", key)
    reseed(run.seed)
    for record in train_and_test(make_course(), run):
        if isinstance(record, Metric):
            yield dataclasses.replace(record, split="course " + record.split)
            if record.split == "test":
                accuracies["the course's network"].append(record.values["accuracy"])
    yield ViewValue("compared", accuracies)


def compared(charts):
    """The charts with the course's run beside the mistake's: each split also as 'course <split>'."""
    return tuple(dataclasses.replace(chart, splits=(*chart.splits, *("course " + s for s in chart.splits)))
                 for chart in charts)


COMPARED_VIEWS = (View("mistake", "text", Text("故意犯的错误", "The mistake made on purpose")),
                  View("compared", "values", Text("每轮的测试准确率（同一个种子）",
                                                  "Test accuracy by epoch (the same seed)")))
COMPARED_LABELS = {
    "course train": Text("课程的网络（训练集）", "course's network, train"),
    "course test": Text("课程的网络（测试集）", "course's network, test"),
    "with the mistake": Text("犯了错误的", "with the mistake"),
    "the course's network": Text("课程的网络", "the course's network"),
}

NO_SKIP = explained(
    "残差块去掉了跳连：块的输出从 relu(x + F(x)) 变成 relu(F(x))，就是两层普通的 3x3 卷积。有跳连时，块只需要学"
    "“在 x 上改多少”，什么都不学（F = 0）就已经把 x 原样传下去；反向传播时梯度也能沿着 x + 这条路直接流回前面的层。"
    "去掉以后，信号每过一层都要乘上随机初始化的权重再过 ReLU：torch 默认的初始化让每层的输出比输入小一截，"
    "多了四层卷积，到最后一层时信号和梯度都已经很小，网络一开始几乎学不动（梯度消失）。即使这个只有两个块的浅网络，"
    "在课程的学习率下也看得出来：在课程的 8000 张训练图上（种子 0），训练 2 轮后没有跳连的测试准确率是 0.115，"
    "和瞎猜差不多，课程的 ResNet 是 0.9515（对比两条曲线）。网络越深，差别越大：几十上百层的网络没有跳连几乎训练不了。",
    "The residual blocks have lost their skip connections: a block's output is relu(F(x)) instead of "
    "relu(x + F(x)), two plain 3x3 convolutions. With the skip, a block only learns how much to change x: "
    "learning nothing (F = 0) already passes x on unchanged, and in backpropagation the gradient flows back "
    "through the `x +` path directly. Without it, the signal is multiplied by randomly initialised weights and "
    "cut by a ReLU at every layer; torch's default initialisation makes each layer's output a little smaller than "
    "its input, so after four more convolutions the signal, and the gradient coming back, are tiny and the "
    "network hardly learns at first (vanishing gradients). Even this shallow network of two blocks shows it at "
    "the course's learning rate: on the course's 8000 training images (seed 0), after 2 epochs the test accuracy "
    "without skips is 0.115, about guessing, and the course's ResNet's is 0.9515 (compare the two curves). The "
    "deeper the network, the larger the gap: networks of tens or hundreds of layers barely train without skips.")
