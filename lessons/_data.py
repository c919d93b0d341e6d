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

MNIST = ImageSet(
    "mnist", "MNIST",
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "handwritten digits, 28x28: 60,000 to train on and 10,000 to test (lessons 9-12)")
