"""Lesson 14's trained model as plain data: what the Try-it box answers with, and what --save and --load keep.

Not a lesson: the bookkeeping around the course's program, so that the lesson file holds the program.
"""

from pathlib import Path


def snapshot(model, hp, countries, epoch, accuracy):
    """The trained model as plain data on the cpu: what `predict` reads and what --save writes."""
    return {"lesson": "rnn-classifier", "hidden_size": hp.hidden_size, "n_layers": hp.n_layers,
            "bidirectional": hp.bidirectional, "countries": list(countries), "epoch": epoch,
            "test_accuracy": accuracy, "model": {k: v.detach().to("cpu", copy=True)
                                                 for k, v in model.state_dict().items()}}


def load_checkpoint(path):
    """A snapshot saved with --save on; ValueError if the file is not one."""
    import torch

    try:
        state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same plain message
        said = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"{path} is not a model saved by rnn-classifier ({said[:80]})") from None
    if not isinstance(state, dict) or state.get("lesson") != "rnn-classifier":
        raise ValueError(f"{path} is not a model saved by rnn-classifier")
    return state


def save(state, run):
    """Write the model to model.pt in the run's folder; what was done, for the checkpoint view."""
    import torch

    if run.out_dir is None:
        return {"not saved": "this run keeps no folder (--no-record): run without it to save"}
    path = run.out_dir / "model.pt"
    torch.save(state, path)
    run.log(f"saved the model of epoch {state['epoch']} to {path}")
    return {"saved": str(path), "try it": f"labapp run rnn-classifier --load {path} --predict Nakamura"}
