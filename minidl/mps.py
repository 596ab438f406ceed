"""``minidl.mps``: PyTorch's Apple-GPU module, answered truthfully: minidl has no Apple GPU
backend, so there are no MPS devices and the calls that manage one do nothing."""


def is_available():
    """False: minidl has no Apple GPU backend."""
    return False


def device_count():
    """0: no MPS devices."""
    return 0


def manual_seed(seed):
    """Nothing to seed (there is no MPS generator; minidl.manual_seed seeds minidl's one stream)."""


def seed():
    """Nothing to seed (there is no MPS generator)."""


def synchronize():
    """Nothing to wait for."""


def empty_cache():
    """Nothing to free."""
