"""What lessons 7 and 8 report about a diabetes classifier: its accuracy, and the baseline it must beat.

Not a lesson: the model and the training loop are in each lesson's own file.
"""

from labapp.lesson import Text

def accuracy(y_pred, y_data):
    """The share of rows where the predicted class (P ≥ 0.5 means 1) is the label."""
    return ((y_pred >= 0.5) == (y_data == 1)).float().mean().item()


def describe_data(y_data):
    """What a model that always answers the majority class would score: the baseline to beat."""
    rows, ones = len(y_data), int(y_data.sum().item())
    share = max(ones, rows - ones) / rows
    return {"rows": rows, "label 1": f"{ones} of {rows} ({ones / rows:.1%})",
            "always guessing the majority class": f"{share:.1%}"}


def final_result(model, criterion, x_data, y_data):
    """Loss, accuracy and how many rows the trained model calls 1, with the data's baseline."""
    import torch

    with torch.no_grad():
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data).item()
    said_one = int((y_pred >= 0.5).sum().item())
    result = describe_data(y_data)
    result.update({"loss": loss, "accuracy": f"{accuracy(y_pred, y_data):.1%}",
                   "predicted 1": f"{said_one} of {len(y_data)} rows"})
    return result


# The words of the reports above, in both languages.
LABELS = {
    "rows": Text("行数", "rows"), "label 1": Text("标签为 1", "label 1"),
    "always guessing the majority class": Text("永远猜多数类", "always guessing the majority class"),
    "predicted 1": Text("预测为 1", "predicted 1"),
}
