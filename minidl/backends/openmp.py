"""``minidl.backends.openmp``: minidl has no OpenMP build of its own (threads: minidl.set_num_threads)."""


def is_available():
    """False: minidl itself is not built with OpenMP."""
    return False
