"""``minidl.backends.mps``: Apple's GPU backend, which minidl does not have."""


def is_available():
    """False: minidl has no Apple GPU backend."""
    return False


def is_built():
    """False: minidl has no Apple GPU backend."""
    return False
