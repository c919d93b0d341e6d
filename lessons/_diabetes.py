"""What lessons 7 and 8 report about a diabetes classifier: its accuracy, and the baseline it must beat.

Not a lesson: the model and the training loop are in each lesson's own file.
"""

from labapp import confusion
from labapp.lesson import Text, View, both

CLASSES = ["0", "1"]  # the label's two values, in the order of the confusion matrix

def accuracy(y_pred, y_data):
    """The share of rows where the predicted class (P ≥ 0.5 means 1) is the label."""
    return ((y_pred >= 0.5) == (y_data == 1)).float().mean().item()


def describe_data(y_data):
    """What a model that always answers the majority class would score: the baseline to beat."""
    rows, ones = len(y_data), int(y_data.sum().item())
    share = max(ones, rows - ones) / rows
    return {"rows": rows, "label 1": both(f"{rows} 行中 {ones} 行（{ones / rows:.1%}）", f"{ones} of {rows} ({ones / rows:.1%})"),
            "always guessing the majority class": f"{share:.1%}"}


def after_training(model, criterion, x_data, y_data, epoch):
    """The trained model on every row: a Metric of split 'after training' (the lesson's headline) and the Result view.

    Both carry the same loss and accuracy, so the status line and the Results panel agree; the
    per-epoch accuracy of the charts is the one measured while the epoch trained.
    """
    import torch

    from labapp.lesson import Metric, ViewValue

    with torch.no_grad():
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data).item()
    right = accuracy(y_pred, y_data)
    said_one = int((y_pred >= 0.5).sum().item())
    result = describe_data(y_data)
    result.update({"loss": loss, "accuracy": f"{right:.1%}",
                   "predicted 1": both(f"{len(y_data)} 行中 {said_one} 行", f"{said_one} of {len(y_data)} rows")})
    return [Metric(epoch=epoch, values={"loss": loss, "accuracy": right}, split=AFTER),
            ViewValue("result", result)]


AFTER = "after training"  # the split of the trained model's values
HEADLINE = (AFTER, "accuracy")


def mistakes(model, x_data, y_data):
    """What the trained model gets wrong, on the rows it trained on (the course keeps no test split)."""
    import torch

    with torch.no_grad():
        y_pred = model(x_data).flatten()                   # (N,): P(y = 1) for each row
    predicted = (y_pred >= 0.5).long()                     # the class it answers
    sure = torch.where(predicted == 1, y_pred, 1 - y_pred)  # the probability it gives that answer
    return confusion.summary(CLASSES, y_data.flatten().long().tolist(), predicted.tolist(), sure.tolist(),
                             example=lambda i: i + 1)      # a row is shown by its number in the file


MISTAKES = View("mistakes", confusion.KIND, Text("错在哪里：训练数据上的混淆矩阵（课程没有留出测试集）",
                                                 "What it gets wrong: the confusion matrix on the rows it trained on "
                                                 "(the course keeps no test split)"))


# The words of the reports above, in both languages.
LABELS = {
    "rows": Text("行数", "rows"), "label 1": Text("标签为 1", "label 1"),
    "always guessing the majority class": Text("永远猜多数类", "always guessing the majority class"),
    "predicted 1": Text("预测为 1", "predicted 1"),
    AFTER: Text("训练后", "after training"),
}
