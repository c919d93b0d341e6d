"""Lesson 1, a linear model by exhaustive search: the course's program (no torch).

ŷ = x·w on y = 2x: the mean squared error MSE(w) for every w of a grid, and the best w.
The homework variant 'wx+b': ŷ = w·x + b on y = 3x + 2, the sum of squared errors over a (w, b) grid.
"""

import random

# -- settings: the lesson's params and the run's seed (labapp code writes them in) --------------
variant = 'wx'  # param: 'wx' or the homework's 'wx+b'
w_min = 0.0  # param: first w of the grid
w_max = 4.0  # param: last w of the grid (included)
step = 0.1  # param: grid step
b_min = 0.0  # param: first b of the grid (wx+b)
b_max = 4.0  # param: last b of the grid (wx+b)
seed = 0  # option: nothing here is random, but a run is seeded all the same

random.seed(seed)


def grid(low, high, step):
    """low, low + step, ... up to high included (rounded, so 0.1 * 3 prints as 0.3)."""
    count = int((high - low) / step + 1e-9) + 1
    return [round(low + i * step, 10) for i in range(count)]


if variant == 'wx':
    # -- ŷ = x·w ---------------------------------------------------------------------------------
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]

    def forward(x):
        return x * w

    def loss(x, y):
        y_pred = forward(x)
        return (y_pred - y) * (y_pred - y)

    w_list = []
    mse_list = []
    for w in grid(w_min, w_max, step):
        print('w=', w)
        l_sum = 0
        for x_val, y_val in zip(x_data, y_data):
            y_pred_val = forward(x_val)
            loss_val = loss(x_val, y_val)
            l_sum += loss_val
            print('\t', x_val, y_val, y_pred_val, loss_val)
        print('MSE=', l_sum / 3)
        w_list.append(w)
        mse_list.append(l_sum / 3)

    best = mse_list.index(min(mse_list))
    print('best w =', w_list[best], ' min MSE =', mse_list[best])
    print(f'final train: w {w:.5g}  mse {mse_list[-1]:.5g}')
    print(f'final best: w {w_list[best]:.5g}  loss {mse_list[best]:.5g}')
else:
    # -- the homework: ŷ = w·x + b ---------------------------------------------------------------
    x_data = [1.0, 2.0, 3.0]
    y_data = [5.0, 8.0, 11.0]

    def sse(w, b):
        """The sum (not the mean) of squared errors, as the course's homework prints it."""
        return sum((w * x + b - y) * (w * x + b - y) for x, y in zip(x_data, y_data))

    w_list = grid(w_min, w_max, step)
    b_list = grid(b_min, b_max, step)
    best = None  # (sse, w, b)
    for w in w_list:
        column = [sse(w, b) for b in b_list]
        print('w=', w, ' smallest SSE over b =', min(column))
        for b, value in zip(b_list, column):
            if best is None or value < best[0]:
                best = (value, w, b)

    print('SSE(w=%g, b=%g) =' % (w_list[0], b_list[0]), sse(w_list[0], b_list[0]))
    print('SSE(w=%g, b=%g) =' % (w_list[-1], b_list[0]), sse(w_list[-1], b_list[0]))
    print('SSE(w=%g, b=%g) =' % (w_list[-1], b_list[-1]), sse(w_list[-1], b_list[-1]))
    print('best w =', best[1], ' best b =', best[2], ' min SSE =', best[0])
    print(f'final train: w {w:.5g}  min_sse {min(column):.5g}')
    print(f'final best: w {best[1]:.5g}  b {best[2]:.5g}  loss {best[0]:.5g}')
