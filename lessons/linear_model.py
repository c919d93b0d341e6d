"""Lesson 1: a linear model found by trying every weight on a grid (exhaustive search)."""

from labapp.lesson import (Chart, ChoiceParam, FloatParam, Lesson, Metric, Text, Values, View, ViewValue,
                           less_than)


MAX_POINTS = 10_000


def grid_count(low: float, high: float, step: float) -> int:
    """How many of low, low + step, ... fit up to high included."""
    return int((high - low) / step + 1e-9) + 1


def grid(low: float, high: float, step: float) -> list[float]:
    """low, low + step, ... up to high included (rounded, so 0.1 * 3 prints as 0.3)."""
    return [round(low + i * step, 10) for i in range(grid_count(low, high, step))]


def train(hp: Values, run):
    """Evaluate the loss at every grid point, yielding one record per w."""
    if hp.variant == "wx":
        yield from search_w(hp, run)
    else:
        yield from search_w_and_b(hp, run)


def search_w(hp: Values, run):
    """ŷ = x·w on y = 2x: MSE for each w."""
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]

    def forward(x, w):
        return x * w

    def loss(x, y, w):
        y_pred = forward(x, w)
        return (y_pred - y) * (y_pred - y)

    w_list, mse_list = [], []
    for i, w in enumerate(grid(hp.w_min, hp.w_max, hp.step), start=1):
        l_sum = sum(loss(x, y, w) for x, y in zip(x_data, y_data))
        mse = l_sum / len(x_data)
        w_list.append(w)
        mse_list.append(mse)
        yield Metric(epoch=i, values={"w": w, "mse": mse})
        if run.should_stop:
            return
    best = min(range(len(w_list)), key=mse_list.__getitem__)
    yield Metric(epoch=len(w_list), values={"w": w_list[best], "loss": mse_list[best]}, split="best")  # the headline
    yield ViewValue("result", {
        "best w": w_list[best],
        "min MSE": round(mse_list[best], 6),
        f"MSE({w_list[0]:g})": round(mse_list[0], 3),
        f"MSE({w_list[-1]:g})": round(mse_list[-1], 3),
    })


def search_w_and_b(hp: Values, run):
    """ŷ = w·x + b on y = 3x + 2: the sum of squared errors over a (w, b) grid."""
    x_data = [1.0, 2.0, 3.0]
    y_data = [5.0, 8.0, 11.0]

    def sse(w, b):
        return sum((w * x + b - y) * (w * x + b - y) for x, y in zip(x_data, y_data))

    w_list = grid(hp.w_min, hp.w_max, hp.step)
    b_list = grid(hp.b_min, hp.b_max, hp.step)
    columns = []  # columns[i][j] = SSE(w_list[i], b_list[j])
    for i, w in enumerate(w_list, start=1):
        column = [sse(w, b) for b in b_list]
        columns.append(column)
        yield Metric(epoch=i, values={"w": w, "min_sse": min(column)})
        if run.should_stop:
            return
    z = [[columns[i][j] for i in range(len(w_list))] for j in range(len(b_list))]  # rows of b
    best_i, best_j = min(((i, j) for i in range(len(w_list)) for j in range(len(b_list))),
                         key=lambda ij: columns[ij[0]][ij[1]])
    best_w, best_b = w_list[best_i], b_list[best_j]
    yield Metric(epoch=len(w_list), values={"w": best_w, "b": best_b, "loss": columns[best_i][best_j]}, split="best")
    yield ViewValue("surface", {"x": w_list, "y": b_list, "z": z, "x_label": "w", "y_label": "b",
                                "mark": [best_w, best_b]})
    yield ViewValue("result", {
        "best w": best_w,
        "best b": best_b,
        "min SSE": round(columns[best_i][best_j], 6),
        f"SSE(w={w_list[0]:g}, b={b_list[0]:g})": round(columns[0][0], 3),
        f"SSE(w={w_list[-1]:g}, b={b_list[0]:g})": round(columns[-1][0], 3),
        f"SSE(w={w_list[-1]:g}, b={b_list[-1]:g})": round(columns[-1][-1], 3),
    })


def small_grid(hp: Values) -> str | None:
    """The rule that keeps the search quick: at most MAX_POINTS grid points."""
    names = "w_min, w_max, step" if hp.variant == "wx" else "w_min, w_max, b_min, b_max, step"
    widest = max(hp.w_max - hp.w_min, hp.b_max - hp.b_min if hp.variant == "wx+b" else 0)
    if widest / hp.step > MAX_POINTS:  # a tiny step: said before counting, which would overflow
        return f"{names}: the grid would have more than {MAX_POINTS:,} points (use a larger step)"
    count = grid_count(hp.w_min, hp.w_max, hp.step)
    if hp.variant == "wx+b":
        count *= grid_count(hp.b_min, hp.b_max, hp.step)
    if count <= MAX_POINTS:
        return None
    return f"{names}: the grid would have {count:,} points: at most {MAX_POINTS:,} (use a larger step)"


PARAMS = (
    ChoiceParam(name="variant", default="wx", choices=("wx", "wx+b"),
                help=Text("模型：ŷ = x·w，或作业中的 ŷ = w·x + b", "model: ŷ = x·w, or the homework's ŷ = w·x + b")),
    FloatParam(name="w_min", default=0.0, min=-1000, max=1000, help=Text("w 的起点", "first w of the grid")),
    FloatParam(name="w_max", default=4.0, min=-1000, max=1000, help=Text("w 的终点（包含）", "last w of the grid (included)")),
    FloatParam(name="step", default=0.1, min=0, min_open=True, max=100, help=Text("网格步长", "grid step")),
    FloatParam(name="b_min", default=0.0, min=-1000, max=1000, help=Text("b 的起点（wx+b）", "first b of the grid (wx+b)")),
    FloatParam(name="b_max", default=4.0, min=-1000, max=1000, help=Text("b 的终点（wx+b）", "last b of the grid (wx+b)")),
)


LESSON = Lesson(
    id="linear-model",
    number=1,
    title=Text("线性模型（穷举法）", "Linear model by exhaustive search"),
    params=PARAMS,
    rules=(less_than("w_min", "w_max"), less_than("b_min", "b_max"), small_grid),
    charts=(Chart(Text("MSE 随 w 变化（wx）", "MSE against w (wx)"), x="w", y=("mse",), short=Text("MSE", "MSE"),
                  needs=(("variant", "wx"),)),
            Chart(Text("各 w 下最小的误差平方和（wx+b）", "smallest SSE for each w (wx+b)"), x="w", y=("min_sse",),
                  short=Text("最小 SSE", "Min SSE"), needs=(("variant", "wx+b"),))),
    views=(View("result", "values", Text("结果", "Result")),
           View("surface", "heatmap", Text("损失曲面 SSE(w, b)", "Loss surface SSE(w, b)"))),
    train=train,
    uses_torch=False,
    unit="step",
    total=lambda hp: grid_count(hp.w_min, hp.w_max, hp.step),
    headline=("best", "loss"),  # the status line: the best w (and b) found, and its loss (MSE; SSE for wx+b)
    headline_also=("w", "b"),
    labels={"best": Text("最好的", "best"), "loss": Text("最小损失", "min loss"),"best w": Text("最好的 w", "best w"), "best b": Text("最好的 b", "best b"),
            "min MSE": Text("最小 MSE", "min MSE"), "min SSE": Text("最小误差平方和", "min SSE"),
            "mse": Text("均方误差", "mse"), "min_sse": Text("最小误差平方和", "min_sse")},
)
