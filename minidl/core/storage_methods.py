"""What a tensor says about its memory, as PyTorch's methods do (``is_contiguous``, ``stride``,
``element_size``, ``pin_memory`` ...), a mixin of :class:`minidl.Tensor`.

minidl's memory is a NumPy (or CuPy) array: strides come from it (in elements, as PyTorch counts
them), and the CUDA-transfer notions (pinned and shared memory) have nothing to do on it, so their
methods return the tensor itself.
"""

from __future__ import annotations

from minidl.core.dtypes import bfloat16, int8, int16, uint8


class StorageMethods:
    """The memory and layout methods of :class:`minidl.Tensor`."""

    __slots__ = ()

    def is_contiguous(self, memory_format=None):
        """True when the elements lie in row-major order without gaps."""
        return bool(self.array.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps between neighbours along each dim, in elements (one dim's with ``dim``)."""
        steps = tuple(step // self.array.itemsize for step in self.array.strides)
        return steps if dim is None else steps[dim]

    def element_size(self):
        """Bytes per element."""
        return self.array.itemsize

    def data_ptr(self):
        """The address of the first element."""
        array = self.array
        return array.ctypes.data if hasattr(array, "ctypes") else array.data.ptr

    def ndimension(self):
        return self.ndim

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def get_device(self):
        """The GPU index of a CUDA tensor, -1 for a CPU one (as PyTorch)."""
        return self.device.index or 0 if self.is_cuda else -1

    def pin_memory(self, device=None):
        """The tensor itself: pinned host memory speeds up CUDA copies, and minidl's are synchronous."""
        return self

    def is_pinned(self, device=None):
        return False

    def share_memory_(self):
        """The tensor itself: minidl has no worker processes to share it with."""
        return self

    def detach_(self):
        """Cut this tensor from the graph, in place."""
        self._node, self._requires_grad = None, False
        return self

    def byte(self):
        return self.to(uint8)

    def char(self):
        return self.to(int8)

    def short(self):
        return self.to(int16)

    def bfloat16(self):
        return self.to(bfloat16)  # raises, naming what minidl computes in instead
