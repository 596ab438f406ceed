"""The fast tier: kernels that compute what a textbook op in ``minidl/ops/`` computes, faster.

Each module here covers one formula family and registers each of its kernels against
the textbook op it replaces (:func:`minidl.core.dispatch.replaces`); the core chooses
between them in one place. ``minidl.use_kernels(False)`` runs everything on the
textbook path. Tests prove every kernel equal to its op (``tests/kernels/``), and
``benchmarks/run.py`` reports the textbook path too, so each kernel's speedup shows.

Importing this package registers every kernel.

    threads      minidl's compute threads (set_num_threads), the thread plans, the split thresholds
    plans        the thread plan of a training loop, chosen by timing its first steps
    products     matrix products split over minidl's threads
    tuning       measured choices, remembered per machine
    reduction    fast row sums (BLAS, threads) and the reduction kernels
    activation   ReLU on threads, softmax and log-softmax with fused row sums
    loss         cross-entropy with fused row sums
    norm         batch and layer norm in fewer passes, on threads
    compiled     optional compiled loops (Numba): available(), use_compiled(), jit
    loops        compiled loops over rows: layer norm, softmax's backward
    im2col, conv convolution: row-run im2col, chunks of images in cache, on threads
    pool         2x2 max pooling on the window corners, on threads
    linalg       matmul and Linear, their products on every core
    attention    scaled dot-product attention, its products on every core
    optim        fused optimizer updates (registered by minidl.optim)
    memory       opt-in allocator tuning for training loops
"""

from minidl.kernels import (activation, attention, compiled, conv, im2col, linalg, loops, loss, memory,  # noqa: F401
                            norm, optim, plans, pool, products, reduction, threads, tuning)
