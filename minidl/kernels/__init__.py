"""The fast tier: kernels that compute what a textbook op in ``minidl/ops/`` computes, faster.

Each module here covers one formula family and registers each of its kernels against
the textbook op it replaces (:func:`minidl.core.dispatch.register`); the core chooses
between them in one place. ``minidl.use_kernels(False)`` runs everything on the
textbook path. Tests prove every kernel equal to its op (``tests/kernels/``), and
``benchmarks/run.py --textbook`` shows what each one buys.

Importing this package registers every kernel.
"""

from minidl.kernels import threads  # noqa: F401  (minidl's compute threads)
