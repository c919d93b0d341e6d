"""The course's lessons in course order. Importing this package does not import torch."""

from labapp.lesson import Lesson, Text
from lessons import backprop, gradient_descent, linear_model
from lessons import dataset_dataloader, multi_dim_input
from lessons import linear_regression, logistic_regression, loss_functions
from lessons import cnn_advanced, cnn_basics, sequential, softmax_mnist
from lessons import rnn_basics, rnn_classifier


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
    softmax_mnist.LESSON,
    cnn_basics.LESSON,
    sequential.LESSON,
    cnn_advanced.LESSON,
    rnn_basics.LESSON,
    rnn_classifier.LESSON,
)


def get(lesson_id: str) -> Lesson:
    """The lesson called `lesson_id` (or numbered so); KeyError if there is none."""
    for lesson in LESSONS:
        if lesson_id in (lesson.id, str(lesson.number)):
            return lesson
    raise KeyError(lesson_id)
