"""Step mode for the lessons that train with torch.optim: the Step record of each optimizer update.

`Updates(model, optimizer, names)` notes every parameter's value just before each `optimizer.step()`
(an optimizer step pre-hook), so the record made after the step has the values before and after it,
and each parameter's gradient from its `.grad`.
"""

from labapp.lesson import Step, StepLater


def plain(tensor):
    """A tensor as Python numbers: a number for one element, else a flat list ((N, 1) data reads as N numbers)."""
    tensor = tensor.detach()
    return tensor.item() if tensor.numel() == 1 else tensor.flatten().tolist()


class Updates:
    """Makes the Step record of each update of `optimizer`; `names` are the course's names of the parameters."""

    def __init__(self, model, optimizer, names):
        self.parameters = {names.get(name, name): p for name, p in model.named_parameters()}
        self.optimizer = optimizer
        self.before = {}
        optimizer.register_step_pre_hook(self._note)

    def _note(self, optimizer, args, kwargs):
        self.before = {name: plain(p) for name, p in self.parameters.items()}

    def record(self, epoch, batch, forward, loss):
        """The update just made: `batch` and `forward` map names to tensors, `loss` is the loss before it.

        Its numbers are read only if step mode shows it (at full speed that would cost a tenth of the step).
        """
        before = self.before

        def make():
            group = self.optimizer.param_groups[0]
            name = type(self.optimizer).__name__
            descent = name == "SGD" and not group.get("momentum") and not group.get("weight_decay")
            return Step(epoch, batch={k: plain(v) for k, v in batch.items()},
                        forward={k: plain(v) for k, v in forward.items()}, loss=loss.item(),
                        grads={name: plain(p.grad) for name, p in self.parameters.items()},
                        before=before, after={name: plain(p) for name, p in self.parameters.items()},
                        lr=group["lr"] if descent else None, rule="" if descent else f"{name}.step()")

        return StepLater(make)
