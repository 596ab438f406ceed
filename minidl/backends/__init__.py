"""``minidl.backends``: the switches PyTorch programs set (``torch.backends.cudnn.benchmark = True``,
``torch.backends.cuda.matmul.allow_tf32``), kept so those lines run unchanged. minidl has no
cuDNN, no TF32, no oneDNN, no OpenMP build of its own and no Apple GPU: the switches change nothing,
and every ``is_available()`` here is False.

Each backend is a module of its own, as in PyTorch: ``import minidl.backends.cudnn as cudnn``.
"""

from minidl.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
