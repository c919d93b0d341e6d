"""Lesson 5's losses and their example tensors, and the rule that checks a user's tensors before torch sees them.

Not a lesson: what torch would reject with a stack trace, said in one line that names the param.
"""

from labapp.lesson import Values, tensor_shape

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
