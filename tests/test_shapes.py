"""Shapes worked out by arithmetic (lessons/_shapes.py) against torch as the oracle: build the model, run a dummy
forward pass, compare every layer's output shape; and the layer list refused before training (issue 17)."""

import math

import pytest
import torch

import lessons
from labapp import cli
from labapp.lesson import ParamError
from lessons import _shapes, cnn_advanced, cnn_basics, rnn_basics, rnn_classifier, sequential, softmax_mnist

PARAM = lessons.get("cnn-basics").param("layers")

LISTS = [
    "conv 10 5, pool 2, conv 20 5, pool 2, linear 10",  # the course's
    "conv 10 3, pool 2, conv 20 3, pool 2, linear 10",  # the homework: flatten 500
    "conv 8 3 pad 1, conv 8 3 pad 1, pool 2, conv 16 3 pad 1 stride 2, pool 3 stride 2, linear 32, linear 10",
    "conv 4 7 stride 3, pool 2 stride 1, conv 6 2, linear 10",
    "pool 2, pool 2, linear 10",
    "linear 10",
    "conv 12 5 pad 2, linear 64, linear 10",
    "conv 3 28, linear 10",  # a kernel as large as the image: 1x1 out
]


def torch_shapes(model, image=(1, 28, 28)):
    """Each of the model's layers' output shape (without the batch) in a dummy forward pass of two images."""
    seen = []
    hooks = [layer.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[1:]))) for layer in model.layers]
    with torch.no_grad():
        out = model(torch.zeros(2, *image))
    for hook in hooks:
        hook.remove()
    return seen, tuple(out.shape)


@pytest.mark.parametrize("text", LISTS)
def test_the_arithmetic_trace_is_the_shapes_torch_computes(text):
    layers = PARAM.parse(text)
    model = cnn_basics.make_model(layers)
    seen, out = torch_shapes(model)
    steps = _shapes.plan(layers)
    assert [step.output for step in steps] == seen and out == (2, 10)
    assert sum(step.parameters for step in steps) == sum(p.numel() for p in model.parameters())
    trace = _shapes.cnn_trace(layers)
    assert [row[1] for row in trace.rows if row[0] not in ("input", "flatten")] == [_shapes.dims(s) for s in seen]
    flat = next((s.input for s in steps if s.flatten), None)
    if flat is not None:  # the flatten size is what the first linear layer takes in torch
        first_linear = next(m for m in model.layers if isinstance(m, torch.nn.Linear))
        assert first_linear.in_features == math.prod(flat)
        assert trace.notes["flatten size"].endswith(f"= {math.prod(flat)}")


def test_the_homework_list_flattens_to_500_and_the_text_says_so():
    trace = _shapes.cnn_trace(PARAM.parse("conv 10 3, pool 2, conv 20 3, pool 2, linear 10"))
    assert trace.notes["flatten size"] == "20 × 5 × 5 = 500" and ("flatten", "(N, 500)", "") in trace.rows


def test_the_default_list_is_the_course_network_to_the_bit():
    """The same initial weights, outputs and gradients as the course's Net (conv1, conv2, pooling, fc)."""
    import torch.nn.functional as F

    class CourseNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = torch.nn.Conv2d(10, 20, kernel_size=5)
            self.pooling = torch.nn.MaxPool2d(2)
            self.fc = torch.nn.Linear(320, 10)

        def forward(self, x):
            batch_size = x.size(0)
            x = F.relu(self.pooling(self.conv1(x)))
            x = F.relu(self.pooling(self.conv2(x)))
            return self.fc(x.view(batch_size, -1))

    assert lessons.get("cnn-basics").defaults()["layers"] == _shapes.COURSE_LAYERS
    torch.manual_seed(3)
    course = CourseNet()
    torch.manual_seed(3)
    ours = cnn_basics.make_model()
    for a, b in zip(course.parameters(), ours.parameters(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(16, 1, 28, 28)
    target = torch.randint(0, 10, (16,))
    for model in (course, ours):
        torch.nn.CrossEntropyLoss()(model(x), target).backward()
    assert torch.equal(course(x), ours(x))
    for a, b in zip(course.parameters(), ours.parameters()):
        assert torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("text, words", [
    ("conv 10 5, pool 2, conv 20 5, pool 2, conv 40 5, linear 10",
     "layers: layer 5 (conv 40 5) gets 20×4×4 from layer 4 (pool 2): its 5×5 kernel does not fit a 4×4 input"),
    ("pool 29, linear 10", "size 29 is out of range"),
    ("conv 10 5, pool 2, pool 2, pool 2, pool 2, pool 2, linear 10", "layer 6 (pool 2) gets 10×1×1 from layer 5 (pool 2)"),
    ("conv 10 5, linear 50, conv 20 5, linear 10", "layer 3 (conv 20 5) comes after a linear layer"),
    ("conv 10 5, pool 2", "the last layer must be linear 10, one score per digit (it is pool 2)"),
    ("conv 10 5, linear 9", "the last layer must be linear 10"),
    ("", "layers: the list is empty"),
    ("conv 10 5,, linear 10", "layers: layer 2, '', is not a layer"),
    ("conv ten 5, linear 10", "layer 1, 'conv ten 5', is not a conv layer"),
    ("conv 10 5 stride 0, linear 10", "stride 0 is out of range"),
    ("pool 2 pad 1, linear 10", "layer 1, 'pool 2 pad 1', is not a pool layer"),
    ("linear 4096, linear 4096, linear 4096, linear 10", "parameters: at most 20,000,000"),
])
def test_a_list_that_cannot_work_is_refused_naming_the_layer(text, words):
    with pytest.raises(ParamError) as caught:
        PARAM.parse(text)
    assert words in str(caught.value)


def test_the_form_and_the_cli_say_the_same_before_training(capsys, tmp_path):
    from labapp.controller import Form

    bad = "conv 10 5, pool 2, conv 20 5, pool 2, conv 40 5, linear 10"
    form = Form(lessons.get("cnn-basics"))
    form.set("layers", bad)
    assert cli.main(["run", "cnn-basics", "--layers", bad, "--out", str(tmp_path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() == form.errors["layers"] and "layer 5 (conv 40 5)" in err
    assert not list(tmp_path.iterdir())  # refused before any run began


def test_labapp_run_shapes_prints_the_trace_and_stops(capsys):
    assert cli.main(["run", "cnn-basics", "--layers", "conv 10 3, pool 2, conv 20 3, pool 2, linear 10",
                     "--shapes", "--lang", "en"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "conv 20 3  (N, 20, 11, 11)" in out and "flatten size: 20 × 5 × 5 = 500" in out


def test_a_layer_list_formats_and_parses_back():
    layers = PARAM.parse(" CONV 8 3 padding 1 stride 2 , pool 3 stride 2, linear 10 ")
    assert layers == (("conv", 8, 3, 1, 2), ("pool", 3, 2), ("linear", 10))
    assert PARAM.format(layers) == "conv 8 3 pad 1 stride 2, pool 3 stride 2, linear 10"
    assert PARAM.parse(PARAM.format(layers)) == layers
    assert PARAM.format([list(layer) for layer in layers]) == PARAM.format(layers)  # as read back from JSON


# -- every model of lessons 9-14 ---------------------------------------------------------------------

def module_shapes(model, modules, *inputs):
    seen = {}

    def note(name):
        def hook(module, args, output):  # returns None: the output stays as it is
            seen.setdefault(name, tuple(output.shape[1:]))
        return hook

    hooks = [m.register_forward_hook(note(name)) for name, m in modules.items()]
    with torch.no_grad():
        model(*inputs)
    for hook in hooks:
        hook.remove()
    return seen


def parsed(row):
    return tuple(int(n) for n in row[1].strip("()").split(", ")[1:])


@pytest.mark.parametrize("name, model", [
    ("mlp", lambda: softmax_mnist.make_model()), ("inception", lambda: cnn_advanced.make_model("inception")),
    ("resnet", lambda: cnn_advanced.make_model("resnet"))])
def test_the_fixed_models_traces_are_torchs_shapes(name, model):
    model = model()
    trace = _shapes.model_trace(name)
    rows = [row for row in trace.rows if row[0] not in ("input", "flatten")]
    modules = {"mlp": ["l1", "l2", "l3", "l4", "l5"],
               "inception": ["conv1", "mp", "incep1", "conv2", "mp2", "incep2", "fc"],
               "resnet": ["conv1", "mp", "rblock1", "conv2", "mp2", "rblock2", "fc"]}[name]
    # the pooling module runs twice: its second output is caught by a hook on the module after it
    named = {n: getattr(model, n) for n in modules if n != "mp2"}
    seen = module_shapes(model, named, torch.zeros(2, 1, 28, 28))
    inputs = {}

    def note_input(name):
        def hook(module, args):
            inputs.setdefault(name, tuple(args[0].shape[1:]))
        return hook

    hooks = [getattr(model, n).register_forward_pre_hook(note_input(n)) for n in ("incep2", "rblock2") if hasattr(model, n)]
    with torch.no_grad():
        model(torch.zeros(2, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    seen["mp2"] = inputs.get("incep2") or inputs.get("rblock2")
    assert [parsed(row) for row in rows] == [seen[n] for n in modules]
    assert sum(row[2] for row in rows) == sum(p.numel() for p in model.parameters())


def test_sequential_traces_match_its_sequential_models():
    for name in ("mlp", "cnn", "inception", "resnet"):
        model = sequential.make_model(name)
        with torch.no_grad():
            out = model(torch.zeros(2, 1, 28, 28))
        trace = lessons.get("sequential").shapes(lessons.get("sequential").resolve({"model": name}))
        assert parsed(trace.rows[-1]) == tuple(out.shape[1:])
        linear = [m for m in model if isinstance(m, torch.nn.Linear)][0]
        flat = next(row for row in trace.rows if row[0] == "flatten")
        assert parsed(flat) == (linear.in_features,)
        assert sum(r[2] for r in trace.rows if isinstance(r[2], int)) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("variant", ["rnncell", "rnn", "embedding"])
def test_the_rnn_basics_trace_is_the_shapes_torch_shows(variant):
    model = rnn_basics.make_model(variant)
    inputs, labels = rnn_basics.make_data(variant, "cpu")
    oracle = {name: shape for name, shape, _ in rnn_basics.shapes(model, variant, inputs, labels)["rows"]}
    trace = rnn_basics_trace = lessons.get("rnn-basics").shapes(lessons.get("rnn-basics").resolve({"variant": variant}))
    assert {row[0]: row[1] for row in rnn_basics_trace.rows} == oracle
    assert trace.notes["layout"] == f"layout: {variant}"
    assert "(seq_len, batch, input_size)" in lessons.get("rnn-basics").label(trace.notes["layout"], "en")


@pytest.mark.parametrize("bidirectional, n_layers, hidden", [(True, 2, 100), (False, 1, 7), (True, 3, 5)])
def test_the_rnn_classifier_trace_is_the_shapes_torch_shows(bidirectional, n_layers, hidden):
    from lessons._names import make_tensors, sorted_batch

    model = rnn_classifier.make_model(hidden, n_layers, bidirectional, 18)
    seq, lengths, y = make_tensors(["Adsit", "Ma", "Nakamura"], [0, 1, 2])
    inputs, lengths, _ = sorted_batch(seq, lengths, y, torch.arange(3))
    oracle = [shape for _, shape in rnn_classifier.shapes(model, inputs, lengths)["rows"]]
    trace = rnn_classifier_trace = _shapes.rnn_classifier_trace(hidden, n_layers, bidirectional)
    n, longest, letters = 3, int(lengths.max()), int(lengths.sum())
    symbolic = [row[1].replace("ΣL", str(letters)).replace("N", str(n)).replace("L", str(longest))
                for row in rnn_classifier_trace.rows]
    assert [s.replace(" ", "") for s in symbolic] == [s.replace(" ", "") for s in oracle]
    assert "(seq_len, batch, input_size)" in lessons.get("rnn-classifier").label(trace.notes["layout"], "en")


def test_every_model_lesson_has_a_trace_and_the_others_none():
    with_models = {lesson.id for lesson in lessons.LESSONS if lesson.shapes is not None}
    assert with_models == {"softmax-mnist", "cnn-basics", "sequential", "cnn-advanced", "rnn-basics", "rnn-classifier"}
    for lesson in lessons.LESSONS:
        if lesson.shapes is not None:
            text = lesson.shapes(lesson.defaults()).text(lambda word: lesson.label(word, "zh"))
            assert text and "形状" in text


# -- the workbench: the shapes for the form's values, in the Results panel, as the list is typed --------------

async def test_the_results_panel_shows_the_shapes_and_follows_the_layer_list_as_typed():
    from labapp.app import LabApp
    from tests.test_app import set_field, until

    app = LabApp(lesson_id="cnn-basics", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.lesson.id == "cnn-basics")
        view = app.workbench.view
        await pilot.press("7")  # the Results panel
        await pilot.pause()
        shapes = lambda: str(view.shapes.render())  # noqa: E731
        assert "flatten size: 20 × 4 × 4 = 320" in shapes() and view.shapes.region.width > 0
        await set_field(pilot, "layers", "conv 10 3, pool 2, conv 20 3, pool 2, linear 10")
        await until(pilot, lambda: "20 × 5 × 5 = 500" in shapes())
        bad = "conv 10 5, pool 2, conv 20 5, pool 2, conv 40 5, linear 10"
        await set_field(pilot, "layers", bad)
        await until(pilot, lambda: "a value in the form is wrong" in shapes())
        error = str(view.query_one("#error-layers").render())
        assert "layer 5 (conv 40 5)" in error and "does not fit a 4×4 input" in error
        assert not app.bench.form().valid  # Run is refused until the list can work


@pytest.mark.parametrize("text", [LISTS[1], LISTS[2], LISTS[4]])
def test_the_take_away_program_builds_the_same_network_from_the_list(text, tmp_path):
    """`labapp code cnn-basics --layers ...`: the program's shapes and its Net are the lesson's, weight for weight."""
    import runpy

    from labapp.program import program_source

    lesson = lessons.get("cnn-basics")
    values = lesson.resolve({"layers": text})
    path = tmp_path / "cnn_basics.py"
    path.write_text(program_source(lesson, values), encoding="utf-8")
    program = runpy.run_path(str(path), run_name="not_main")  # its definitions, without training
    assert program["layers"] == values["layers"]
    assert [tuple(s) for s in program["shapes"]()] == [step.output for step in _shapes.plan(values["layers"])]
    torch.manual_seed(5)
    theirs = program["Net"]()
    torch.manual_seed(5)
    ours = cnn_basics.make_model(values["layers"])
    for a, b in zip(theirs.parameters(), ours.parameters(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(theirs(x), ours(x))
