"""Shapes worked out by arithmetic, before any tensor exists: the layer list of lesson 10, and every model of 9-14.

A CNN is written as a short layer list, `conv 10 5, pool 2, conv 20 5, pool 2, linear 10`:

    conv OUT KERNEL [pad P] [stride S]   nn.Conv2d(in, OUT, KERNEL, padding=P, stride=S), then a ReLU
    pool SIZE [stride S]                 nn.MaxPool2d(SIZE, stride=S) (S defaults to SIZE)
    linear OUT                           nn.Linear(in, OUT), a ReLU after it unless it is the last layer

As the course writes `F.relu(self.pooling(self.conv1(x)))`, a conv's ReLU comes after the pools that follow it
(the same numbers either way: max pooling and ReLU commute). Before the first linear layer the image is flattened,
and its size is what the trace derives: C × H × W. No torch here: the form checks a list as it is typed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from labapp.lesson import Param, ParamError, ShapeTrace, Text, shown

IMAGE = (1, 28, 28)  # an MNIST image: (channels, height, width)
CLASSES = 10
COURSE_LAYERS = (("conv", 10, 5, 0, 1), ("pool", 2, 2), ("conv", 20, 5, 0, 1), ("pool", 2, 2), ("linear", 10))
MAX_LAYERS, MAX_PARAMETERS = 20, 20_000_000
LIMITS = {"channels": 512, "kernel": 28, "pad": 14, "stride": 28, "features": 4096}
GRAMMAR = "conv OUT KERNEL [pad P] [stride S], pool SIZE [stride S] or linear OUT"


def conv_side(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """The output side of a convolution (or of pooling, padding 0): ⌊(size + 2·padding − kernel) / stride⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def layer_text(layer: tuple) -> str:
    """A layer as the list writes it: ('conv', 10, 5, 0, 1) -> 'conv 10 5'."""
    kind = layer[0]
    if kind == "conv":
        _, out, kernel, pad, stride = layer
        return f"conv {out} {kernel}" + (f" pad {pad}" if pad else "") + (f" stride {stride}" if stride != 1 else "")
    if kind == "pool":
        _, size, stride = layer
        return f"pool {size}" + (f" stride {stride}" if stride != size else "")
    if kind == "linear":
        return f"linear {layer[1]}"
    return kind  # the fixed models' blocks: 'inception', 'residual'


def dims(shape: tuple) -> str:
    """'(N, 10, 24, 24)': a shape after the batch dimension N."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


@dataclass(frozen=True)
class Step:
    """One layer of a planned CNN: what goes in and out (without the batch), and what the forward pass does."""

    layer: tuple
    input: tuple
    output: tuple
    flatten: bool  # the image is flattened just before this (linear) layer
    relu: bool  # a ReLU follows this layer
    parameters: int


def _read_layer(number: int, text: str) -> tuple:
    """One layer of the list, as a tuple; ParamError naming the layer if it is not one."""
    words = text.split()
    where = f"layers: layer {number}, {shown(text.strip())}"
    kind = words[0].casefold() if words else ""
    if kind not in ("conv", "pool", "linear"):
        raise ParamError(f"{where}, is not a layer: write {GRAMMAR}")
    numbers, options = [], {}
    rest = words[1:]
    while rest and re.fullmatch(r"[+-]?\d+", rest[0]):
        numbers.append(int(rest.pop(0)))
    while len(rest) >= 2 and rest[0].casefold() in ("pad", "padding", "stride") and re.fullmatch(r"[+-]?\d+", rest[1]):
        options["pad" if rest[0].casefold().startswith("pad") else "stride"] = int(rest[1])
        rest = rest[2:]
    wanted = {"conv": ("OUT KERNEL", 2, ("pad", "stride")), "pool": ("SIZE", 1, ("stride",)), "linear": ("OUT", 1, ())}
    form, count, allowed = wanted[kind]
    if rest or len(numbers) != count or set(options) - set(allowed):
        extra = " [pad P] [stride S]" if kind == "conv" else " [stride S]" if kind == "pool" else ""
        raise ParamError(f"{where}, is not a {kind} layer: write {kind} {form}{extra} with whole numbers")

    def check(value: int, name: str, limit: str, low: int = 1) -> int:
        if not low <= value <= LIMITS[limit]:
            raise ParamError(f"{where}: {name} {value} is out of range: must be between {low} and {LIMITS[limit]}")
        return value

    if kind == "conv":
        return ("conv", check(numbers[0], "out channels", "channels"), check(numbers[1], "kernel", "kernel"),
                check(options.get("pad", 0), "pad", "pad", 0), check(options.get("stride", 1), "stride", "stride"))
    if kind == "pool":
        size = check(numbers[0], "size", "kernel")
        return ("pool", size, check(options.get("stride", size), "stride", "stride"))
    return ("linear", check(numbers[0], "out features", "features"))


def read_layers(text: str) -> tuple:
    """The layer list that `text` writes; ParamError naming the layer that is not one."""
    parts = text.split(",")
    if not text.strip():
        raise ParamError(f"layers: the list is empty: give layers such as {layers_text(COURSE_LAYERS)!r}")
    if len(parts) > MAX_LAYERS:
        raise ParamError(f"layers: {len(parts)} layers: at most {MAX_LAYERS}")
    return tuple(_read_layer(number, part) for number, part in enumerate(parts, 1))


def layers_text(layers) -> str:
    """The list as text that `read_layers` reads back."""
    return ", ".join(layer_text(tuple(layer)) for layer in layers)


def shape_text(shape: tuple) -> str:
    """'20×4×4' or '320'."""
    return "×".join(map(str, shape))


def block_parameters(kind: str, channels: int) -> int:
    """The parameters of the course's Inception block or residual block on `channels` input channels."""
    conv = lambda c_in, c_out, k: c_out * (c_in * k * k + 1)  # noqa: E731 - weights and biases
    if kind == "inception":  # the 1x1, 5x5, 3x3 and pool paths
        return (conv(channels, 16, 1) + conv(channels, 16, 1) + conv(16, 24, 5) + conv(channels, 16, 1)
                + conv(16, 24, 3) + conv(24, 24, 3) + conv(channels, 24, 1))
    return 2 * conv(channels, channels, 3)  # residual: two 3x3 convolutions


def relu_after(kinds: list[str], index: int) -> bool:
    """Whether a ReLU follows layer `index`: after each hidden linear layer, and at the end of each conv block
    (a conv and the pools right after it: relu(pool(conv(x))), as the course writes it)."""
    following = kinds[index + 1] if index + 1 < len(kinds) else None
    if kinds[index] == "linear":
        return following is not None
    if kinds[index] not in ("conv", "pool") or following == "pool":
        return False
    start = index
    while start > 0 and kinds[start] == "pool":
        start -= 1
    return kinds[start] == "conv"


def plan(layers, image: tuple = IMAGE, classes: int = CLASSES) -> tuple[Step, ...]:
    """Every layer's input and output shape, worked out; ParamError naming the layer and the shapes if one cannot work."""
    steps, shape = [], tuple(image)
    kinds = [layer[0] for layer in layers]
    for index, layer in enumerate(layers):
        layer = tuple(layer)
        kind, name = layer[0], f"layers: layer {index + 1} ({layer_text(layer)})"
        source = f"layer {index} ({layer_text(steps[-1].layer)})" if steps else "the image"
        if kind in ("conv", "pool") and len(shape) == 1:
            raise ParamError(f"{name} comes after a linear layer: its input is {shape[0]} flat features, not an "
                             f"image; put every conv and pool before the first linear layer")
        if kind == "conv":
            _, out, kernel, pad, stride = layer
            channels, height, width = shape
            if min(height, width) + 2 * pad < kernel:
                raise ParamError(f"{name} gets {shape_text(shape)} from {source}: its {kernel}×{kernel} kernel does "
                                 f"not fit a {height}×{width} input" + (f" padded by {pad}" if pad else "")
                                 + "; use a smaller kernel, padding, or fewer pools")
            output = (out, conv_side(height, kernel, pad, stride), conv_side(width, kernel, pad, stride))
            parameters = out * (channels * kernel * kernel + 1)
        elif kind == "pool":
            _, size, stride = layer
            channels, height, width = shape
            if min(height, width) < size:
                raise ParamError(f"{name} gets {shape_text(shape)} from {source}: a {size}×{size} pool does not fit "
                                 f"a {height}×{width} input")
            output, parameters = (channels, conv_side(height, size, 0, stride), conv_side(width, size, 0, stride)), 0
        elif kind == "linear":
            output, parameters = (layer[1],), layer[1] * (math.prod(shape) + 1)
        else:  # the fixed models' blocks (lessons/_blocks.py) keep the height and width
            output, parameters = ((88 if kind == "inception" else shape[0]), *shape[1:]), block_parameters(kind, shape[0])
        relu = relu_after(kinds, index)
        steps.append(Step(layer, shape, output, flatten=kind == "linear" and len(shape) > 1, relu=relu,
                          parameters=parameters))
        shape = output
    if not steps or steps[-1].layer[0] != "linear" or steps[-1].output != (classes,):
        last = layer_text(steps[-1].layer) if steps else "nothing"
        raise ParamError(f"layers: the last layer must be linear {classes}, one score per digit (it is {last})")
    total = sum(step.parameters for step in steps)
    if total > MAX_PARAMETERS:
        raise ParamError(f"layers: the network would have {total:,} parameters: at most {MAX_PARAMETERS:,}")
    return tuple(steps)


def cnn_trace(layers) -> ShapeTrace:
    """The shape trace of a layer list (which `plan` has accepted)."""
    steps = plan(layers)
    rows = [["input", dims(IMAGE), ""]]
    flat = next((step for step in steps if step.flatten), None)
    for step in steps:
        if step.flatten:
            rows.append(["flatten", dims((math.prod(step.input),)), ""])
        rows.append([layer_text(step.layer), dims(step.output), step.parameters])
    notes = {}
    if flat is not None:
        notes["flatten size"] = f"{' × '.join(map(str, flat.input))} = {math.prod(flat.input)}"
    notes["parameters"] = f"{sum(step.parameters for step in steps):,}"
    return ShapeTrace(columns=("layer", "output shape", "params"), rows=tuple(map(tuple, rows)), notes=notes)


@dataclass(frozen=True, kw_only=True)
class LayersParam(Param):
    """A CNN as a layer list, `conv 10 5, pool 2, conv 20 5, pool 2, linear 10`, checked by `plan` as it is typed.

    The value is a tuple of tuples, ('conv', OUT, KERNEL, PAD, STRIDE), ('pool', SIZE, STRIDE), ('linear', OUT).
    """

    def allowed(self) -> str:
        return (f"layers separated by commas, each {GRAMMAR}; the last one linear {CLASSES}; "
                f"a conv's input at least as large as its kernel")

    def parse(self, text: str) -> tuple:
        """The layers `text` writes, if their shapes work out on a 28×28 image; ParamError naming the layer if not."""
        layers = read_layers(text)
        plan(layers)
        return layers

    def format(self, value) -> str:
        """The list as text, `conv 10 5, pool 2, ...`."""
        return layers_text(value)


# -- the fixed models of lessons 9, 11 and 12 -------------------------------------------------------------

MLP = (("linear", 512), ("linear", 256), ("linear", 128), ("linear", 64), ("linear", 10))
INCEPTION = (("conv", 10, 5, 0, 1), ("pool", 2, 2), ("inception",), ("conv", 20, 5, 0, 1), ("pool", 2, 2),
             ("inception",), ("linear", 10))
RESNET = (("conv", 16, 5, 0, 1), ("pool", 2, 2), ("residual",), ("conv", 32, 5, 0, 1), ("pool", 2, 2),
          ("residual",), ("linear", 10))
MODELS = {"mlp": MLP, "cnn": COURSE_LAYERS, "inception": INCEPTION, "resnet": RESNET}


def model_trace(name: str) -> ShapeTrace:
    """The shape trace of one of the course's MNIST models: 'mlp', 'cnn', 'inception' or 'resnet'."""
    trace = cnn_trace(MODELS[name])
    if name != "inception":
        return trace
    # An Inception block's four paths keep H and W (padding), and their channels add up: 16 + 24 + 24 + 24.
    return ShapeTrace(columns=trace.columns, rows=trace.rows,
                      notes={"inception block": "1x1: 16, 5x5: 24, 3x3: 24, pool: 24 channels → 88", **trace.notes})


# -- the RNNs of lessons 13 and 14 ---------------------------------------------------------------------

def rnn_basics_trace(variant: str, seq_len: int = 5, batch: int = 1, input_size: int = 4, hidden: int = 4,
                     embedding: int = 10, emb_hidden: int = 8, layers: int = 2, classes: int = 4) -> ShapeTrace:
    """The tensors of lesson 13's variant: their shapes, and what each dimension is."""
    if variant == "rnncell":
        rows = [("inputs", (seq_len, batch, input_size), "(seq_len, batch, input_size)"),
                ("inputs[t]", (batch, input_size), "(batch, input_size)"),
                ("hidden", (batch, hidden), "(batch, hidden_size)"),
                ("rnncell(x, h)", (batch, hidden), "(batch, hidden_size)"),
                ("labels", (seq_len, 1), "(seq_len, 1)")]
    elif variant == "rnn":
        rows = [("inputs", (seq_len, batch, input_size), "(seq_len, batch, input_size)"),
                ("h0", (1, batch, hidden), "(num_layers, batch, hidden_size)"),
                ("out", (seq_len, batch, hidden), "(seq_len, batch, hidden_size)"),
                ("h_n", (1, batch, hidden), "(num_layers, batch, hidden_size)"),
                ("out.view(-1, 4)", (seq_len * batch, hidden), "(seq_len·batch, hidden_size)"),
                ("labels", (seq_len * batch,), "(seq_len·batch,)")]
    else:
        rows = [("inputs", (batch, seq_len), "(batch, seq_len)"),
                ("emb(inputs)", (batch, seq_len, embedding), "(batch, seq_len, embedding_size)"),
                ("h0", (layers, batch, emb_hidden), "(num_layers, batch, hidden_size)"),
                ("out", (batch, seq_len, emb_hidden), "(batch, seq_len, hidden_size)"),
                ("h_n", (layers, batch, emb_hidden), "(num_layers, batch, hidden_size)"),
                ("fc(out).view(-1, 4)", (batch * seq_len, classes), "(batch·seq_len, num_class)"),
                ("labels", (seq_len,), "(seq_len,)")]
    return ShapeTrace(columns=("tensor", "shape", "layout"),
                      rows=tuple((name, str(shape), what) for name, shape, what in rows),
                      notes={"layout": f"layout: {variant}"})


def rnn_classifier_trace(hidden: int, n_layers: int, bidirectional: bool, countries: int = 18) -> ShapeTrace:
    """The tensors of lesson 14's classifier for a batch of N names, the longest L letters."""
    directions = 2 if bidirectional else 1
    rows = [("inputs", "(N, L)", "(batch, seq_len)"),
            ("input.t()", "(L, N)", "(seq_len, batch)"),
            ("embedding", f"(L, N, {hidden})", "(seq_len, batch, hidden_size)"),
            ("packed.data", f"(ΣL, {hidden})", "(sum of lengths, hidden_size)"),
            ("hidden", f"({n_layers * directions}, N, {hidden})", "(num_layers·directions, batch, hidden_size)"),
            ("hidden_cat", f"(N, {directions * hidden})", "(batch, directions·hidden_size)"),
            ("fc_output", f"(N, {countries})", "(batch, countries)")]
    return ShapeTrace(columns=("tensor", "shape", "layout"), rows=tuple(rows),
                      notes={"layout": "layout: gru", "N, L": "N, L: names"})


# What the notes of the traces say, for the labels of the lessons that show them.
RNN_LABELS = {
    "layout: rnncell": Text("(seq_len, batch, input_size)：RNNCell 每次只吃一步 inputs[t]，形状 (batch, input_size)",
                            "(seq_len, batch, input_size): the RNNCell takes one step, inputs[t] of shape "
                            "(batch, input_size), at a time"),
    "layout: rnn": Text("(seq_len, batch, input_size)：nn.RNN 的默认（batch_first=False），一次吃下整个序列",
                        "(seq_len, batch, input_size): nn.RNN's default (batch_first=False), the whole sequence at once"),
    "layout: embedding": Text("(batch, seq_len, input_size)：batch_first=True 把 nn.RNN 默认的 (seq_len, batch, input_size) "
                              "前两维对调；h0 和 h_n 仍是 (num_layers, batch, hidden_size)",
                              "(batch, seq_len, input_size): batch_first=True swaps the first two dimensions of nn.RNN's "
                              "default (seq_len, batch, input_size); h0 and h_n stay (num_layers, batch, hidden_size)"),
    "layout: gru": Text("(seq_len, batch, input_size)：GRU 的默认（batch_first=False），所以先把 (batch, seq_len) 转置",
                        "(seq_len, batch, input_size): the GRU's default (batch_first=False), so (batch, seq_len) "
                        "is transposed first"),
    "N, L: names": Text("N 是这一批的姓氏数，L 是其中最长的姓氏的字母数", "N names in the batch, L letters in its longest name"),
    # the layouts of lesson 14's trace that name a dimension in words
    "(sum of lengths, hidden_size)": Text("(各姓氏字母数之和, hidden_size)", "(sum of lengths, hidden_size)"),
    "(num_layers·directions, batch, hidden_size)": Text("(num_layers·方向数, batch, hidden_size)",
                                                        "(num_layers·directions, batch, hidden_size)"),
    "(batch, directions·hidden_size)": Text("(batch, 方向数·hidden_size)", "(batch, directions·hidden_size)"),
    "(batch, countries)": Text("(batch, 国家数)", "(batch, countries)"),
}
SHAPE_LABELS = {
    "inception block": Text("Inception 块", "inception block"),
    "inception": Text("Inception 块", "inception"), "residual": Text("残差块", "residual"),
    "1x1: 16, 5x5: 24, 3x3: 24, pool: 24 channels → 88": Text("四条分支 1x1：16、5x5：24、3x3：24、池化：24 个通道 → 拼成 88",
                                                              "four paths, 1x1: 16, 5x5: 24, 3x3: 24, pool: 24 channels → 88"),
}
