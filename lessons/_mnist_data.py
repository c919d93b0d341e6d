"""MNIST for lessons 9-12: torchvision's class, served the course's way or prepared once; digits drawn as text.

The course loads MNIST with a DataLoader that runs ToTensor and Normalize on every image of every
epoch; labapp can do exactly that (loader 'dataloader'), but by default it does the same arithmetic
once per split and serves mini-batches by slicing one tensor (loader 'tensors'): the same numbers,
the same batches in the same order, a fraction of the time.
"""

import time

from labapp.lesson import both

MEAN, STD = 0.1307, 0.3081  # the course's Normalize((0.1307,), (0.3081,)): MNIST's pixel mean and std
TEST_BATCH = 1000  # the test pass only counts right answers, so the batch size changes nothing but speed


def course_transform():
    """The course's transform, applied by the DataLoader to one image at a time."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.ToTensor(),                      # PIL image 28x28, 0-255 -> tensor (1, 28, 28), 0-1
        transforms.Normalize((MEAN,), (STD,)),      # (x - mean) / std: pixels centred on 0
    ])


def normalise(images):
    """The course's transform done on many images at once: uint8 (N, 28, 28) -> float (N, 1, 28, 28).

    The same operations as ToTensor and Normalize, in the same order and precision, so the numbers are
    the same to the last bit.
    """
    import torch
    from torchvision import transforms

    x = images.unsqueeze(1).to(torch.get_default_dtype()).div(255)   # ToTensor
    return transforms.Normalize((MEAN,), (STD,))(x)                    # Normalize works on a batch too


def epoch_order(n, shuffle):
    """This pass's order of n samples (None: as stored), drawn as a DataLoader draws it from torch's generator.

    Each pass over a DataLoader takes one number for its workers' base seed, shuffled or not; with
    shuffle=True its RandomSampler takes one more to seed a generator of its own, and shuffles with
    it. Drawing the same way keeps the batches, and every random number after them, the course's.
    """
    import torch

    torch.empty((), dtype=torch.int64).random_()                     # the DataLoader's base seed
    if not shuffle:
        return None
    seed = int(torch.empty((), dtype=torch.int64).random_().item())  # the RandomSampler's seed
    generator = torch.Generator()
    generator.manual_seed(seed)
    return torch.randperm(n, generator=generator)


def fits(nbytes, device):
    """Whether a tensor of `nbytes` can live on `device` with room to spare for the model and activations."""
    import torch

    if device.type != "cuda":
        return True  # cpu memory, or MPS's memory shared with the cpu
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes < free // 2


class Prepared:
    """One split prepared once: all images normalised into one tensor x (N, 1, 28, 28) and labels y (N,)."""

    def __init__(self, dataset, batch_size, device):
        self.batch_size, self.device = batch_size, device
        x, y = normalise(dataset.data), dataset.targets
        self.on_device = fits(x.numel() * x.element_size(), device)
        if device.type == "cuda":
            x, y = x.pin_memory(), y.pin_memory()  # page-locked: copies to the GPU can overlap with work
        if self.on_device:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        self.x, self.y = x, y
        self.nbytes = x.numel() * x.element_size()

    def __len__(self):
        return len(self.y)

    def batches(self, shuffle):
        """Mini-batches (inputs, target) on the device: DataLoader(batch_size, shuffle)'s batches, by slicing."""
        n = len(self.y)
        order = epoch_order(n, shuffle)
        order = None if order is None else order.to(self.x.device)
        for start in range(0, n, self.batch_size):
            if order is None:
                inputs, target = self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                index = order[start:start + self.batch_size]
                inputs, target = self.x.index_select(0, index), self.y.index_select(0, index)
            yield inputs.to(self.device, non_blocking=True), target.to(self.device, non_blocking=True)

    def describe(self):
        shape, size, device = tuple(self.x.shape), f"{self.nbytes / 2**20:.1f} MiB", str(self.x.device)
        if self.on_device:
            return both(f"一次归一化成一个张量 {shape}，{size}，在 {device} 上",
                        f"normalised once into one tensor {shape}, {size}, on {device}")
        return both(f"一次归一化成一个张量 {shape}，{size}，在 {device} 上（{self.device} 放不下：每批再拷过去）",
                    f"normalised once into one tensor {shape}, {size}, on {device} "
                    f"(too big for {self.device}: batches copied over)")


class CourseLoader:
    """The course's pipeline: a DataLoader calls the dataset (and so ToTensor and Normalize) once per image."""

    def __init__(self, dataset, batch_size, device, shuffle):
        from torch.utils.data import DataLoader

        dataset.transform = course_transform()
        self.device = device
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                                 pin_memory=device.type == "cuda")  # page-locked batches for non_blocking copies

    def __len__(self):
        return len(self.loader.dataset)

    def batches(self, shuffle):
        """The DataLoader's mini-batches, moved to the device (shuffled or not as the loader was made)."""
        for inputs, target in self.loader:
            yield inputs.to(self.device, non_blocking=True), target.to(self.device, non_blocking=True)

    def describe(self):
        return both("课程的做法：DataLoader 每轮对每张图片做 ToTensor 和 Normalize",
                    "a DataLoader: ToTensor and Normalize on each image, every epoch (the course's way)")


def load(root, hp, device):
    """The training and test splits of MNIST under `root`, through torchvision's class, served as `hp.loader` says."""
    from torchvision import datasets

    start = time.perf_counter()
    # labapp found (or downloaded) the files before training, so download=False: no network here.
    train_dataset = datasets.MNIST(root=str(root), train=True, download=False)
    test_dataset = datasets.MNIST(root=str(root), train=False, download=False)
    if hp.loader == "dataloader":
        train_data = CourseLoader(train_dataset, hp.batch_size, device, shuffle=True)
        test_data = CourseLoader(test_dataset, hp.batch_size, device, shuffle=False)
    else:
        train_data = Prepared(train_dataset, hp.batch_size, device)
        test_data = Prepared(test_dataset, TEST_BATCH, device)
    about = {"training images": len(train_dataset), "test images": len(test_dataset),
             "batches per epoch": -(-len(train_dataset) // hp.batch_size),
             "training split": train_data.describe(), "loaded in": f"{time.perf_counter() - start:.2f} s"}
    return train_data, test_data, test_dataset, about


def braille(image, threshold=0.35, box=20):
    """A 28x28 image (values 0-1) as 5 lines of 10 braille characters of 2x4 dots: the box x box pixels around
    its ink (an MNIST digit fits in 20x20), so that three digits side by side fit a narrow panel."""
    dots = ((0, 0, 0), (1, 0, 1), (2, 0, 2), (0, 1, 3), (1, 1, 4), (2, 1, 5), (3, 0, 6), (3, 1, 7))
    ink = [(r, c) for r in range(28) for c in range(28) if image[r][c] > threshold] or [(14, 14)]

    def corner(values):  # where a box-long window centred on the ink starts
        middle = (min(values) + max(values) + 1) // 2
        return max(0, min(28 - box, middle - box // 2))

    top, left = corner([r for r, _ in ink]), corner([c for _, c in ink])
    lines = []
    for row in range(top, top + box, 4):
        cells = []
        for col in range(left, left + box, 2):
            bits = sum(1 << bit for dr, dc, bit in dots if image[row + dr][col + dc] > threshold)
            cells.append(chr(0x2800 + bits))
        lines.append("".join(cells))
    return lines


def digits(model, test_dataset, device, count=3):
    """The first test digits drawn in braille with the model's answer and the label (its mistakes have a view of their own)."""
    import torch

    images = test_dataset.data[:count]                   # uint8 (k, 28, 28), as stored
    model.eval()
    with torch.no_grad():
        predicted = model(normalise(images).to(device)).argmax(dim=1).tolist()
    model.train()
    labels = test_dataset.targets[:count].tolist()
    pictures = [braille((image.float() / 255).tolist()) for image in images]
    width = len(pictures[0][0])
    pictures = [picture + [f"pred {p}".ljust(width), f"true {t}".ljust(width)]
                for picture, p, t in zip(pictures, predicted, labels)]
    texts = {}
    for lang, title in (("zh", "前几张测试图片"), ("en", "first test images")):
        rows = [title] + ["  ".join(picture[line] for picture in pictures) for line in range(len(pictures[0]))]
        texts[lang] = "\n".join(rows)
    return both(**texts)
