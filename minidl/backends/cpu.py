"""``minidl.backends.cpu``: the CPU's capabilities as PyTorch reports them."""


def get_cpu_capability():
    """``"DEFAULT"``: minidl has no vectorised builds of its own to choose between (NumPy picks its own)."""
    return "DEFAULT"
