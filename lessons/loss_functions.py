"""Lesson 5: an explorer of torch's common loss functions: pick a loss, edit the tensors, see the value."""

import itertools

from labapp.lesson import (Chart, ChoiceParam, FloatParam, Lesson, Metric, TensorParam, Text, Values, View,
                           ViewValue, tensor_shape)

EXPLANATION = Text(
    zh="""\
## 常用损失函数

这一课不训练模型，而是一个“损失函数实验台”：选一个损失，改一改预测和目标张量，
就能看到 PyTorch 算出的损失值、它的公式，回归类损失还会画出“损失随误差变化”的曲线。
每个损失都先用课程里的例子填好张量（例如第 9 讲交叉熵的例子，结果 0.4966），
参数写 `example` 就是用例子，也可以写成 `[[0.2, 0.8], [0.9, 0.1]]` 这样的嵌套列表。

张量各自的角色：

    损失                     input             target            input2
    MSE/L1/SmoothL1/Huber    预测 ŷ            真实值 y           —
    BCE                      概率（0 到 1）     标签（0 到 1）     —
    BCEWithLogits            logit（任意实数）  标签（0 到 1）     —
    CrossEntropy/NLL         logit (N, C)      类别下标 (N)       —
    CosineEmbedding          x1 (N, D)         1 或 −1 (N)       x2 (N, D)
    TripletMargin            anchor (N, D)     positive (N, D)   negative (N, D)

**reduction**：`none` 给出每个样本的损失，`sum` 求和，`mean` 取平均（带类别权重时除以权重之和）。

**怎么选**：
- 回归 → MSE（对大误差惩罚重）；有离群点时用 L1 或 SmoothL1 / Huber（小误差平方、大误差线性）。
- 二分类 → BCEWithLogits：它把 sigmoid 和 BCE 合在一起，数值更稳定；`pos_weight` 加大正样本的分量。
  BCE 要求输入已经是概率（接在 sigmoid 后面）。
- 多分类 → CrossEntropy，输入直接用最后一层的原始输出，**前面不要再加 softmax**：
  CrossEntropy = LogSoftmax + NLLLoss（选 NLL 可以验证两者相等）。`weight` 给每个类别加权，用于类别不平衡。
- 相似度 / 度量学习 → CosineEmbedding（一对向量相似还是不相似）或 TripletMargin
  （anchor 要比 negative 更靠近 positive，至少差出 margin = 1）。

出错的张量会得到一句说明，例如 BCE 的概率写成 1.5，或 3 个类别却给了下标 7。
""",
    en="""\
## Loss functions explorer

This lesson trains nothing: it is a bench for loss functions. Pick a loss, edit the prediction and
target tensors, and see the value torch computes, its formula and, for the regression losses, a
curve of the loss against the error. Each loss starts from the course's example where the course
has one (lecture 9's cross-entropy example gives 0.4966). A tensor param set to `example` uses the
example; otherwise write nested lists such as `[[0.2, 0.8], [0.9, 0.1]]`.

What each tensor stands for:

    loss                     input                target             input2
    MSE/L1/SmoothL1/Huber    prediction ŷ         true value y       —
    BCE                      probability (0-1)    label (0-1)        —
    BCEWithLogits            logit (any real)     label (0-1)        —
    CrossEntropy/NLL         logits (N, C)        class index (N)    —
    CosineEmbedding          x1 (N, D)            1 or −1 (N)        x2 (N, D)
    TripletMargin            anchor (N, D)        positive (N, D)    negative (N, D)

**reduction**: `none` gives each sample's loss, `sum` adds them, `mean` averages them (with class
weights it divides by the sum of the weights used).

**Which loss when**:
- Regression → MSE (large errors weigh heavily); with outliers L1, or SmoothL1 / Huber (squared
  for small errors, linear for large ones).
- Binary classification → BCEWithLogits: sigmoid and BCE in one numerically stable step;
  `pos_weight` makes positive samples count more. BCE wants probabilities (after a sigmoid).
- Multi-class classification → CrossEntropy on the last layer's raw outputs, **with no softmax
  before it**: CrossEntropy = LogSoftmax + NLLLoss (pick NLL to see that the two agree). `weight`
  gives each class a weight, for imbalanced classes.
- Similarity and metric learning → CosineEmbedding (is a pair similar or not) or TripletMargin
  (the anchor must be closer to the positive than to the negative by the margin, 1).

Bad tensors get a one-line explanation: a probability of 1.5 for BCE, say, or class index 7 when
there are 3 classes.
""",
)

REGRESSION = ("MSE", "L1", "SmoothL1", "Huber")
BINARY = ("BCE", "BCEWithLogits")
CLASSES = ("CrossEntropy", "NLL")
SIMILARITY = ("CosineEmbedding", "TripletMargin")
TORCH_NAME = {loss: loss + "Loss" for loss in REGRESSION + BINARY + CLASSES + SIMILARITY}  # nn.MSELoss, ...

# The tensors each loss starts with: the course's examples where it computes that loss.
_W3 = {"input": [3.0, 6.0, 9.0], "target": [2.0, 4.0, 6.0]}  # lecture 2: ŷ = 3x against y = 2x (MSE 4.667)
_LECTURE_9 = {"input": [[0.1, 0.2, 0.9], [1.1, 0.1, 0.2], [0.2, 2.1, 0.1]], "target": [2, 0, 1]}  # CE 0.4966
EXAMPLES = {
    "MSE": _W3, "L1": _W3, "SmoothL1": _W3, "Huber": _W3,
    "BCE": {"input": [0.2, 0.8, 0.3, 0.7], "target": [1.0, 1.0, 0.0, 0.0]},  # lecture 6: mean 0.8483
    "BCEWithLogits": {"input": [-1.4, 1.4, -0.85, 0.85], "target": [1.0, 1.0, 0.0, 0.0]},  # about the same, as logits
    "CrossEntropy": _LECTURE_9, "NLL": _LECTURE_9,
    # not in the course: small pairs and triplets that are easy to follow by hand
    "CosineEmbedding": {"input": [[1.0, 0.0], [1.0, 1.0], [0.6, 0.8]], "input2": [[0.8, 0.6], [-1.0, 1.0], [0.8, 0.6]],
                        "target": [1, -1, -1]},
    "TripletMargin": {"input": [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], "target": [[0.1, 0.2], [1.0, 1.5], [0.0, 1.5]],
                      "input2": [[2.0, 0.0], [1.5, 1.0], [0.6, 1.8]]},
}
ROLES = {"CosineEmbedding": {"input": "x1", "input2": "x2", "target": "y"},
         "TripletMargin": {"input": "anchor", "target": "positive", "input2": "negative"}}

FORMULAS = {
    "MSE": "ℓᵢ = (xᵢ − yᵢ)²",
    "L1": "ℓᵢ = |xᵢ − yᵢ|",
    "SmoothL1": "ℓᵢ = 0.5·(xᵢ − yᵢ)² / β   if |xᵢ − yᵢ| < β,   else |xᵢ − yᵢ| − 0.5·β      (β = delta)",
    "Huber": "ℓᵢ = 0.5·(xᵢ − yᵢ)²   if |xᵢ − yᵢ| ≤ δ,   else δ·(|xᵢ − yᵢ| − 0.5·δ)      (δ = delta)",
    "BCE": "ℓᵢ = −[yᵢ·log xᵢ + (1 − yᵢ)·log(1 − xᵢ)]      (torch clamps log at −100)",
    "BCEWithLogits": "ℓᵢ = −[p·yᵢ·log σ(xᵢ) + (1 − yᵢ)·log(1 − σ(xᵢ))],   σ(x) = 1 / (1 + e⁻ˣ),   p = pos_weight",
    "CrossEntropy": "ℓᵢ = −w[yᵢ]·log( exp(xᵢ,yᵢ) / Σ_c exp(xᵢ,c) )      (w: class weights, 1 if none)",
    "NLL": "ℓᵢ = −w[yᵢ]·zᵢ,yᵢ,   z = LogSoftmax(x) = x − log Σ_c exp(x_c)      (w: class weights, 1 if none)",
    "CosineEmbedding": "ℓᵢ = 1 − cos(x1ᵢ, x2ᵢ)   if yᵢ = 1,   max(0, cos(x1ᵢ, x2ᵢ) − margin)   if yᵢ = −1   (margin 0)",
    "TripletMargin": "ℓᵢ = max(‖aᵢ − pᵢ‖ − ‖aᵢ − nᵢ‖ + margin, 0)      (margin 1, Euclidean distance)",
}
REDUCTIONS = {"none": "L = (ℓ₁, …, ℓ_N)", "sum": "L = Σᵢ ℓᵢ", "mean": "L = (1/N)·Σᵢ ℓᵢ"}
WEIGHTED_MEAN = "L = Σᵢ ℓᵢ / Σᵢ w[yᵢ]"  # CrossEntropy's and NLL's mean: a weighted average


def _tensor(name: str, zh: str, en: str, empty: str = "example") -> TensorParam:
    return TensorParam(name=name, default=None, empty=empty, max_size=100, help=Text(zh, en))


PARAMS = (
    ChoiceParam(name="loss", default="CrossEntropy", choices=tuple(TORCH_NAME), help=Text("损失函数", "loss function")),
    ChoiceParam(name="reduction", default="mean", choices=("mean", "sum", "none"),
                help=Text("每个样本的损失取平均、求和或全部列出", "average, add up, or list each sample's loss")),
    _tensor("input", "预测、概率、logit、x1 或 anchor", "prediction, probabilities, logits, x1 or anchor"),
    _tensor("target", "目标、标签、类别下标、±1 或 positive", "target, labels, class indices, ±1 or positive"),
    _tensor("input2", "x2（CosineEmbedding）或 negative（TripletMargin）", "x2 (CosineEmbedding) or negative (TripletMargin)"),
    _tensor("weight", "类别权重（CrossEntropy、NLL）", "class weights (CrossEntropy, NLL)", empty="none"),
    FloatParam(name="pos_weight", default=1.0, min=0, max=1000,
               help=Text("正样本的权重（BCEWithLogits）", "weight of positive samples (BCEWithLogits)")),
    FloatParam(name="delta", default=1.0, min=0, min_open=True, max=100,
               help=Text("Huber 的 δ、SmoothL1 的 β", "Huber's δ, SmoothL1's β")),
)


def tensors(hp: Values) -> dict:
    """input, target and input2 as nested lists: the chosen loss's example where a param says 'example'."""
    example = EXAMPLES[hp.loss]
    return {name: example.get(name) if hp[name] is None else hp[name] for name in ("input", "target", "input2")}


def _flat(value):
    """The numbers of nested lists, in order."""
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _first(value, bad):
    """The first number of `value` for which bad(number) holds, or None."""
    return next((v for v in _flat(value) if bad(v)), None)


def _outside_0_1(number) -> bool:
    return not 0 <= number <= 1


# -- the rule: tensors that fit the chosen loss -------------------------------------------------------

def tensors_fit(hp: Values) -> str | None:
    """Rule: the tensors have the shapes and values the chosen loss needs; a message naming the param if not."""
    t = tensors(hp)
    shape = {name: tensor_shape(value) for name, value in t.items()}

    def name(field: str) -> str:  # where the tensor came from, so that a mismatch with an example is plain
        return field if hp[field] is not None else f"{field} (the {hp.loss} example)"

    if hp.loss in CLASSES:
        return _classes(hp, t, shape, name)
    if hp.loss in SIMILARITY:
        return _pairs(hp, t, shape, name)
    return _pointwise(hp, t, shape, name)


def _pointwise(hp, t, shape, name):
    """Regression and binary losses: probabilities and labels in [0, 1]; target shaped like input."""
    probability = _first(t["input"], _outside_0_1)
    if hp.loss == "BCE" and probability is not None:
        return (f"{name('input')}: {probability:g} is not a probability: BCE needs every value of input "
                "in [0, 1] (raw scores go to BCEWithLogits)")
    label = _first(t["target"], _outside_0_1)
    if hp.loss in BINARY and label is not None:
        return f"{name('target')}: {label:g} is not a label: {hp.loss} needs every value of target in [0, 1]"
    if shape["target"] != shape["input"]:
        return (f"{name('target')}: shape {shape['target']} does not match input's shape {shape['input']}: "
                f"{hp.loss} needs input and target of the same shape")
    return None


def _classes(hp, t, shape, name):
    """CrossEntropy and NLL: input (N, C) of scores, target (N,) of class indices, weight (C,)."""
    if len(shape["input"]) != 2 or shape["input"][1] < 2:
        return (f"{name('input')}: shape {shape['input']} is not (N, C): {hp.loss} needs one row of C >= 2 "
                "class scores per sample, e.g. [[0.1, 0.2, 0.9]]")
    n, c = shape["input"]
    allowed = f"{hp.loss} needs whole numbers from 0 to {c - 1}"
    fraction = _first(t["target"], lambda v: not float(v).is_integer())
    if fraction is not None:
        return f"{name('target')}: {fraction:g} is not a class index: {allowed}"
    out = _first(t["target"], lambda v: not 0 <= v < c)
    if out is not None:
        return f"{name('target')}: class index {out:g} is out of range: input has {c} classes, so {allowed}"
    if shape["target"] != (n,):
        return (f"{name('target')}: shape {shape['target']} does not fit input's {n} rows: {hp.loss} needs one "
                f"class index per sample, shape ({n},)")
    weight = hp.weight
    if weight is not None:
        if tensor_shape(weight) != (c,):
            return (f"weight: shape {tensor_shape(weight)} does not fit input's {c} classes: {hp.loss} needs one "
                    f"weight per class, shape ({c},)")
        negative = _first(weight, lambda v: v < 0)
        if negative is not None:
            return f"weight: {negative:g} is negative: class weights must be >= 0"
        if not any(_flat(weight)):
            return "weight: every class weight is 0: at least one must be > 0"
    return None


def _pairs(hp, t, shape, name):
    """CosineEmbedding and TripletMargin: rows of vectors (N, D), matched row by row."""
    if len(shape["input"]) != 2:
        return (f"{name('input')}: shape {shape['input']} is not (N, D): {hp.loss} needs one vector per row, "
                "e.g. [[1.0, 0.0]]")
    others = ("input2",) if hp.loss == "CosineEmbedding" else ("target", "input2")
    for other in others:
        if shape[other] != shape["input"]:
            return (f"{name(other)}: shape {shape[other]} does not match input's shape {shape['input']}: "
                    f"{hp.loss} compares the rows of input and {other} one by one")
    if hp.loss == "CosineEmbedding":
        n = shape["input"][0]
        if shape["target"] != (n,):
            return (f"{name('target')}: shape {shape['target']} does not fit input's {n} rows: CosineEmbedding "
                    f"needs one 1 or -1 per pair, shape ({n},)")
        label = _first(t["target"], lambda v: v not in (1, -1))
        if label is not None:
            return (f"{name('target')}: {label:g} is not 1 or -1: CosineEmbedding needs 1 (similar) or "
                    "-1 (dissimilar) for each pair")
    return None


# -- torch ----------------------------------------------------------------------------------------------

def loss_arguments(hp: Values, reduction: str) -> dict:
    """The keyword arguments of the torch loss: reduction, and the lesson's params that this loss takes."""
    kwargs = {}
    if hp.loss == "SmoothL1":
        kwargs["beta"] = hp.delta
    if hp.loss == "Huber":
        kwargs["delta"] = hp.delta
    if hp.loss == "BCEWithLogits" and hp.pos_weight != 1:
        kwargs["pos_weight"] = [hp.pos_weight]
    if hp.loss in CLASSES and hp.weight is not None:
        kwargs["weight"] = [float(w) for w in hp.weight]
    kwargs["reduction"] = reduction
    return kwargs


def make_loss(hp: Values, reduction: str, device="cpu"):
    """The torch loss module, built from loss_arguments (lists become tensors)."""
    import torch

    kwargs = {key: torch.tensor(value, device=device) if isinstance(value, list) else value
              for key, value in loss_arguments(hp, reduction).items()}
    return getattr(torch.nn, TORCH_NAME[hp.loss])(**kwargs)


def call_text(hp: Values) -> str:
    """The torch call that computes the value, as a person would write it."""
    arguments = ", ".join(f"{key}=torch.tensor({value})" if isinstance(value, list) else f"{key}={value!r}"
                          for key, value in loss_arguments(hp, hp.reduction).items())
    loss = f"nn.{TORCH_NAME[hp.loss]}({arguments})"
    return {"NLL": f"{loss}(nn.LogSoftmax(dim=1)(input), target)", "CosineEmbedding": f"{loss}(input, input2, target)",
            "TripletMargin": f"{loss}(input, target, input2)"}.get(hp.loss, f"{loss}(input, target)")


def evaluate(hp: Values, t: dict, reduction: str, device="cpu"):
    """The loss as torch computes it on the tensors `t`."""
    import torch

    def tensor(name):
        return torch.tensor(t[name], dtype=torch.float32, device=device)

    x = tensor("input")
    loss = make_loss(hp, reduction, device)
    if hp.loss in CLASSES:
        y = tensor("target").long()  # (N,) class indices
        return loss(torch.nn.LogSoftmax(dim=1)(x), y) if hp.loss == "NLL" else loss(x, y)
    y = tensor("target")
    if hp.loss in SIMILARITY:
        other = tensor("input2")
        return loss(x, other, y) if hp.loss == "CosineEmbedding" else loss(x, y, other)
    return loss(x, y)


def error_curve(hp: Values) -> dict:
    """A regression loss of one sample against its error ŷ − y, from −3 to 3."""
    import torch

    errors = torch.linspace(-3, 3, 121)
    losses = make_loss(hp, "none")(errors, torch.zeros_like(errors))
    return {"x": errors.tolist(), "y": losses.tolist(), "x_label": "error ŷ − y", "y_label": hp.loss}


def formula_text(hp: Values, t: dict) -> str:
    """The call, the formula, the reduction and the tensors used."""
    roles = ROLES.get(hp.loss, {})
    used = ("input", "target", "input2") if hp.loss in SIMILARITY else ("input", "target")
    reduction = WEIGHTED_MEAN if hp.loss in CLASSES and hp.reduction == "mean" else REDUCTIONS[hp.reduction]
    lines = [call_text(hp), "", FORMULAS[hp.loss], f"{hp.reduction}: {reduction}", ""]
    lines += [f"{name}{f' ({roles[name]})' if name in roles else ''} = {t[name]}" for name in used]
    if hp.loss in CLASSES:  # CrossEntropy is LogSoftmax followed by NLLLoss: show both halves agree
        import torch

        z = torch.nn.LogSoftmax(dim=1)(torch.tensor(t["input"], dtype=torch.float32))
        other = "NLL" if hp.loss == "CrossEntropy" else "CrossEntropy"
        same = evaluate(Values(hp, loss=other), t, hp.reduction)
        lines.append(f"LogSoftmax(input) = {_rounded(z.tolist())}")
        lines.append(f"{call_text(Values(hp, loss=other))} = {_rounded(same.tolist())}")
    return "\n".join(lines)


def _rounded(value):
    """Nested lists of numbers to 4 decimals, for reading."""
    return [_rounded(v) for v in value] if isinstance(value, list) else round(value, 4)


def train(hp: Values, run):
    """Compute the chosen loss once and fill the views; nothing is trained."""
    t = tensors(hp)
    value = evaluate(hp, t, hp.reduction, run.device)  # a scalar, or one loss per sample with reduction 'none'
    if value.dim() == 0:
        values = {"loss": value.item()}
    else:
        indices = itertools.product(*map(range, value.shape))
        values = {f"loss[{', '.join(map(str, index))}]": v for index, v in zip(indices, value.flatten().tolist())}
    yield Metric(epoch=1, values=values)
    yield ViewValue("value", values)
    yield ViewValue("formula", formula_text(hp, t))
    if hp.loss in REGRESSION:
        yield ViewValue("curve", error_curve(hp))


LESSON = Lesson(
    id="loss-functions",
    builds_optimizer=False,  # evaluates losses, trains nothing: no torch._dynamo to pre-import
    number=5,
    title=Text("常用损失函数", "Loss functions explorer"),
    explanation=EXPLANATION,
    params=PARAMS,
    rules=(tensors_fit,),
    charts=(Chart(Text("损失值", "Loss value"), y=("loss",)),),
    views=(View("value", "values", Text("损失值（torch 计算）", "Loss value (computed by torch)")),
           View("formula", "text", Text("调用与公式", "Call and formula")),
           View("curve", "curve", Text("单个样本的损失随误差变化", "Loss of one sample against its error"))),
    train=train,
    unit="evaluation",
    total=lambda hp: 1,
)
