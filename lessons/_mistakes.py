"""The classic mistakes that lessons 3, 4, 9 and 12 let a learner make on purpose: what each one does, in both languages.

A lesson that makes one yields ViewValue("mistake", KEY); its labels map KEY to the explanation below,
so that the view reads in the user's language (the Results panel and `labapp run` alike). The lines are
broken here because a view never wraps them.
"""

import re
import textwrap

from labapp.lesson import Text

COLUMNS = 76


def _lines_zh(text: str) -> str:
    """Chinese text broken into lines of at most COLUMNS columns (a Chinese character takes two), never inside a
    run of Latin letters such as `zero_grad()`."""
    lines, line, width = [], "", 0
    for word in re.findall(r"[\x21-\x7e]+|.", text):  # a run of ASCII, or one other character
        size = len(word) if word.isascii() else 2 * len(word)
        if width + size > COLUMNS and line:
            lines.append(line)
            line, width = "", 0
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
