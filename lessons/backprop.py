"""Lesson 3: backpropagation with autograd: tensors that require grad, backward(), and the update."""

from labapp.lesson import (BoolParam, Chart, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Step, Text, Values, View,
                           ViewValue, every_run)
from lessons._mistakes import ZERO_GRAD_OFF


x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# Initial values of each variant's parameters. The quadratic homework starts every parameter at 1,
# which is what gives the course's predict(4) ≈ 8.544 after 100 epochs (b = 0 would give 8.324).
START = {
    "wx": {"w": 1.0},
    "wx+b": {"w": 1.0, "b": 0.0},
    "quadratic": {"w1": 1.0, "w2": 1.0, "b": 1.0},
}


def forward(x, p, variant):
    """ŷ for one sample; `p` maps parameter names to tensors."""
    if variant == "wx":
        return x * p["w"]
    if variant == "wx+b":
        return x * p["w"] + p["b"]
    return p["w1"] * x ** 2 + p["w2"] * x + p["b"]


def loss(x, y, p, variant):
    y_pred = forward(x, p, variant)
    return (y_pred - y) ** 2


def graph_lines(tensor, names):
    """The chain of grad_fn nodes behind `tensor`, as indented lines; leaves show their names."""
    lines = []

    def visit(fn, depth):
        if fn is None:
            return
        leaf = getattr(fn, "variable", None)
        label = f"AccumulateGrad -> {names.get(id(leaf), 'tensor')}" if leaf is not None else type(fn).__name__
        lines.append("  " * depth + ("└─ " if depth else "") + label)
        for child, _ in fn.next_functions:
            visit(child, depth + 1)

    visit(tensor.grad_fn, 0)
    return lines


MODEL = {"wx": "x·w", "wx+b": "x·w + b", "quadratic": "w1·x² + w2·x + b"}
# ∂ŷ/∂(parameter), the local gradient that the chain rule multiplies ∂l/∂ŷ by: (as written, its value at x)
LOCAL = {"w": ("x", lambda x: x), "b": ("1", lambda x: 1.0), "w1": ("x²", lambda x: x ** 2), "w2": ("x", lambda x: x)}


def graph_drawing(x, y, p, grads, variant):
    """One sample's computational graph as text, from the loss down to its inputs: each node's value
    and ∂l/∂node (the parameters' from autograd's .grad), then the chain rule that gives the same numbers."""
    y_pred = forward(x, p, variant)
    r = y_pred - y
    nodes = [("", f"l = r² = {r ** 2:.4g}", "∂l/∂l = 1"),
             ("└ ", f"r = ŷ − y = {r:.4g}", f"∂l/∂r = 2r = {2 * r:.4g}"),
             ("  ├ ", f"ŷ = {MODEL[variant]} = {y_pred:.4g}", f"∂l/∂ŷ = ∂l/∂r = {2 * r:.4g}")]
    children = ["x", *p]
    for n, name in enumerate(children):
        corner = "  │ " + ("└ " if n == len(children) - 1 else "├ ")
        if name == "x":
            nodes.append((corner, f"x = {x:.4g}", ""))
        else:
            nodes.append((corner, f"{name} = {p[name]:.4g}", f"∂l/∂{name} = {grads[name]:.4g}  (.grad)"))
    nodes.append(("  └ ", f"y = {y:.4g}", ""))
    width = max(len(prefix + left) for prefix, left, _ in nodes)
    lines = [f"{prefix + left:<{width}}   {right}".rstrip() for prefix, left, right in nodes]
    for name in p:  # the chain rule, by hand, gives autograd's numbers
        local, value = LOCAL[name]
        lines.append(f"∂l/∂{name} = ∂l/∂ŷ·{local} = {2 * r:.4g}·{value(x):.4g} = {2 * r * value(x):.4g}")
    return "\n".join(lines)


def train(hp: Values, run):
    """Per-sample updates with autograd; one metric per epoch."""
    import torch

    p = {name: torch.tensor([value], requires_grad=True, device=run.device)
         for name, value in START[hp.variant].items()}
    names = {id(t): name for name, t in p.items()}
    before = forward(4, p, hp.variant).item()
    yield ViewValue("result", {"predict(4) before": before})

    norms = []  # zero_grad off: the gradient norm of each epoch's last update
    for epoch in range(1, hp.epochs + 1):
        grads = []
        for x, y in zip(x_data, y_data):
            l = loss(x, y, p, hp.variant)
            l.backward()
            grad = {name: t.grad.item() for name, t in p.items()}
            old = {name: t.item() for name, t in p.items()}
            grads.append([x, y, *grad.values()])
            for t in p.values():
                t.data = t.data - hp.lr * t.grad.data
                if hp.zero_grad:  # off: the classic mistake, the next backward() adds to this gradient
                    t.grad.data.zero_()
            yield Step(epoch, batch={"x": x, "y": y}, forward={"ŷ": forward(x, old, hp.variant)}, loss=l.item(),
                       grads=grad, before=old, after={name: t.item() for name, t in p.items()}, lr=hp.lr,
                       graph=graph_drawing(x, y, old, grad, hp.variant))
        values = {"loss": l.item()}  # the last sample's loss, as the course prints it
        values.update({name: t.item() for name, t in p.items()})
        if not hp.zero_grad:
            norms.append(sum(t.grad.item() ** 2 for t in p.values()) ** 0.5)
            values["grad_norm"] = norms[-1]
        yield Metric(epoch=epoch, values=values)
        if run.should_stop:
            break

    if not hp.zero_grad:
        yield ViewValue("mistake", "zero_grad off")  # the label is the explanation, in the user's language
        yield ViewValue("grad norm", {"x": list(range(1, len(norms) + 1)), "y": norms,
                                      "x_label": "epoch", "y_label": "grad_norm"})
    yield ViewValue("grads", {"columns": ["x", "y"] + [f"∂l/∂{name}" for name in p], "rows": grads})
    yield ViewValue("graph", "\n".join(graph_lines(l, names)))
    after = forward(4, p, hp.variant).item()
    result = {"predict(4) before": before}
    result.update({name: round(t.item(), 6) for name, t in p.items()})
    result["predict(4) after"] = round(after, 6)
    yield ViewValue("result", result)


PARAMS = (
    ChoiceParam(name="variant", default="wx", choices=("wx", "wx+b", "quadratic"),
                help=Text("模型：w·x、w·x + b 或 w1·x² + w2·x + b", "model: w·x, w·x + b or w1·x² + w2·x + b")),
    FloatParam(name="lr", default=0.01, min=0, min_open=True, max=1000, help=Text("学习率", "learning rate")),
    IntParam(name="epochs", default=100, min=1, max=100_000, help=Text("训练轮数", "number of epochs")),
    BoolParam(name="zero_grad", default=True,
              help=Text("每次更新后把梯度清零（关：经典错误，梯度不断累加）",
                        "clear the gradients after each update (off: the classic mistake, they add up)")),
)


LESSON = Lesson(
    id="backprop",
    builds_optimizer=False,  # updates w by hand: no torch._dynamo to pre-import
    number=3,
    title=Text("反向传播", "Backpropagation with autograd"),
    params=PARAMS,
    charts=(Chart(Text("损失（每轮最后一个样本）", "Loss (last sample of each epoch)"), y=("loss",)),
            Chart(Text("参数", "Parameters"), y=("w", "b", "w1", "w2")),
            Chart(Text("梯度的范数（zero_grad 关掉时）", "Gradient norm (with zero_grad off)"), y=("grad_norm",),
                  short=Text("梯度范数", "Grad norm"), needs=(("zero_grad", False),))),
    views=(View("mistake", "text", Text("故意犯的错误", "The mistake made on purpose")),
           View("grad norm", "curve", Text("每轮最后一次更新所用梯度的范数",
                                           "Norm of the gradient of each epoch's last update")),
           View("result", "values", Text("结果", "Result")),
           View("grads", "table", Text("最后一轮各样本的梯度", "Gradients of the last epoch")),
           View("graph", "text", Text("计算图（最后一次前向）", "Computational graph (last forward pass)"))),
    train=train,
    step_mode=every_run,
    labels={"predict(4) before": Text("训练前的 predict(4)", "predict(4) before"),
            "predict(4) after": Text("训练后的 predict(4)", "predict(4) after"),
            "grad_norm": Text("梯度范数", "gradient norm"), "zero_grad off": ZERO_GRAD_OFF},
)
