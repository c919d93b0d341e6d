"""labapp: a terminal lab workbench for the PyTorch course 《PyTorch深度学习实践》."""

__version__ = "0.1.0"
