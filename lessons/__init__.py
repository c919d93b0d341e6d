"""The course's lessons in course order. Importing this package does not import torch."""

from labapp.lesson import Lesson, Text
from lessons import backprop, gradient_descent, linear_model
from lessons import dataset_dataloader, multi_dim_input
from lessons import linear_regression, logistic_regression, loss_functions


def _planned(number: int, id: str, zh: str, en: str) -> Lesson:
    """A lesson of the catalogue whose program is not built yet: listed, not runnable."""
    return Lesson(id=id, number=number, title=Text(zh, en))


LESSONS: tuple[Lesson, ...] = (
    linear_model.LESSON,
    gradient_descent.LESSON,
    backprop.LESSON,
    linear_regression.LESSON,
    loss_functions.LESSON,
    logistic_regression.LESSON,
    multi_dim_input.LESSON,
    dataset_dataloader.LESSON,
    _planned(9, "softmax-mnist", "多分类问题", "Softmax classifier (MNIST)"),
    _planned(10, "cnn-basics", "卷积神经网络基础", "Basic CNN"),
    _planned(11, "sequential", "nn.Sequential", "Building models with nn.Sequential"),
    _planned(12, "cnn-advanced", "卷积神经网络高级", "Advanced CNN: Inception and ResNet"),
    _planned(13, "rnn-basics", "循环神经网络基础", "Basic RNN"),
    _planned(14, "rnn-classifier", "循环神经网络高级", "RNN classifier: names to countries"),
)


def get(lesson_id: str) -> Lesson:
    """The lesson called `lesson_id` (or numbered so); KeyError if there is none."""
    for lesson in LESSONS:
        if lesson_id in (lesson.id, str(lesson.number)):
            return lesson
    raise KeyError(lesson_id)
