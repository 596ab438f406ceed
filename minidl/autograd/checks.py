"""``minidl.autograd.gradcheck`` and ``gradgradcheck`` with PyTorch's keywords, on :func:`minidl.testing.gradcheck`.

The keywords that choose what PyTorch checks beyond backward() against finite differences (forward
mode, batched gradients) ask for features minidl lacks and raise ``NotImplementedError``; the
keywords about tolerances of those extra checks are accepted and have no effect.
"""

from __future__ import annotations

from minidl.testing.gradients import gradcheck as _check_backward


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when ``func``'s backward agrees with central differences at ``inputs`` (float64 tensors).

    Raises :class:`minidl.testing.GradcheckError` on a mismatch (or returns False with
    ``raise_exception=False``).
    """
    for name, wanted in (("check_batched_grad", check_batched_grad), ("check_forward_ad", check_forward_ad),
                         ("check_batched_forward_grad", check_batched_forward_grad)):
        if wanted:
            raise NotImplementedError(f"gradcheck: {name}=True is not supported (minidl has reverse mode only)")
    if not check_backward_ad:
        raise NotImplementedError("gradcheck: check_backward_ad=False leaves nothing minidl can check")
    return _check_backward(func, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


def gradgradcheck(func, inputs, grad_outputs=None, **options):
    """Second derivatives need a recorded backward pass, which minidl does not build: always raises."""
    raise NotImplementedError("gradgradcheck: minidl's backward works on arrays and records no graph, so "
                              "second-order gradients cannot be checked")
