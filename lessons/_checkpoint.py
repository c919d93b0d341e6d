"""Lesson 14's trained model as plain data: what the Try-it box answers with, and what --load reads back.

Not a lesson: the bookkeeping around the course's program, so that the lesson file holds the program.
The run's checkpoints (labapp.checkpoints: checkpoint-last.pt and checkpoint-best.pt in its folder)
are what --load reads; there is no separate model file.
"""

from pathlib import Path


def snapshot(model, hp, countries, epoch, accuracy):
    """The trained model as plain data on the cpu: what `predict` reads."""
    return {"lesson": "rnn-classifier", "hidden_size": hp.hidden_size, "n_layers": hp.n_layers,
            "bidirectional": hp.bidirectional, "countries": list(countries), "epoch": epoch,
            "test_accuracy": accuracy, "model": {k: v.detach().to("cpu", copy=True)
                                                 for k, v in model.state_dict().items()}}


def checkpoint_file(path):
    """The checkpoint that --load reads: a run folder's best one (else its last), or the file named."""
    from labapp.checkpoints import BEST, LAST

    path = Path(path).expanduser()
    if path.is_dir():
        return next((path / name for name in (BEST, LAST) if (path / name).is_file()), path / BEST)
    return path


def load_checkpoint(path):
    """The snapshot of the model in a run folder's checkpoint (or a checkpoint file); ValueError if it is not one."""
    from labapp.checkpoints import CheckpointError, read_checkpoint

    file = checkpoint_file(path)
    try:
        saved = read_checkpoint(file)
    except CheckpointError as error:
        raise ValueError(f"{path}: {error}: give the folder of an rnn-classifier run") from None
    if saved.get("lesson") != "rnn-classifier" or "model" not in saved["state"]:
        raise ValueError(f"{path} is not a checkpoint of rnn-classifier: give the folder of an rnn-classifier run")
    params, metric = saved["params"], saved.get("metric") or {}
    return {"lesson": "rnn-classifier", "hidden_size": params["hidden_size"], "n_layers": params["n_layers"],
            "bidirectional": params["bidirectional"], "countries": list(saved["state"]["countries"]),
            "epoch": saved["epoch"], "test_accuracy": metric.get("value", float("nan")),
            "model": saved["state"]["model"], "file": str(file)}
