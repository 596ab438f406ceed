"""Random number generators: minidl's default stream and PyTorch's ``Generator`` objects.

Every random function of minidl (``randn``, ``rand``, ``randint``, ``randperm``, ``normal``,
``multinomial``, ``bernoulli``, dropout, the initialisers) draws from a NumPy ``Generator`` on the
host and copies the values to the target device, so a seed gives the same values on every device.
``generator=None`` means the default stream, seeded by :func:`manual_seed`; a
:class:`Generator` is a separate stream, as ``torch.Generator``.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

_default = [np.random.default_rng()]


def _seed_value(seed, where):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: seed must be an int, got {seed!r} ({type(seed).__name__})")
    return int(seed) % 2**64  # negative seeds wrap, as in PyTorch


def manual_seed(seed):
    """Seed minidl's default random stream (randn, rand, randint, dropout, init ...)."""
    _default[0] = np.random.default_rng(_seed_value(seed, "manual_seed"))
    return _default[0]


def default_generator():
    """The NumPy Generator behind minidl's default random stream."""
    return _default[0]


def get_rng_state():
    """The default stream's state as a plain dict (JSON-compatible), for checkpoints."""
    return _default[0].bit_generator.state


def set_rng_state(state):
    _default[0].bit_generator.state = state


class Generator:
    """A random stream of its own, as ``torch.Generator``: ``Generator().manual_seed(42)``.

    Pass it as ``generator=`` to the random functions, samplers, ``random_split`` and ``DataLoader``.
    Its values are drawn on the host whatever ``device`` says (kept for PyTorch's signature).
    """

    def __init__(self, device="cpu"):
        self.device = device
        self.seed()

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns the generator, so it chains."""
        self._initial_seed = _seed_value(seed, "Generator.manual_seed")
        self.numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self):
        """Restart the stream from a fresh nondeterministic seed, and return that seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy) % 2**64)
        return self._initial_seed

    def initial_seed(self):
        """The seed the stream last started from."""
        return self._initial_seed

    def get_state(self):
        """The stream's state (a plain dict; PyTorch returns bytes), for :meth:`set_state`."""
        return copy.deepcopy(self.numpy.bit_generator.state)

    def set_state(self, state):
        self.numpy.bit_generator.state = state
        return self

    def __repr__(self):
        return f"minidl.Generator(initial_seed={self._initial_seed})"


def numpy_stream(generator, where):
    """The NumPy Generator to draw from: the default stream for None, a Generator's own stream."""
    if generator is None:
        return _default[0]
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{where}: generator must be a minidl.Generator (minidl.Generator().manual_seed(0)) or None, "
                    f"got {type(generator).__name__}")
