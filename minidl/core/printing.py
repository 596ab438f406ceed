"""How tensors print: the options of :func:`set_printoptions` (PyTorch's names and defaults) and the
text of a tensor's values, which ``Tensor.__repr__`` asks for.

    minidl.set_printoptions(precision=2)       # 2 digits after the point
    minidl.set_printoptions(profile="full")    # every element, however many
    minidl.set_printoptions(profile="default")  # back to PyTorch's defaults

The values are laid out by NumPy's ``array2string`` with these options.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from minidl.core.arguments import choice, size

#: PyTorch's profiles: digits after the point, the element count above which a tensor is summarised
#: (with ``edgeitems`` elements kept at each end of each dim), and the line width
PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_options = {**PROFILES["default"], "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``: ``profile`` ('default', 'short' or 'full')
    sets the first four options, then each one given overrides it; ``sci_mode`` True always prints
    floats in scientific notation, False never, None (the default) when the values call for it."""
    updated = dict(_options)
    if profile is not None:
        updated.update(PROFILES[choice(profile, "set_printoptions", "profile", tuple(PROFILES))])
    for name, value in (("precision", precision), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            updated[name] = size(value, "set_printoptions", name)
    if threshold is not None:
        updated["threshold"] = threshold if threshold == math.inf else size(threshold, "set_printoptions",
                                                                            "threshold")
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions: sci_mode must be True, False or None, got {sci_mode!r}")
    updated["sci_mode"] = sci_mode
    _options.update(updated)  # only once every option is known to be valid


def get_printoptions():
    """The current print options, as a new dict."""
    return dict(_options)


def array_text(array, prefix=""):
    """The values of a NumPy array as ``tensor(...)`` shows them, with the current print options;
    ``prefix`` is the text before the values (continuation lines are indented to its width)."""
    precision = _options["precision"]
    threshold = sys.maxsize if _options["threshold"] == math.inf else _options["threshold"]
    sci_mode = _options["sci_mode"]
    formatter = {"float_kind": lambda value: f"{value:.{precision}e}"} if sci_mode else None
    return np.array2string(array, separator=", ", prefix=prefix, precision=precision, threshold=threshold,
                           edgeitems=_options["edgeitems"], max_line_width=_options["linewidth"],
                           suppress_small=sci_mode is False, formatter=formatter)
