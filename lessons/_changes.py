"""What changed since the course was recorded: the API changes between the course's code and today's torch.

One structured source: `CHANGES` (each change once: the course's code, today's, the torch version
that changed it, why, in zh and en) and `BY_LESSON` (the changes that concern each lesson; an empty
tuple says the lesson's code runs unchanged). It is rendered, never written by hand, into:

- each lesson's explanation (the Learn tab and `labapp show`), as a section of its own appended to
  the text files' words (`WithChanges`);
- each take-away program's header comment (`program_comment`, written in by labapp.program).

The course's code is that of the lectures (2019) and of the programs it grew from
(PyTorchZeroToAll), which learners still copy. No torch here: the installed version is read from
the package metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from labapp.lesson import ComputedText, Text

T = Text


@dataclass(frozen=True)
class Change:
    """One API change: the course's code, what to write today, the torch version that changed it, and why."""

    course: str
    today: str
    since: str  # what changed it, and when: 'torch 0.4', 'Python 3.8'
    why: Text


CHANGES: dict[str, Change] = {
    "variable": Change(
        "Variable(torch.Tensor(data), requires_grad=True)", "torch.tensor(data, requires_grad=True)", "torch 0.4",
        T("Variable 已并入 Tensor：张量本身就能记录计算图、保存梯度；Variable(t) 现在只是原样返回 t。",
          "Variable was merged into Tensor: a tensor records the graph and holds its gradient itself; "
          "Variable(t) now just returns t.")),
    "data[0]": Change(
        "loss.data[0]", "loss.item()", "torch 0.4",
        T("损失现在是 0 维张量，不能再用下标取出；.item() 把它变成 Python 数。",
          "a loss is now a 0-dimensional tensor, which cannot be indexed; .item() turns it into a Python number.")),
    "legacy constructors": Change(
        "torch.Tensor([[1.0]]), torch.LongTensor(labels)", "torch.tensor([[1.0]]), torch.tensor(labels, dtype=torch.long)",
        "torch 0.4",
        T("torch.tensor 从数据推断类型、复制数据；大写的 Tensor/LongTensor 构造器是旧写法，torch.Tensor(3) 会得到未初始化的 3 个数。",
          "torch.tensor infers the dtype from the data and copies it; the capitalised Tensor/LongTensor "
          "constructors are the old way, and torch.Tensor(3) gives three uninitialised numbers.")),
    "update under no_grad": Change(
        "w.data = w.data - lr * w.grad.data; w.grad.data.zero_()",
        "with torch.no_grad(): w -= lr * w.grad; then w.grad.zero_()", "torch 0.4",
        T("课程通过 .data 绕过计算图更新参数，今天仍能运行；推荐的写法是在 torch.no_grad() 里更新，出错时 autograd 会报告。",
          "the course updates parameters through .data, outside the graph, which still runs; the recommended way "
          "is to update them under torch.no_grad(), where autograd still reports misuse.")),
    "size_average sum": Change(
        "nn.MSELoss(size_average=False)", "nn.MSELoss(reduction='sum')", "torch 0.4.1",
        T("size_average 和 reduce 两个参数合并成了 reduction（'mean'、'sum' 或 'none'）；旧参数只会给出弃用警告。",
          "size_average and reduce were merged into reduction ('mean', 'sum' or 'none'); the old arguments only "
          "give a deprecation warning.")),
    "bce size_average sum": Change(
        "nn.BCELoss(size_average=False)", "nn.BCELoss(reduction='sum')", "torch 0.4.1",
        T("同上：size_average=False 就是 reduction='sum'，按样本求和而不是求平均。",
          "as above: size_average=False is reduction='sum', summed over the samples rather than averaged.")),
    "bce size_average mean": Change(
        "nn.BCELoss(size_average=True)", "nn.BCELoss() (reduction='mean', the default)", "torch 0.4.1",
        T("size_average=True 就是现在的默认值 reduction='mean'。",
          "size_average=True is today's default, reduction='mean'.")),
    "reduce": Change(
        "nn.MSELoss(reduce=False)", "nn.MSELoss(reduction='none')", "torch 0.4.1",
        T("reduce=False（逐元素的损失）现在写成 reduction='none'。",
          "reduce=False (one loss per element) is now reduction='none'.")),
    "F.sigmoid": Change(
        "torch.nn.functional.sigmoid(x)", "torch.sigmoid(x)", "torch 0.4.1",
        T("F.sigmoid 已弃用（会给出警告），改用 torch.sigmoid 或 nn.Sigmoid()。",
          "F.sigmoid is deprecated (it warns); use torch.sigmoid or nn.Sigmoid().")),
    "dataloader main guard": Change(
        "DataLoader(..., num_workers=2) at the top level of the script",
        "the training code under if __name__ == '__main__':", "Python 3.8",
        T("在 Windows 和 macOS（Python 3.8 起）上，worker 进程用 spawn 启动，会重新导入脚本；没有 main 保护就会反复创建进程而报错。",
          "on Windows and on macOS (since Python 3.8) worker processes start with spawn and import the script "
          "again; without the main guard they fail as each one starts more of them.")),
    "mnist download": Change(
        "datasets.MNIST('../dataset/mnist/', download=True)", "the same call, from a mirror; offline: labapp data import",
        "torchvision, 2021",
        T("MNIST 的原始网站常常拒绝下载，torchvision 改用自己的镜像；labapp 依次尝试几个镜像并校验 md5，离线时 labapp data import 可安装同学给的文件。",
          "MNIST's original site often refuses downloads, so torchvision switched to its own mirror; labapp tries "
          "several mirrors in order and checks their md5s, and offline `labapp data import` installs files a "
          "classmate shares.")),
    "no_grad for testing": Change(
        "torch.max(outputs.data, dim=1) in the test loop", "the test loop under with torch.no_grad(); outputs.argmax(dim=1)",
        "torch 0.4",
        T("测试时在 torch.no_grad() 里计算就不会建计算图，.data 也就不需要了；volatile=True 的旧写法已失效。",
          "evaluated under torch.no_grad() the test pass builds no graph, so .data is not needed; the old "
          "volatile=True no longer does anything.")),
    "device": Change(
        "torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
        "torch.accelerator.current_accelerator() or torch.device('cpu')", "torch 2.7",
        T("课程的写法仍然可用，但只认 NVIDIA GPU；torch.accelerator 也能找到 Apple 的 MPS 等其他加速器。",
          "the course's line still works but knows only NVIDIA GPUs; torch.accelerator also finds Apple's MPS "
          "and other accelerators.")),
    "lengths on cpu": Change(
        "pack_padded_sequence(embedding, seq_lengths) with seq_lengths on the GPU",
        "pack_padded_sequence(embedding, seq_lengths.cpu())", "torch 1.7",
        T("lengths 必须是 CPU 上的 int64 张量（或列表），放在 GPU 上会报错；数据本身可以留在 GPU 上。",
          "lengths must be an int64 tensor (or a list) on the CPU, and on the GPU they raise an error; the data "
          "itself stays on the GPU.")),
    "enforce_sorted": Change(
        "sort the batch by length before pack_padded_sequence", "or pack_padded_sequence(..., enforce_sorted=False)",
        "torch 1.1",
        T("课程手动按长度排序；现在也可以传 enforce_sorted=False，让 torch 自己排序再还原。",
          "the course sorts the batch by length by hand; today enforce_sorted=False lets torch sort and restore "
          "the order itself.")),
    "weights_only": Change(
        "torch.load(path)", "torch.load(path, weights_only=True) on a state_dict", "torch 2.6",
        T("torch.load 默认只读张量和基本类型（weights_only=True），不再执行文件里的任意 Python 对象；保存 state_dict 即可读回。",
          "torch.load now reads only tensors and plain types by default (weights_only=True) and no longer "
          "unpickles arbitrary Python objects; a saved state_dict loads as before.")),
}

BY_LESSON: dict[str, tuple[str, ...]] = {
    "linear-model": (),
    "gradient-descent": (),
    "backprop": ("variable", "legacy constructors", "data[0]", "update under no_grad"),
    "linear-regression": ("legacy constructors", "size_average sum", "data[0]"),
    "loss-functions": ("size_average sum", "reduce"),
    "logistic-regression": ("F.sigmoid", "bce size_average sum"),
    "multi-dim-input": ("bce size_average mean",),
    "dataset-dataloader": ("bce size_average mean", "dataloader main guard", "variable"),
    "softmax-mnist": ("mnist download", "no_grad for testing"),
    "cnn-basics": ("mnist download", "device"),
    "sequential": ("mnist download",),
    "cnn-advanced": ("mnist download", "device"),
    "rnn-basics": ("legacy constructors", "data[0]"),
    "rnn-classifier": ("lengths on cpu", "enforce_sorted", "legacy constructors", "weights_only"),
}

HEADING = T("课程录制以来的 API 变化", "What changed since the course was recorded")
INSTALLED = T("这里安装的是 torch {version}。课程的写法 → 今天的写法（改动时的版本）：",
              "Installed here: torch {version}. The course's code → today's (the version that changed it):")
NONE = T("这一课的代码没有用到后来改动过的 API：照课程写的，在今天的 torch 上也能运行。",
         "This lesson's code uses no API that has changed since: as the course writes it, it runs on today's torch.")


def torch_version() -> str:
    """The installed torch's version, from its package metadata (torch is not imported)."""
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "?"


def changes(lesson_id: str) -> tuple[Change, ...]:
    """The changes that concern `lesson_id`, in the order the lesson meets them; KeyError for an unknown lesson."""
    return tuple(CHANGES[key] for key in BY_LESSON[lesson_id])


def section(lesson_id: str, lang: str) -> str:
    """The Markdown section on the changes for `lesson_id`, in `lang`."""
    lines = [f"## {HEADING(lang)}", ""]
    found = changes(lesson_id)
    if not found:
        lines.append(NONE(lang))
    else:
        lines += [INSTALLED(lang).format(version=torch_version()), ""]
        lines += [f"- `{c.course}` → `{c.today}` ({c.since}): {c.why(lang)}" for c in found]
    return "\n".join(lines) + "\n"


def program_comment(lesson_id: str) -> str:
    """The header comment of a take-away program: the changes as code, which reads the same in both languages
    ('' for a lesson that BY_LESSON does not know, such as a copied lesson file)."""
    if lesson_id not in BY_LESSON:
        return ""
    lines = [f"# -- {HEADING('zh')} · {HEADING('en')} (torch {torch_version()} installed) --"]
    found = changes(lesson_id)
    if not found:
        lines.append(f"# {NONE('zh')}")
        lines.append(f"# {NONE('en')}")
    else:
        for c in found:
            lines += [f"# - {c.course}", f"#   -> {c.today}  ({c.since})"]
    return "\n".join(lines) + "\n"


class WithChanges(ComputedText):
    """A lesson's explanation followed by its section on the API changes, generated from BY_LESSON."""

    def __init__(self, explanation: Text, lesson_id: str) -> None:
        object.__setattr__(self, "_base", explanation)  # frozen, as Text is: set once, here
        object.__setattr__(self, "_lesson", lesson_id)

    def _text(self, lang: str) -> str:
        base = self._base(lang).rstrip()
        return (base + "\n\n" if base else "") + section(self._lesson, lang)

    def __repr__(self) -> str:
        return f"WithChanges({self._base!r}, {self._lesson!r})"
