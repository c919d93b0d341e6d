"""Torch errors that learners of the course commonly meet, explained: what each means and the usual fix (no torch here).

One table, `KNOWN`: a pattern that torch's own message matches, the kind of trouble (dtype, shape,
device, lengths, memory, autograd, api), and what it means and how it is usually fixed, in Chinese
and English. `explain(message)` finds the row for a failed run's message; the workbench's status
line and message log and `labapp run` show it beside torch's original words. The patterns are
checked against the real errors of the installed torch by tests/test_torch_errors.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labapp.lesson import Text
from labapp.strings import say

DTYPE, SHAPE, DEVICE, LENGTHS, MEMORY, AUTOGRAD, API = "dtype", "shape", "device", "lengths", "memory", "autograd", "api"


@dataclass(frozen=True)
class Known:
    """A torch error a learner commonly meets: its message's pattern, its kind, what it means and the usual fix."""

    key: str
    kind: str
    pattern: str  # a regular expression searched for in the message (case sensitive, as torch writes it)
    meaning: Text
    fix: Text


T = Text
KNOWN: tuple[Known, ...] = (
    # -- dtype ---------------------------------------------------------------------------------------
    Known("class targets not long", DTYPE,
          r"expected target dtype to be Long or Byte, but got|expected scalar type Long but found",
          T("CrossEntropyLoss 和 NLLLoss 的目标是类别编号（0、1、2…），必须是整数张量（int64），这里给的是浮点数或 int32。",
            "CrossEntropyLoss and NLLLoss take class indices (0, 1, 2...) as targets, which must be an integer "
            "(int64) tensor; these targets are floats or int32."),
          T("把标签转成 long：y = y.long()（或创建时用 dtype=torch.long）；不要转成 float。",
            "make the labels long: y = y.long() (or create them with dtype=torch.long); do not convert them to float.")),
    Known("class probabilities not float", DTYPE, r"Expected floating point type for target with class probabilities",
          T("目标的形状和输出一样 (N, C)，CrossEntropyLoss 就把它当作每类的概率，而概率必须是浮点数；这里是整数。",
            "targets shaped like the output (N, C) are read by CrossEntropyLoss as per-class probabilities, which "
            "must be floats; these are integers."),
          T("若是类别编号，给形状 (N,) 的 long 张量（例如 y.argmax(dim=1)）；若真是概率或 one-hot，用 y.float()。",
            "for class indices pass a (N,) long tensor (for example y.argmax(dim=1)); for real probabilities or "
            "one-hot rows use y.float().")),
    Known("binary targets not float", DTYPE, r"Found dtype \w+ but expected Float",
          T("BCELoss 要求目标（0 或 1）和输出一样是浮点数；这里的目标是整数。",
            "BCELoss needs its targets (0 or 1) as floats, like its output; these are integers."),
          T("把目标转成浮点：y = y.float()（读数据时就用 dtype=torch.float32 更好）。",
            "make the targets float: y = y.float() (better: read them with dtype=torch.float32).")),
    Known("inputs not float32", DTYPE,
          r"mat1 and mat2 must have the same dtype|Input type \((?:double|float|half|long|int)\) and (?:weight|bias) "
          r"type \((?:double|float|half)\) should be the same|expected scalar type (?:Float|Double) but found",
          T("输入和模型参数的数据类型不同：模型的权重是 float32，输入却是 float64（numpy 的默认类型）或整数。",
            "the input and the model's parameters differ in dtype: the weights are float32, the input float64 "
            "(numpy's default) or integers."),
          T("把输入转成 float32：x = x.float()，或 torch.from_numpy(a).float()；读 numpy 数据时用 dtype=np.float32。",
            "make the input float32: x = x.float(), or torch.from_numpy(a).float(); read numpy data with "
            "dtype=np.float32.")),
    Known("indices not integer", DTYPE, r"Expected tensor for argument #1 'indices' to have one of the following scalar",
          T("Embedding 查的是编号，输入必须是整数张量（long 或 int）；这里是浮点数。",
            "an Embedding looks up indices, so its input must be an integer tensor (long or int); this one is float."),
          T("把输入转成 long：x = x.long()。", "make the input long: x = x.long().")),
    Known("probabilities out of range", DTYPE, r"all elements of input should be between 0 and 1",
          T("BCELoss 的输入必须是 0 到 1 之间的概率；这里的输出没经过 sigmoid（或已经发散）。",
            "BCELoss takes probabilities between 0 and 1; this output did not go through a sigmoid (or has diverged)."),
          T("在模型最后加 torch.sigmoid，或者去掉 sigmoid 改用 BCEWithLogitsLoss（更稳定）。",
            "end the model with torch.sigmoid, or drop the sigmoid and use BCEWithLogitsLoss (more stable).")),
    # -- shape ---------------------------------------------------------------------------------------
    Known("linear in_features", SHAPE, r"mat1 and mat2 shapes cannot be multiplied",
          T("全连接层的 in_features 和送进来的特征数不一样：括号里的第一对是 (批大小 x 实际特征数)，第二对是 (in_features x out_features)。"
            "改了卷积层或输入尺寸后最常见。",
            "a Linear layer's in_features differs from the number of features it is given: the first pair in "
            "brackets is (batch x features given), the second (in_features x out_features). Most often after "
            "changing the convolutions or the input size."),
          T("把 Linear 的 in_features 设成第一对的第二个数；用一个假输入 net.features(torch.zeros(1, 1, 28, 28)).numel() "
            "或 print(x.shape) 算出 flatten 后的大小，展平用 x.view(x.size(0), -1)。",
            "set the Linear's in_features to the second number of the first pair; find the flattened size with a "
            "dummy input (features(torch.zeros(1, 1, 28, 28)).numel()) or print(x.shape), and flatten with "
            "x.view(x.size(0), -1).")),
    Known("target size", SHAPE,
          r"Using a target size \(.*\) that is different to the input size|Target size \(.*\) must be the same as "
          r"input size",
          T("损失函数的输出和目标形状不同，例如输出 (N, 1)、目标 (N,)：逐元素的损失要求两者形状完全一样。",
            "the output and the target have different shapes, for example (N, 1) against (N,): an element-wise "
            "loss needs them to be exactly the same."),
          T("让两者形状一致：y = y.view(-1, 1)（或 y_pred.squeeze(1)）；读数据时用 y[:, [-1]] 保留二维。",
            "make the shapes agree: y = y.view(-1, 1) (or y_pred.squeeze(1)); when reading the data, y[:, [-1]] "
            "keeps the column two-dimensional.")),
    Known("batch sizes differ", SHAPE, r"Expected input batch_size \(\d+\) to match target batch_size",
          T("输出的样本数和标签的样本数不同：多半是 view 时把批的维度算错了。",
            "the output has a different number of samples than the labels: usually a view that got the batch "
            "dimension wrong."),
          T("展平时保留批维度：x.view(x.size(0), -1)，不要写死 view(-1, 320)。",
            "keep the batch dimension when flattening: x.view(x.size(0), -1), not a fixed view(-1, 320).")),
    Known("class index out of range", SHAPE, r"Target -?\d+ is out of bounds|index out of range in self",
          T("有一个类别编号（或 Embedding 的编号）不小于类别数：输出层的大小小于标签的最大值加一。",
            "a class index (or an Embedding index) is not below the number of classes: the output layer is smaller "
            "than the largest label plus one."),
          T("让输出层的大小等于类别数（标签从 0 开始），或检查标签是否从 1 开始编号。",
            "make the output layer as wide as the number of classes (labels start at 0), or check whether the "
            "labels start at 1.")),
    Known("conv input dims", SHAPE, r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d",
          T("Conv2d 要的是 (批, 通道, 高, 宽) 的四维输入；这里的输入被展平了，或少了通道维。",
            "Conv2d takes four-dimensional input (batch, channels, height, width); this input was flattened, or "
            "lacks the channel dimension."),
          T("把图片还原成 (N, 1, 28, 28)：x.view(-1, 1, 28, 28)；只在卷积之后、全连接之前展平。",
            "give the images back their shape (N, 1, 28, 28): x.view(-1, 1, 28, 28); flatten only after the "
            "convolutions, before the Linear layers.")),
    Known("conv channels", SHAPE, r"expected input\[.*\] to have \d+ channels, but got \d+ channels",
          T("卷积层的 in_channels 和输入的通道数不同（或者是上一层的 out_channels 不同）。",
            "a convolution's in_channels differs from the channels of its input (the previous layer's "
            "out_channels)."),
          T("让每个 Conv2d 的 in_channels 等于上一层的 out_channels（MNIST 的图片是 1 个通道）。",
            "make each Conv2d's in_channels equal the previous layer's out_channels (MNIST images have 1 channel).")),
    Known("input smaller than kernel", SHAPE,
          r"Kernel size can't be greater than actual input size|Output size is too small",
          T("特征图已经比卷积核（或池化窗口）还小：前面的卷积和池化把图片缩得太多了。",
            "the feature map is already smaller than the kernel (or the pooling window): the convolutions and "
            "poolings before it shrank the image too much."),
          T("用更小的卷积核、加 padding（如 padding=2 保持大小），或去掉一层池化；每层后 print(x.shape) 看尺寸。",
            "use smaller kernels, add padding (padding=2 keeps a 5x5 kernel's size) or drop a pooling; print(x.shape) "
            "after each layer to follow the sizes.")),
    Known("view not contiguous", SHAPE, r"view size is not compatible with input tensor's size and stride",
          T("view 只能用在内存连续的张量上；转置（t、transpose、permute）之后就不连续了。",
            "view works only on a tensor laid out contiguously in memory; after a transpose (t, transpose, permute) "
            "it is not."),
          T("用 x.reshape(...)，或 x.contiguous().view(...)。", "use x.reshape(...), or x.contiguous().view(...).")),
    Known("view size", SHAPE, r"shape '\[.*\]' is invalid for input of size \d+",
          T("view 要的形状和张量的元素个数对不上。", "the shape asked of view does not hold the tensor's number of elements."),
          T("用 -1 让 torch 推算一个维度，例如 x.view(x.size(0), -1)；打印 x.shape 核对。",
            "let torch work out one dimension with -1, for example x.view(x.size(0), -1); print x.shape to check.")),
    Known("rnn input size", SHAPE, r"input\.size\(-1\) must be equal to input_size|Expected hidden size",
          T("RNN 的输入最后一维必须等于 input_size，隐藏状态必须是 (层数, 批, hidden_size)；默认布局是 (seq_len, batch, input_size)。",
            "an RNN's input must have input_size as its last dimension and its hidden state must be "
            "(num_layers, batch, hidden_size); the default layout is (seq_len, batch, input_size)."),
          T("核对 input_size（如 one-hot 的长度）和 h0 的形状；数据是 (batch, seq, feature) 时加 batch_first=True。",
            "check input_size (the one-hot length, say) and h0's shape; for (batch, seq, feature) data pass "
            "batch_first=True.")),
    Known("broadcast", SHAPE, r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\)",
          T("两个张量做逐元素运算，但形状无法广播到一起。", "an element-wise operation on two tensors whose shapes cannot be broadcast together."),
          T("打印两边的 shape，用 view/unsqueeze 让它们对齐。", "print both shapes and line them up with view or unsqueeze.")),
    # -- device --------------------------------------------------------------------------------------
    Known("devices differ", DEVICE,
          r"Expected all tensors to be on the same device|is not on the expected device|Input type \(torch\.cuda\.\w+\) "
          r"and weight type \(torch\.\w+\)|Input type \(torch\.\w+Tensor\) and weight type \(torch\.cuda\.|"
          r"is on CPU, but expected it to be on GPU",
          T("张量不在同一个设备上：模型在 GPU 上而数据在 CPU 上（或反过来）。",
            "the tensors are on different devices: the model on the GPU and the data on the CPU, or the other way "
            "round."),
          T("用同一个 device：model.to(device)，并在每个批次里 x, y = x.to(device), y.to(device)。",
            "use one device for all: model.to(device), and x, y = x.to(device), y.to(device) for every batch.")),
    Known("numpy from gpu", DEVICE, r"can't convert cuda:?\d* device type tensor to numpy",
          T("GPU 上的张量不能直接变成 numpy 数组。", "a tensor on the GPU cannot become a numpy array directly."),
          T("先搬回 CPU：x.detach().cpu().numpy()。", "bring it back first: x.detach().cpu().numpy().")),
    Known("no gpu", DEVICE, r"Found no NVIDIA driver|Torch not compiled with CUDA enabled|No CUDA GPUs are available",
          T("程序要用 CUDA，但这台机器没有可用的 NVIDIA GPU（或 torch 是 CPU 版）。",
            "the program asks for CUDA, but this machine has no usable NVIDIA GPU (or torch is a CPU build)."),
          T("用 CPU：--device cpu（或 --device auto），程序里写 device = 'cuda' if torch.cuda.is_available() else 'cpu'。",
            "use the CPU: --device cpu (or --device auto); in a program, device = 'cuda' if "
            "torch.cuda.is_available() else 'cpu'.")),
    Known("device-side assert", DEVICE, r"device-side assert triggered",
          T("GPU 上的检查失败了，几乎总是某个类别编号超出了输出层的大小；GPU 上的报错位置不准。",
            "a check on the GPU failed, nearly always a class index beyond the output layer's size; on the GPU "
            "the error shows up at a later, unrelated line."),
          T("在 CPU 上再跑一次（--device cpu）看清楚的报错；检查标签的范围和输出层的大小。",
            "run it once on the CPU (--device cpu) for a clear message; check the labels' range against the output "
            "layer's size.")),
    # -- lengths (pack_padded_sequence) ---------------------------------------------------------------
    Known("lengths on gpu", LENGTHS, r"'lengths' argument should be a 1D CPU int64 tensor",
          T("pack_padded_sequence 的 lengths 必须是 CPU 上的 int64 张量（torch 1.7 起）；课程录制时可以放在 GPU 上。",
            "pack_padded_sequence takes lengths as an int64 tensor on the CPU (since torch 1.7); when the course "
            "was recorded they could be on the GPU."),
          T("传 lengths.cpu()（或一个 Python 列表），数据本身可以留在 GPU 上。",
            "pass lengths.cpu() (or a Python list); the data itself can stay on the GPU.")),
    Known("lengths not sorted", LENGTHS, r"`lengths` array must be sorted in decreasing order",
          T("pack_padded_sequence 默认要求序列按长度从长到短排好。",
            "by default pack_padded_sequence wants the sequences sorted longest first."),
          T("先按长度降序排序（课程的做法），或传 enforce_sorted=False。",
            "sort them by length, longest first (the course's way), or pass enforce_sorted=False.")),
    # -- memory --------------------------------------------------------------------------------------
    Known("out of memory", MEMORY, r"out of memory|can't allocate memory|ran out of memory",
          T("设备的内存不够放下这一步需要的张量（模型、激活值和梯度）。",
            "the device has not enough memory for this step's tensors (the model, activations and gradients)."),
          T("减小 batch_size（或模型），或换一个内存更大的设备；测试时用 with torch.no_grad()。",
            "use a smaller batch_size (or model), or a device with more memory; evaluate under "
            "with torch.no_grad().")),
    # -- autograd ------------------------------------------------------------------------------------
    Known("no grad_fn", AUTOGRAD, r"element 0 of tensors does not require grad and does not have a grad_fn",
          T("对一个不在计算图里的张量调用了 backward：参数没有 requires_grad=True，或者中途用了 .item()/.data/detach。",
            "backward was called on a tensor outside the graph: the parameters lack requires_grad=True, or the "
            "loss went through .item(), .data or detach on the way."),
          T("给参数设 requires_grad=True（nn.Module 的参数已经设好），用张量算损失，不要先取 .item()。",
            "give the parameters requires_grad=True (an nn.Module's already have it) and compute the loss from "
            "tensors, not from .item().")),
    Known("backward twice", AUTOGRAD, r"Trying to backward through the graph a second time",
          T("同一张计算图 backward 了两次：第一次 backward 之后图就释放了。",
            "backward went through the same graph twice: the first backward freed it."),
          T("每次迭代重新做一次前向计算；累加损失用 total += loss.item()，而不是 total += loss。",
            "compute the forward pass anew every iteration; add up losses with total += loss.item(), not "
            "total += loss.")),
    Known("backward not scalar", AUTOGRAD, r"grad can be implicitly created only for scalar outputs",
          T("backward 只能从一个标量开始；这里的损失是一个向量。",
            "backward starts from a single number; this loss is a vector."),
          T("先把损失归约成标量：loss.mean() 或 loss.sum()（或者损失函数用 reduction='mean'）。",
            "reduce the loss to a scalar first: loss.mean() or loss.sum() (or a loss with reduction='mean').")),
    Known("leaf in-place", AUTOGRAD, r"a leaf Variable that requires grad is being used in an in-place operation",
          T("直接原地修改了需要梯度的参数，autograd 会把这一步也记进图里，所以不允许。",
            "a parameter that needs gradients was changed in place, which autograd would record in the graph."),
          T("在 with torch.no_grad(): 里更新参数（w -= lr * w.grad），或者用 w.data（课程的写法）。",
            "update parameters under with torch.no_grad(): (w -= lr * w.grad), or through w.data (the course's way).")),
    Known("numpy needs detach", AUTOGRAD, r"Can't call numpy\(\) on Tensor that requires grad",
          T("需要梯度的张量不能直接变成 numpy 数组。", "a tensor that requires grad cannot become a numpy array directly."),
          T("用 x.detach().numpy()（在 GPU 上：x.detach().cpu().numpy()）。",
            "use x.detach().numpy() (on the GPU: x.detach().cpu().numpy()).")),
    Known("item of many", AUTOGRAD, r"a Tensor with \d+ elements cannot be converted to Scalar",
          T(".item() 只能用在只有一个元素的张量上。", ".item() works only on a tensor with a single element."),
          T("先归约（x.sum().item()、x.mean().item()），或用 x.tolist()。",
            "reduce it first (x.sum().item(), x.mean().item()), or use x.tolist().")),
    # -- the course's code on today's torch ------------------------------------------------------------
    Known("data[0] of a scalar", API, r"invalid index of a 0-dim tensor",
          T("课程的 loss.data[0] 来自 torch 0.3；现在损失是 0 维张量，不能再用下标取值。",
            "the course's loss.data[0] comes from torch 0.3; a loss is now a 0-dimensional tensor, which cannot be "
            "indexed."),
          T("用 loss.item()。", "use loss.item().")),
    Known("weights only load", API, r"Weights only load failed",
          T("torch 2.6 起 torch.load 默认 weights_only=True，只读张量和基本类型，不读任意 Python 对象。",
            "since torch 2.6 torch.load defaults to weights_only=True: it reads tensors and plain types, not "
            "arbitrary Python objects."),
          T("保存 model.state_dict() 而不是整个模型；确实信任文件来源时才用 torch.load(path, weights_only=False)。",
            "save model.state_dict() rather than the whole model; pass torch.load(path, weights_only=False) only "
            "for a file whose source you trust.")),
)

_COMPILED = tuple((known, re.compile(known.pattern)) for known in KNOWN)


def explain(message: str) -> Known | None:
    """The first row of KNOWN whose pattern `message` (torch's words, or a failed run's message) matches, or None."""
    for known, pattern in _COMPILED:
        if pattern.search(message):
            return known
    return None


def explanation(message: str, lang: str) -> str | None:
    """'What it means: ... The usual fix: ...' for `message` in `lang`, or None if it is not a known error."""
    known = explain(message)
    if known is None:
        return None
    return say("torch error explained", lang, meaning=known.meaning(lang), fix=known.fix(lang))
