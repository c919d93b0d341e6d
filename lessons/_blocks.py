"""Model parts that lessons share: the course's Inception and residual blocks, and a look inside a model.

`watch` runs a model once with forward hooks on some of its layers: lessons 11, 12 and 14 use it to
show the real shapes of a forward pass and a model summary.
"""

import functools

from labapp.lesson import Text


@functools.cache
def _blocks():
    """The course's two blocks, as classes made on first use (this module imports without torch)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class InceptionA(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

            self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

            self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
            self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

            self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

        def forward(self, x):                                                      # (N, C, H, W)
            branch1x1 = self.branch1x1(x)                                          # (N, 16, H, W)
            branch5x5 = self.branch5x5_2(self.branch5x5_1(x))                      # (N, 24, H, W)
            branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))    # (N, 24, H, W)
            branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))  # (N, 24, H, W)
            outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
            return torch.cat(outputs, dim=1)                                       # (N, 88, H, W)

    class ResidualBlock(nn.Module):
        def __init__(self, channels, skip=True):
            super().__init__()
            self.channels = channels
            self.skip = skip  # False: the mistake of lesson 12, a plain block without the skip connection
            self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

        def forward(self, x):
            y = F.relu(self.conv1(x))
            y = self.conv2(y)
            if not self.skip:
                return F.relu(y)
            return F.relu(x + y)                  # the same shape in and out, so x can be added

    return InceptionA, ResidualBlock


def inception_block(in_channels):
    """The course's InceptionA: four paths concatenated to 88 channels."""
    return _blocks()[0](in_channels)


def residual_block(channels, skip=True):
    """The course's ResidualBlock: relu(x + conv3x3(relu(conv3x3(x)))); without the skip, relu(conv3x3(relu(conv3x3(x))))."""
    return _blocks()[1](channels, skip)


def watch(model, inputs, hooks):
    """Run `model(*inputs)` once without gradients, calling hooks[layer](layer, args, output) as each layer runs.

    Only shapes are looked at: no random numbers are drawn, so training starts as it would without it.
    """
    import torch

    handles = [layer.register_forward_hook(hook) for layer, hook in hooks.items()]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()


def shape(tensor):
    """'(N, 10, 24, 24)': an output's shape, N for the batch."""
    return "(" + ", ".join(["N", *map(str, tensor.shape[1:])]) + ")"


def layer_name(name, module):
    """'conv1: Conv2d(1, 10, 5x5)': a layer by its name in the model and what it is."""
    kind = type(module).__name__
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size"):
        kind += f"({module.in_channels}, {module.out_channels}, {module.kernel_size[0]}x{module.kernel_size[1]})"
    elif hasattr(module, "in_features"):
        kind += f"({module.in_features}, {module.out_features})"
    elif kind.endswith("Pool2d"):
        kind += f"({module.kernel_size})"
    return f"{name}: {kind}"


def summarize(model, input_shape=(1, 28, 28)):
    """A table: each of the model's top-level layers in the order its forward pass calls them, the output
    shape and the parameter count (a layer called twice counts once); the last row is the total."""
    import torch

    rows, counted = [], set()

    def note(name):
        def hook(module, inputs, output):
            params = 0 if id(module) in counted else sum(p.numel() for p in module.parameters())
            counted.add(id(module))
            rows.append([layer_name(name, module), shape(output), params])
        return hook

    device = next(model.parameters()).device
    watch(model, [torch.zeros(1, *input_shape, device=device)],  # one dummy image
          {module: note(name) for name, module in model.named_children()})
    total = sum(row[2] for row in rows) + sum(p.numel() for p in model.parameters(recurse=False))
    return {"columns": ["layer", "output shape", "params"], "rows": rows + [["total", "", total]]}


# The words of `summarize`'s table, for the `labels` of the lessons that show it.
SUMMARY_LABELS = {"layer": Text("层", "layer"), "output shape": Text("输出形状", "output shape"),
                  "params": Text("参数个数", "params"), "total": Text("合计", "total")}
