"""Lesson 5: an explorer of torch's common loss functions: pick a loss, edit the tensors, see the value."""

import itertools

from labapp.lesson import Chart, ChoiceParam, FloatParam, Lesson, Metric, TensorParam, Text, Values, View, ViewValue, both
from lessons._losses import CLASSES, REGRESSION, SIMILARITY, TORCH_NAME, tensors, tensors_fit


ROLES = {"CosineEmbedding": {"input": "x1", "input2": "x2", "target": "y"},
         "TripletMargin": {"input": "anchor", "target": "positive", "input2": "negative"}}

FORMULAS = {  # the per-sample loss ℓᵢ of each, in words where it needs words
    "MSE": Text("ℓᵢ = (xᵢ − yᵢ)²", "ℓᵢ = (xᵢ − yᵢ)²"),
    "L1": Text("ℓᵢ = |xᵢ − yᵢ|", "ℓᵢ = |xᵢ − yᵢ|"),
    "SmoothL1": Text("ℓᵢ = 0.5·(xᵢ − yᵢ)² / β   当 |xᵢ − yᵢ| < β，   否则 |xᵢ − yᵢ| − 0.5·β      （β = delta）",
                     "ℓᵢ = 0.5·(xᵢ − yᵢ)² / β   if |xᵢ − yᵢ| < β,   else |xᵢ − yᵢ| − 0.5·β      (β = delta)"),
    "Huber": Text("ℓᵢ = 0.5·(xᵢ − yᵢ)²   当 |xᵢ − yᵢ| ≤ δ，   否则 δ·(|xᵢ − yᵢ| − 0.5·δ)      （δ = delta）",
                  "ℓᵢ = 0.5·(xᵢ − yᵢ)²   if |xᵢ − yᵢ| ≤ δ,   else δ·(|xᵢ − yᵢ| − 0.5·δ)      (δ = delta)"),
    "BCE": Text("ℓᵢ = −[yᵢ·log xᵢ + (1 − yᵢ)·log(1 − xᵢ)]      （torch 把 log 截在 −100）",
                "ℓᵢ = −[yᵢ·log xᵢ + (1 − yᵢ)·log(1 − xᵢ)]      (torch clamps log at −100)"),
    "BCEWithLogits": Text("ℓᵢ = −[p·yᵢ·log σ(xᵢ) + (1 − yᵢ)·log(1 − σ(xᵢ))]，   σ(x) = 1 / (1 + e⁻ˣ)，   p = pos_weight",
                          "ℓᵢ = −[p·yᵢ·log σ(xᵢ) + (1 − yᵢ)·log(1 − σ(xᵢ))],   σ(x) = 1 / (1 + e⁻ˣ),   p = pos_weight"),
    "CrossEntropy": Text("ℓᵢ = −w[yᵢ]·log( exp(xᵢ,yᵢ) / Σ_c exp(xᵢ,c) )      （w：类别权重，没有则为 1）",
                         "ℓᵢ = −w[yᵢ]·log( exp(xᵢ,yᵢ) / Σ_c exp(xᵢ,c) )      (w: class weights, 1 if none)"),
    "NLL": Text("ℓᵢ = −w[yᵢ]·zᵢ,yᵢ，   z = LogSoftmax(x) = x − log Σ_c exp(x_c)      （w：类别权重，没有则为 1）",
                "ℓᵢ = −w[yᵢ]·zᵢ,yᵢ,   z = LogSoftmax(x) = x − log Σ_c exp(x_c)      (w: class weights, 1 if none)"),
    "CosineEmbedding": Text("ℓᵢ = 1 − cos(x1ᵢ, x2ᵢ)   当 yᵢ = 1，   max(0, cos(x1ᵢ, x2ᵢ) − margin)   当 yᵢ = −1   （margin 0）",
                            "ℓᵢ = 1 − cos(x1ᵢ, x2ᵢ)   if yᵢ = 1,   max(0, cos(x1ᵢ, x2ᵢ) − margin)   if yᵢ = −1   (margin 0)"),
    "TripletMargin": Text("ℓᵢ = max(‖aᵢ − pᵢ‖ − ‖aᵢ − nᵢ‖ + margin, 0)      （margin 1，欧氏距离）",
                          "ℓᵢ = max(‖aᵢ − pᵢ‖ − ‖aᵢ − nᵢ‖ + margin, 0)      (margin 1, Euclidean distance)"),
}
REDUCTIONS = {"none": "L = (ℓ₁, …, ℓ_N)", "sum": "L = Σᵢ ℓᵢ", "mean": "L = (1/N)·Σᵢ ℓᵢ"}
WEIGHTED_MEAN = "L = Σᵢ ℓᵢ / Σᵢ w[yᵢ]"  # CrossEntropy's and NLL's mean: a weighted average


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


def formula_text(hp: Values, t: dict) -> dict[str, str]:
    """The call, the formula, the reduction and the tensors used, in both languages."""
    return both(**{lang: _formula_text(hp, t, lang) for lang in ("zh", "en")})


def _formula_text(hp: Values, t: dict, lang: str) -> str:
    """The call, the formula, the reduction and the tensors used, in `lang`."""
    roles = ROLES.get(hp.loss, {})
    used = ("input", "target", "input2") if hp.loss in SIMILARITY else ("input", "target")
    reduction = WEIGHTED_MEAN if hp.loss in CLASSES and hp.reduction == "mean" else REDUCTIONS[hp.reduction]
    lines = [call_text(hp), "", FORMULAS[hp.loss](lang), f"{hp.reduction}: {reduction}", ""]
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


LESSON = Lesson(
    id="loss-functions",
    builds_optimizer=False,  # evaluates losses, trains nothing: no torch._dynamo to pre-import
    number=5,
    title=Text("常用损失函数", "Loss functions explorer"),
    params=PARAMS,
    rules=(tensors_fit,),
    charts=(Chart(Text("损失值", "Loss value"), y=("loss",)),),
    views=(View("value", "values", Text("损失值（torch 计算）", "Loss value (computed by torch)")),
           View("formula", "text", Text("调用与公式", "Call and formula")),
           View("curve", "curve", Text("单个样本的损失随误差变化", "Loss of one sample against its error"))),
    train=train,
    unit="evaluation",
    total=lambda hp: 1,
    labels={"error ŷ − y": Text("误差 ŷ − y", "error ŷ − y")},
)
