"""The course's data files: which files, where they come from, and their published checksums.

labapp.data finds, downloads and verifies files described here; a lesson names the ones it reads
in its `data`. `labapp data` lists every file that some lesson declares.
"""

from labapp.data import Dataset, ImageSet

_ORIGIN = "https://raw.githubusercontent.com/hunkim/PyTorchZeroToAll/master/data/"

DIABETES = Dataset(
    "diabetes", "diabetes.csv.gz", "398214d0f6b7f4a722f598d8e424f28bc078abbd16ebdeea0f8e264492325aa4", 13_539,
    (_ORIGIN + "diabetes.csv.gz", "https://raw.githubusercontent.com/luyuil/Pytorch_study/master/diabetes.csv.gz"),
    "759 rows: 8 features scaled to [-1, 1] and a 0/1 label (lessons 7 and 8)")

NAMES_TRAIN = Dataset(
    "names_train", "names_train.csv.gz", "49b4bf41dce5bfeac989b46ca37cf7baccd9a0d2a855df82f86de67a9376268f", 50_237,
    (_ORIGIN + "names_train.csv.gz",), "13,374 surnames and their countries (lesson 14)")

NAMES_TEST = Dataset(
    "names_test", "names_test.csv.gz", "57d7758db533a42c99d513b2341a7e7b0f55c1e0e7d233b1ef6a4fa2f1adf753", 27_541,
    (_ORIGIN + "names_test.csv.gz",), "6,700 surnames and their countries (lesson 14)")

# MNIST's mirrors, tried in order: torchvision's own first, then the copy TensorFlow's tutorials used, then
# the original site (which often refuses downloads nowadays).
_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/",
                  "http://yann.lecun.com/exdb/mnist/")


def _mnist_file(name: str, md5: str, size: int) -> Dataset:
    """One of MNIST's published gzipped files: its md5 is the one published (and checked by torchvision)."""
    return Dataset(f"mnist {name}", f"{name}.gz", "", size, tuple(f"{mirror}{name}.gz" for mirror in _MNIST_MIRRORS),
                   "part of MNIST", md5=md5)


MNIST = ImageSet(
    "mnist", "MNIST",
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    _MNIST_MIRRORS,
    "handwritten digits, 28x28: 60,000 to train on and 10,000 to test (lessons 9-12)",
    packed=(_mnist_file("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            _mnist_file("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            _mnist_file("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            _mnist_file("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", 4_542)))
