"""``minidl.backends``: the switches PyTorch programs set (``torch.backends.cudnn.benchmark = True``,
``torch.backends.cuda.matmul.allow_tf32``), kept so those lines run unchanged. minidl has no
cuDNN, no TF32 and no Apple GPU: the switches change nothing, and ``mps.is_available()`` is False.
"""

from __future__ import annotations

from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=False,
                        is_available=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False), is_built=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
