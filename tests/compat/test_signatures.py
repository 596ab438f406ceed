"""Every torch.nn module, torch.nn.functional function, optimizer and learning-rate scheduler that minidl
provides takes PyTorch's arguments: the same positional parameters in the same order, and every keyword
PyTorch accepts (a program written for PyTorch passes them by position or by name)."""

import inspect

import pytest

import minidl
import minidl.nn.functional as F

torch = pytest.importorskip("torch", reason='signatures are compared with PyTorch: pip install -e ".[torch]"')

#: keywords minidl deliberately lacks, with the reason
NOT_TAKEN = {
    "F.normalize": {"out": "minidl's functions return new tensors; no out= buffers"},
}


def _signature(function):
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without one
        return None


def _differences(theirs, ours, not_taken=()):
    """How ``ours`` (a minidl callable) fails to take ``theirs``'s (PyTorch's) arguments, leaving out the
    parameters ``not_taken``: a note on the positional parameters ('' when they agree) and the set of
    PyTorch's keywords minidl lacks."""
    their_signature, our_signature = _signature(theirs), _signature(ours)
    if their_signature is None or our_signature is None:
        return "", set()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    their_positional = [p.name for p in their_signature.parameters.values()
                        if p.kind in positional and p.name not in not_taken]
    our_positional = [p.name for p in our_signature.parameters.values() if p.kind in positional]
    kinds = {p.kind for p in our_signature.parameters.values()}
    order = ""
    if inspect.Parameter.VAR_POSITIONAL not in kinds and our_positional[:len(their_positional)] != their_positional:
        order = f"positional {their_positional} in PyTorch, {our_positional} in minidl"
    missing = set()
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        missing = {p.name for p in their_signature.parameters.values()
                   if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        missing -= set(our_signature.parameters) | set(not_taken)
    return order, missing


def _pairs(their_module, our_module, label, classes):
    for name in sorted(dir(their_module)):
        theirs, ours = getattr(their_module, name), getattr(our_module, name, None)
        if name.startswith("_") or ours is None or isinstance(theirs, type) != classes or not callable(theirs):
            continue
        if classes:
            theirs, ours = theirs.__init__, ours.__init__
        yield f"{label}.{name}", theirs, ours


def _all_pairs():
    yield from _pairs(torch.nn.functional, F, "F", classes=False)
    yield from _pairs(torch.nn, minidl.nn, "nn", classes=True)
    yield from _pairs(torch.optim, minidl.optim, "optim", classes=True)
    yield from _pairs(torch.optim.lr_scheduler, minidl.optim.lr_scheduler, "lr_scheduler", classes=True)


def test_minidl_takes_pytorchs_arguments():
    found = {}
    for label, theirs, ours in _all_pairs():
        order, missing = _differences(theirs, ours, NOT_TAKEN.get(label, {}))
        if order or missing:
            found[label] = "; ".join(filter(None, [order, f"no keyword {sorted(missing)}" if missing else ""]))
    assert not found, "\n".join(f"{label}: {problem}" for label, problem in sorted(found.items()))


def test_the_comparison_finds_a_missing_keyword_and_a_reordered_parameter():
    def theirs(input, p=0.5, training=True, inplace=False):  # noqa: A002
        pass

    def lacks_inplace(input, p=0.5, training=True):  # noqa: A002
        pass

    def reordered(input, training=True, p=0.5, inplace=False):  # noqa: A002
        pass

    assert _differences(theirs, lacks_inplace)[1] == {"inplace"}
    assert _differences(theirs, reordered) == (
        "positional ['input', 'p', 'training', 'inplace'] in PyTorch, ['input', 'training', 'p', 'inplace'] in minidl",
        set())
    assert _differences(theirs, theirs) == ("", set())
