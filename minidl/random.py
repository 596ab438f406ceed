"""``minidl.random``: PyTorch's ``torch.random`` on minidl's default random stream.

The stream itself lives in :mod:`minidl.core.random` (one NumPy Generator on the host, so a seed gives
the same values on every device); this module adds PyTorch's functions around it: seeding with a
fresh seed, reading the seed back, and :func:`fork_rng`, which puts the stream back after a block.
"""

from __future__ import annotations

import contextlib

import numpy as np

from minidl.core.random import default_generator, get_rng_state, manual_seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


def seed():
    """Seed the default stream from a fresh nondeterministic seed and return that seed."""
    fresh = int(np.random.SeedSequence().entropy) % 2**64
    manual_seed(fresh)
    return fresh


def initial_seed():
    """The seed the default stream last started from (by :func:`manual_seed` or :func:`seed`)."""
    return int(default_generator().bit_generator.seed_seq.entropy) % 2**64


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Run a block with the default stream forked: whatever the block draws or seeds, the stream's
    seed and state are put back when it ends. ``enabled=False`` makes it a no-op. ``devices`` and
    ``device_type`` are kept for PyTorch's signature: every device draws from the one host stream."""
    if not enabled:
        yield
        return
    saved_seed, saved_state = initial_seed(), get_rng_state()
    try:
        yield
    finally:
        manual_seed(saved_seed)
        set_rng_state(saved_state)
