"""``minidl.backends.mkldnn``: oneDNN, which minidl does not use (its CPU speed comes from NumPy's
BLAS and minidl's kernels), so :func:`is_available` is False and ``enabled`` changes nothing."""

enabled = True


def is_available():
    """False: minidl has no oneDNN (mkldnn) path."""
    return False
