"""Every differentiable op declared as data for the harness (minidl.testing.harness).

Each :class:`OpCase` pairs a minidl call (written as a user would: a Tensor method,
an operator, ``minidl.*`` or ``minidl.nn.functional``) with a plain-NumPy float64
reference written from the mathematical definition (never from minidl's code), the
same call in PyTorch, a hypothesis strategy of shapes and parameters (size-1 and
broadcast dims, negative dims, tuples of dims, keepdim both ways) and value makers
that keep inputs away from kinks and ties.

``tests/test_ops.py`` turns each case into forward (float64 and float32, CPU and the
strict device), gradient (gradcheck in float64, contiguous and strided inputs) and
PyTorch-parity tests.
"""

import math

import numpy as np
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from minidl.testing.harness import OpCase, avoiding, broadcastable, distinct, examples, normal, positive, single


def _torch():
    import torch
    return torch


def _tf():
    import torch.nn.functional
    return torch.nn.functional


# --- value makers --------------------------------------------------------------------------------

def away_from_zero(rng, shape):
    """Values of either sign with 0.5 <= |v| < 2: denominators that may be negative."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)


def shifted(maker, offset):
    """``maker``'s values plus a constant: two ``distinct`` inputs shifted by half a spacing never tie."""
    return lambda rng, shape: maker(rng, shape) + offset


def coin(rng, shape):
    """A bool array (True with probability 1/2); it reaches the op as a 0./1. float tensor."""
    return rng.random(shape) < 0.5


def small_integers(rng, shape):
    """Values in {-2, ..., 2}: comparisons see plenty of ties."""
    return rng.integers(-2, 3, size=shape).astype(np.float64)


def with_extremes(rng, shape):
    """Normal values, about half of them moved out to ±50 or ±100 (sigmoid's stability)."""
    far = rng.choice([-100.0, -50.0, 50.0, 100.0], size=shape) + rng.uniform(-1, 1, shape)
    return np.where(rng.random(shape) < 0.5, far, rng.standard_normal(shape))


def wide(rng, shape):
    """Values spread over ±300: exp overflows unless the max is subtracted first."""
    return rng.uniform(-300, 300, shape)


def with_specials(rng, shape):
    """Normal values with some nan, inf and -inf."""
    values = rng.standard_normal(shape)
    special = rng.choice(np.array([np.nan, np.inf, -np.inf]), size=shape)
    return np.where(rng.random(shape) < 0.4, special, values)


# --- shape and parameter strategies ----------------------------------------------------------------

def with_ones(min_dims=0, max_dims=3):
    """One shape with many size-1 dims (for squeeze and expand)."""
    return st.lists(st.sampled_from([1, 1, 2, 3, 4]), min_size=min_dims, max_size=max_dims).map(
        lambda s: (tuple(s),))


def same_shapes(count, min_dims=0, max_dims=3, max_side=4):
    """``count`` equal shapes (stack)."""
    return single(min_dims, max_dims, max_side=max_side).map(lambda s: s * count)


def an_int_dim(ndim, extra=0):
    """A valid dim of an ``ndim + extra``-dim tensor, negative too (0-d tensors accept 0 and -1)."""
    size = max(ndim + extra, 1)
    return st.integers(-size, size - 1)


def reduce_dims(shapes, keepdim=True, allow_none=True, multiple=True):
    """``dim``: None, an int (negative too) or a tuple of distinct dims (negative too), and ``keepdim``."""
    ndim = len(shapes[0])
    choices = [an_int_dim(ndim)]
    if allow_none:
        choices.append(st.none())
    if multiple and ndim:
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
            lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])))
    params = {"dim": st.one_of(*choices)}
    if keepdim:
        params["keepdim"] = st.booleans()
    return st.fixed_dictionaries(params)


def _axes(dim, ndim):
    """The non-negative dims a ``dim`` argument names (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % max(ndim, 1) for d in dims)) if ndim else ()


def _count(shape, dim):
    return int(np.prod([shape[d] for d in _axes(dim, len(shape))], dtype=np.int64))


def var_params(shapes, style, std=False):
    """dim/keepdim plus ``unbiased`` or ``correction``, always leaving n - correction > 0
    (and, for std, n >= 2 so that the spread is not identically 0: see std_zero_spread)."""
    def finish(params):
        if std and _count(shapes[0], params["dim"]) < 2:
            params = {**params, "dim": None}  # std_shapes() has at least 2 elements in all
        n = _count(shapes[0], params["dim"])
        if style == "unbiased":
            options = [False] + ([True, None] if n > 1 else [])
            return st.sampled_from(options).map(lambda u: {**params, "unbiased": u})
        return st.sampled_from([c for c in (0, 1, 2) if n > c]).map(lambda c: {**params, "correction": c})
    return reduce_dims(shapes).flatmap(finish)


def std_shapes():
    """One shape of 1 to 3 dims with at least 2 elements (its last dim grown to 2 if needed)."""
    return hnp_shape(min_dims=1).map(lambda s: (s if np.prod(s) >= 2 else s[:-1] + (2,),))


# --- matmul shapes ----------------------------------------------------------------------------------

_side = st.integers(1, 4)


def matmul_shapes(form):
    """Compatible operand shapes for one form of matmul (sizes 1..4, so size-1 dims appear)."""
    def build(n, k, m, b, c):
        return {
            "2d@2d": ((n, k), (k, m)),
            "1d@2d": ((k,), (k, m)),
            "2d@1d": ((n, k), (k,)),
            "1d@1d": ((k,), (k,)),
            "3d@3d": ((b, n, k), (b, k, m)),
            "1nk@bkm": ((1, n, k), (b, k, m)),
            "nk@bkm": ((n, k), (b, k, m)),
            "btn@nm": ((b, n, k), (k, m)),
            "1d@3d": ((k,), (b, k, m)),
            "3d@1d": ((b, n, k), (k,)),
            "b1nk@1ckm": ((b, 1, n, k), (1, c, k, m)),
        }[form]
    return st.builds(build, _side, _side, _side, _side, st.integers(1, 3))


MATMUL_FORMS = ["2d@2d", "1d@2d", "2d@1d", "1d@1d", "3d@3d", "1nk@bkm", "nk@bkm", "btn@nm", "1d@3d", "3d@1d",
                "b1nk@1ckm"]


# --- shape-op parameters -----------------------------------------------------------------------------

def reshape_params(shapes):
    """A new shape with the same number of elements, sometimes with one -1."""
    shape = shapes[0]
    size = int(np.prod(shape, dtype=np.int64))
    candidates = {(size,), (-1,), (1, size), (size, 1), tuple(reversed(shape)), (1,) + shape + (1,)}
    for d in range(1, size + 1):
        if size % d == 0:
            candidates |= {(d, size // d), (d, -1), (-1, 1, d), (size // d, 1, d)}
    return st.sampled_from(sorted(candidates)).map(lambda s: {"shape": s})


def _resolve(shape, like):
    lead = len(shape) - len(like)
    return tuple(like[i - lead] if s == -1 else s for i, s in enumerate(shape))


def expand_params(shapes, allow_minus_one=True):
    """A target shape: size-1 dims grow (or stay), others stay or are -1; up to 2 new leading dims."""
    shape = shapes[0]
    per_dim = []
    for size in shape:
        options = [1, 2, 3] if size == 1 else [size]
        if allow_minus_one:
            options.append(-1)
        per_dim.append(st.sampled_from(options))
    lead = st.lists(st.integers(1, 3), max_size=2)
    return st.tuples(lead, st.tuples(*per_dim)).map(lambda t: {"shape": tuple(t[0]) + tuple(t[1])})


def flatten_params(shapes):
    ndim = len(shapes[0])
    if ndim == 0:
        return st.just({})

    def ordered(pair):
        start, end = pair
        return {"start_dim": start, "end_dim": end}
    return st.tuples(an_int_dim(ndim), an_int_dim(ndim)).filter(
        lambda p: p[0] % ndim <= p[1] % ndim).map(ordered) | st.just({})


def transpose_params(shapes):
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"dim0": an_int_dim(ndim), "dim1": an_int_dim(ndim)})


def permute_params(shapes):
    ndim = len(shapes[0])
    return st.permutations(list(range(ndim))).flatmap(
        lambda p: st.tuples(*[st.sampled_from([d, d - ndim]) for d in p]) if ndim else st.just(())).map(
        lambda dims: {"dims": tuple(dims)})


def squeeze_params(shapes):
    ndim = len(shapes[0])
    options = [an_int_dim(ndim)]
    if ndim:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return st.one_of(*options).map(lambda d: {"dim": d})


def cat_shapes(max_inputs=3):
    """1 to 3 shapes equal except along one dim (where each input has 1 to 3 entries)."""
    @st.composite
    def build(draw):
        base = list(draw(hnp_shape(min_dims=1)))
        d = draw(st.integers(0, len(base) - 1))
        count = draw(st.integers(1, max_inputs))
        shapes = []
        for _ in range(count):
            shape = list(base)
            shape[d] = draw(st.integers(1, 3))
            shapes.append(tuple(shape))
        return tuple(shapes)
    return build()


def hnp_shape(min_dims=0, max_dims=3, max_side=4):
    return single(min_dims, max_dims, max_side=max_side).map(lambda s: s[0])


def cat_params(shapes):
    """Any dim (negative too) along which only the inputs' sizes there may differ."""
    ndim = len(shapes[0])
    valid = [d for d in range(ndim)
             if all(s[:d] + s[d + 1:] == shapes[0][:d] + shapes[0][d + 1:] for s in shapes)]
    return st.sampled_from(valid).flatmap(lambda d: st.sampled_from([d, d - ndim])).map(lambda d: {"dim": d})


def split_params(shapes, sections):
    shape = shapes[0]
    ndim = len(shape)

    def for_dim(dim):
        length = shape[dim]
        if sections:
            cuts = st.sets(st.integers(1, length - 1)) if length > 1 else st.just(set())
            sizes = cuts.map(lambda c: [b - a for a, b in zip([0, *sorted(c)], [*sorted(c), length])])
            return sizes.map(lambda s: {"split_size_or_sections": s, "dim": dim})
        return st.integers(1, length + 1).map(lambda n: {"split_size_or_sections": n, "dim": dim})
    return an_int_dim(ndim).flatmap(for_dim)


def chunk_params(shapes):
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"chunks": st.integers(1, 5), "dim": an_int_dim(ndim)})


def constant_pad_params(shapes):
    """Widths for the last 1..ndim dims, negative ones crop (at least one element is left)."""
    shape = shapes[0]

    @st.composite
    def build(draw):
        k = draw(st.integers(1, len(shape)))
        pad = []
        for axis in range(len(shape) - 1, len(shape) - 1 - k, -1):
            size = shape[axis]
            lo = draw(st.integers(-(size - 1), 3))
            hi = draw(st.integers(-(size - 1 + min(lo, 0)), 3))
            pad += [lo, hi]
        return {"pad": tuple(pad), "value": draw(st.sampled_from([0.0, 1.5, -2.0]))}
    return build()


def index_pad_examples(mode):
    """(N, C, W) or (C, W) with 1 padded dim, (N, C, H, W) or (C, H, W) with 2: the layouts PyTorch accepts."""
    @st.composite
    def build(draw):
        k = draw(st.integers(1, 2))
        ndim = k + draw(st.integers(1, 2))
        shape = tuple(draw(st.integers(1, 3 if ndim == 4 else 4)) for _ in range(ndim))
        pad = []
        for axis in range(ndim - 1, ndim - 1 - k, -1):
            size = shape[axis]
            limit = {"reflect": size - 1, "circular": size, "replicate": 3}[mode]
            pad += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
        return shape, tuple(pad)
    return _pad_examples(build())


def _pad_examples(shape_and_pad):
    """Examples whose params carry the pad drawn together with the shape."""
    return drawn_together(shape_and_pad.map(lambda sp: ((sp[0],), {"pad": sp[1]})))


def drawn_together(shapes_and_params):
    """Examples from a strategy of (shapes, params) pairs drawn together."""
    @st.composite
    def build(draw):
        shapes, params = draw(shapes_and_params)
        example = draw(examples(st.just(shapes)))
        return type(example)(example.shapes, params, example.seed, example.noncontiguous)
    return build()


@st.composite
def size_one_dim(draw):
    """A shape with one dim forced to size 1, and that dim (negative too) as the reduction dim."""
    shape = list(draw(hnp_shape(min_dims=1)))
    d = draw(st.integers(0, len(shape) - 1))
    shape[d] = 1
    style = draw(st.sampled_from([{"unbiased": False}, {"correction": 0}]))
    return (tuple(shape),), {"dim": draw(st.sampled_from([d, d - len(shape)])), "keepdim": draw(st.booleans()),
                             **style}


def scalar_dim(keepdim=True):
    """A 0-d shape and dim 0 or -1, which PyTorch accepts for 0-d tensors."""
    params = {"dim": st.sampled_from([0, -1])}
    if keepdim:
        params["keepdim"] = st.booleans()
    return examples(st.just(((),)), lambda s: st.fixed_dictionaries(params))


def _np_pad(x, pad, mode, value=0.0):
    """F.pad in NumPy: crop for negative constant widths, then np.pad."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    crop = tuple(slice(max(-lo, 0), x.shape[a] - max(-hi, 0)) for a, (lo, hi) in enumerate(widths))
    x = x[crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return np.pad(x, grow, mode="constant", constant_values=value)
    return np.pad(x, grow, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


# --- getitem parameters --------------------------------------------------------------------------------

def _a_slice(size):
    bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    return st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, 3]))


def _an_item(size):
    return st.one_of(_a_slice(size), st.integers(-size, size - 1), st.just(slice(None)))


def slices_params(shapes):
    """A tuple of slices (steps 1..3, negative and out-of-range bounds) for the leading dims."""
    shape = shapes[0]
    return st.integers(1, len(shape)).flatmap(
        lambda k: st.tuples(*[_a_slice(s) for s in shape[:k]])).map(lambda index: {"index": index})


def int_index_params(shapes):
    """An int (negative too) in one dim, full slices before it; sometimes a bare int."""
    shape = shapes[0]

    def at(d):
        return st.integers(-shape[d], shape[d] - 1).map(lambda i: (slice(None),) * d + (i,) if d else i)
    return st.integers(0, len(shape) - 1).flatmap(at).map(lambda index: {"index": index})


def newaxis_ellipsis_params(shapes):
    """Per-dim slices and ints with one Ellipsis standing for some middle dims, and 0-2 None's inserted."""
    shape = shapes[0]
    ndim = len(shape)

    @st.composite
    def build(draw):
        items = [draw(_an_item(s)) for s in shape]
        start = draw(st.integers(0, ndim))
        stop = draw(st.integers(start, ndim))
        index = items[:start] + [Ellipsis] + items[stop:]
        for _ in range(draw(st.integers(0, 2))):
            index.insert(draw(st.integers(0, len(index))), None)
        return {"index": tuple(index)}
    return build()


def int_array_params(shapes, two=False, bare=False):
    """A list of ints with repeats (negative too) in one dim; or two lists in the first and last dims."""
    shape = shapes[0]
    ndim = len(shape)

    def repeated(size, length=None):
        lists = st.lists(st.integers(-size, size - 1), min_size=length or 1, max_size=length or 4)
        return lists.map(lambda l: l + [l[0]])

    if two:
        return st.integers(1, 3).flatmap(lambda n: st.tuples(repeated(shape[0], n), repeated(shape[-1], n))).map(
            lambda ab: {"index": (ab[0],) + (slice(None),) * (ndim - 2) + (ab[1],)})
    if bare:  # x[[i, j, i]] on a tensor of 2 or more dims: whole rows picked by one list
        return repeated(shape[0]).map(lambda l: {"index": l})
    return st.integers(0, ndim - 1).flatmap(lambda d: repeated(shape[d]).map(
        lambda l: {"index": (slice(None),) * d + (l,) if (d or ndim > 1) else l}))


def mask_params(shapes):
    """A bool list over dim 0."""
    return st.lists(st.booleans(), min_size=shapes[0][0], max_size=shapes[0][0]).map(lambda m: {"mask": m})


# --- NumPy references ----------------------------------------------------------------------------------

def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _logsumexp(x, dim=None, keepdim=False):
    axes = _axes(dim, x.ndim)
    m = np.max(x, axis=axes, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=axes)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x):
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _np_dim(dim, ndim):
    """A dim argument as NumPy's axis (0-d arrays: dim 0 / -1 mean "no axis")."""
    return None if (ndim == 0 and dim is not None) else (tuple(dim) if isinstance(dim, (tuple, list)) else dim)


def _reduce(np_fn):
    return lambda x, dim=None, keepdim=False: np_fn(x, axis=_np_dim(dim, x.ndim), keepdims=keepdim)


def _extreme_along(x, dim, keepdim, largest):
    if x.ndim == 0:
        return x, np.zeros((), dtype=np.int64)
    index = np.argmax(x, axis=dim, keepdims=True) if largest else np.argmin(x, axis=dim, keepdims=True)
    values = np.take_along_axis(x, index, axis=dim)
    if not keepdim:
        values, index = np.squeeze(values, axis=dim), np.squeeze(index, axis=dim)
    return values, index.astype(np.int64)


def _var(x, dim=None, keepdim=False, unbiased=None, correction=None):
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axes = _axes(dim, x.ndim)
    n = _count(x.shape, dim)
    centered = x - np.mean(x, axis=axes, keepdims=True)
    out = np.sum(centered ** 2, axis=axes, keepdims=True) / (n - c)
    return out if keepdim else np.squeeze(out, axis=axes)


def _torch_var(x, dim=None, keepdim=False, unbiased=None, correction=None, std=False):
    c = correction if correction is not None else (0 if unbiased is False else 1)
    return (x.std if std else x.var)(dim=dim, correction=c, keepdim=keepdim)


def _split_np(x, split_size_or_sections, dim=0):
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        bounds = list(range(split_size_or_sections, length, split_size_or_sections))
    else:
        bounds = list(np.cumsum(split_size_or_sections)[:-1])
    return np.split(x, bounds, axis=dim)


def _chunk_np(x, chunks, dim=0):
    step = -(-x.shape[dim] // chunks)
    return _split_np(x, step, dim)


def _expand_np(x, shape):
    return np.broadcast_to(x, _resolve(shape, x.shape))


def _unsqueeze_np(x, dim):
    return np.expand_dims(x, dim % (x.ndim + 1))


def _squeeze_np(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = _axes(dim, x.ndim)
    return np.squeeze(x, axis=tuple(d for d in dims if x.shape[d] == 1))


def _flatten_np(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:]) if x.size else x.reshape(
        x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def _transpose_np(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


# --- the cases ---------------------------------------------------------------------------------------------

def _binary(name, fn, reference, torch_fn, make=normal, count=2):
    return OpCase(name, fn, reference, examples(broadcastable(count)), make=make, torch_fn=torch_fn)


def _unary(name, fn, reference, torch_fn=None, make=normal, strategy=None, **options):
    return OpCase(name, fn, reference, examples(strategy or single()), make=make,
                  torch_fn=torch_fn or fn, **options)


ARITHMETIC = [
    _binary("add", lambda x, y: x + y, lambda x, y: x + y, lambda x, y: x + y),
    _binary("add_alpha", lambda x, y: x.add(y, alpha=2.5), lambda x, y: x + 2.5 * y,
            lambda x, y: x.add(y, alpha=2.5)),
    _binary("sub", lambda x, y: x - y, lambda x, y: x - y, lambda x, y: x - y),
    _binary("sub_functional", lambda x, y: minidl.sub(x, y), lambda x, y: x - y, lambda x, y: x.sub(y)),
    _binary("mul", lambda x, y: x * y, lambda x, y: x * y, lambda x, y: x * y),
    _binary("div", lambda x, y: x / y, lambda x, y: x / y, lambda x, y: x / y, make=(normal, positive)),
    _binary("div_signed_denominator", lambda x, y: x.div(y), lambda x, y: x / y, lambda x, y: x.div(y),
            make=(normal, away_from_zero)),
    _unary("neg", lambda x: -x, lambda x: -x),
    _unary("neg_method", lambda x: x.neg(), lambda x: -x),
    _unary("pow_2", lambda x: x ** 2, lambda x: x * x),
    _unary("pow_3", lambda x: x ** 3, lambda x: x * x * x),
    _unary("pow_0.5", lambda x: x ** 0.5, lambda x: np.sqrt(x), make=positive),
    _unary("pow_-1.5", lambda x: x.pow(-1.5), lambda x: 1.0 / (x * np.sqrt(x)), make=positive),
    _binary("pow_tensor_tensor", lambda x, y: x ** y, lambda x, y: np.exp(y * np.log(x)), lambda x, y: x ** y,
            make=(positive, normal)),
    _unary("rpow_scalar_base", lambda x: 2 ** x, lambda x: np.exp(x * math.log(2.0))),
    _unary("mul_scalar", lambda x: x * 2.0, lambda x: x + x),
    _unary("rmul_scalar", lambda x: 2.0 * x, lambda x: x + x),
    _unary("radd_scalar", lambda x: 1.5 + x, lambda x: x + 1.5),
    _unary("sub_scalar", lambda x: x - 0.5, lambda x: x - 0.5),
    _unary("rsub_scalar", lambda x: 3 - x, lambda x: 3.0 - x),
    _unary("div_scalar", lambda x: x / 4.0, lambda x: x * 0.25),
    _unary("rdiv_scalar", lambda x: 1 / x, lambda x: np.reciprocal(x), make=away_from_zero),
    _unary("exp", lambda x: x.exp(), np.exp),
    _unary("exp_functional", lambda x: minidl.exp(x), np.exp, torch_fn=lambda x: x.exp()),
    _unary("log", lambda x: x.log(), np.log, make=positive),
    _unary("sqrt", lambda x: x.sqrt(), np.sqrt, make=positive),
    _unary("abs", lambda x: x.abs(), lambda x: np.where(x < 0, -x, x), make=avoiding(0)),
    _unary("abs_builtin", lambda x: abs(x), lambda x: np.where(x < 0, -x, x), make=avoiding(0)),
    _unary("clamp_min", lambda x: x.clamp(min=-0.5), lambda x: np.where(x < -0.5, -0.5, x),
           make=avoiding(-0.5)),
    _unary("clamp_max", lambda x: x.clamp(max=0.3), lambda x: np.where(x > 0.3, 0.3, x), make=avoiding(0.3)),
    _unary("clamp_both", lambda x: x.clamp(-0.5, 0.3), lambda x: np.minimum(np.maximum(x, -0.5), 0.3),
           make=avoiding(-0.5, 0.3)),
    _unary("clamp_functional", lambda x: minidl.clamp(x, min=-1.0, max=1.0),
           lambda x: np.where(x < -1, -1.0, np.where(x > 1, 1.0, x)), torch_fn=lambda x: x.clamp(-1.0, 1.0),
           make=avoiding(-1, 1)),
    _binary("maximum", lambda x, y: x.maximum(y), lambda x, y: np.where(x > y, x, y), lambda x, y: x.maximum(y),
            make=(distinct, shifted(distinct, 0.025))),
    _binary("minimum", lambda x, y: minidl.minimum(x, y), lambda x, y: np.where(x < y, x, y),
            lambda x, y: x.minimum(y), make=(distinct, shifted(distinct, 0.025))),
    _binary("max_of_two_tensors", lambda x, y: minidl.max(x, y), lambda x, y: np.where(x > y, x, y),
            lambda x, y: _torch().max(x, y), make=(distinct, shifted(distinct, 0.025))),
    OpCase("where", lambda c, x, y: minidl.where(c.bool(), x, y), lambda c, x, y: np.where(c != 0, x, y),
           examples(broadcastable(3)), make=(coin, normal, normal), grad_inputs=(1, 2),
           torch_fn=lambda c, x, y: _torch().where(c.bool(), x, y)),
    OpCase("where_scalar_other", lambda c, x: minidl.where(c > 0, x, 0.0), lambda c, x: np.where(c > 0, x, 0.0),
           examples(broadcastable(2)), grad_inputs=(1,), torch_fn=lambda c, x: _torch().where(c > 0, x, 0.0)),
]

MATMUL = [
    OpCase(f"matmul_{form}", (lambda x, y: x @ y) if i % 3 == 0 else
           ((lambda x, y: minidl.matmul(x, y)) if i % 3 == 1 else (lambda x, y: x.matmul(y))),
           lambda x, y: np.matmul(x, y), examples(matmul_shapes(form)), torch_fn=lambda x, y: x @ y)
    for i, form in enumerate(MATMUL_FORMS)
]

REDUCTIONS = [
    OpCase("sum", lambda x, dim, keepdim: x.sum(dim, keepdim), _reduce(np.sum), examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim)),
    OpCase("sum_all", lambda x: x.sum(), lambda x: np.sum(x), examples(single()), torch_fn=lambda x: x.sum()),
    OpCase("sum_numpy_aliases", lambda x, dim, keepdim: minidl.sum(x, axis=dim, keepdims=keepdim),
           _reduce(np.sum), examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim)),
    OpCase("mean", lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim), _reduce(np.mean),
           examples(single(), reduce_dims), torch_fn=lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim)),
    OpCase("mean_numpy_aliases", lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim), _reduce(np.mean),
           examples(single(), reduce_dims), torch_fn=lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim)),
    OpCase("max_all", lambda x: x.max(), lambda x: np.max(x), examples(single()), make=distinct,
           torch_fn=lambda x: x.max()),
    OpCase("min_all", lambda x: minidl.min(x), lambda x: np.min(x), examples(single()), make=distinct,
           torch_fn=lambda x: x.min()),
    OpCase("max_dim", lambda x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim)),
           lambda x, dim, keepdim: _extreme_along(x, dim, keepdim, True),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim))),
    OpCase("min_dim", lambda x, dim, keepdim: tuple(x.min(dim, keepdim)),
           lambda x, dim, keepdim: _extreme_along(x, dim, keepdim, False),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: tuple(x.min(dim, keepdim))),
    OpCase("max_dim_numpy_aliases", lambda x, dim, keepdim: tuple(x.max(axis=dim, keepdims=keepdim)),
           lambda x, dim, keepdim: _extreme_along(x, dim, keepdim, True),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim))),
    OpCase("amax", lambda x, dim, keepdim: x.amax(dim, keepdim), _reduce(np.max),
           examples(single(), reduce_dims), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amax(dim=() if dim is None else dim, keepdim=keepdim)),
    OpCase("amin", lambda x, dim, keepdim: minidl.amin(x, dim=dim, keepdim=keepdim), _reduce(np.min),
           examples(single(), reduce_dims), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amin(dim=() if dim is None else dim, keepdim=keepdim)),
    OpCase("var_unbiased", lambda x, **p: x.var(**p), _var, examples(single(), lambda s: var_params(s, "unbiased")),
           torch_fn=_torch_var),
    OpCase("var_correction", lambda x, **p: minidl.var(x, **p), _var,
           examples(single(), lambda s: var_params(s, "correction")), torch_fn=_torch_var),
    OpCase("std_unbiased", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(_var(x, **p)),
           examples(std_shapes(), lambda s: var_params(s, "unbiased", std=True)),
           torch_fn=lambda x, **p: _torch_var(x, std=True, **p)),
    OpCase("std_correction", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(_var(x, **p)),
           examples(std_shapes(), lambda s: var_params(s, "correction", std=True)),
           torch_fn=lambda x, **p: _torch_var(x, std=True, **p)),
    OpCase("var_numpy_aliases", lambda x, dim, keepdim, unbiased: x.var(axis=dim, keepdims=keepdim,
                                                                        unbiased=unbiased),
           _var, examples(single(), lambda s: var_params(s, "unbiased")), torch_fn=_torch_var),
    OpCase("logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim), _logsumexp,
           examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.logsumexp(dim=tuple(range(x.ndim)) if dim is None else dim,
                                                        keepdim=keepdim)),
    OpCase("logsumexp_wide_values", lambda x, dim, keepdim: minidl.logsumexp(x, dim=dim, keepdim=keepdim),
           _logsumexp, examples(single(), reduce_dims), make=wide,
           torch_fn=lambda x, dim, keepdim: x.logsumexp(dim=tuple(range(x.ndim)) if dim is None else dim,
                                                        keepdim=keepdim)),
]

SHAPE = [
    OpCase("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape),
           examples(single(), reshape_params), torch_fn=lambda x, shape: x.reshape(shape)),
    OpCase("view", lambda x, shape: x.view(*shape), lambda x, shape: np.reshape(x, shape),
           examples(single(), reshape_params), torch_fn=lambda x, shape: x.view(shape)),
    OpCase("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1), _transpose_np,
           examples(single(min_dims=1), transpose_params), torch_fn=lambda x, dim0, dim1: x.transpose(dim0, dim1)),
    OpCase("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
           examples(single(), permute_params), torch_fn=lambda x, dims: x.permute(dims)),
    OpCase("permute_tuple", lambda x, dims: minidl.permute(x, dims), lambda x, dims: np.transpose(x, dims),
           examples(single(), permute_params), torch_fn=lambda x, dims: x.permute(dims)),
    OpCase("T", lambda x: x.T, lambda x: np.transpose(x), examples(single()),
           torch_fn=lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    OpCase("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), examples(single(min_dims=2)),
           torch_fn=lambda x: x.mT),
    OpCase("squeeze", lambda x: x.squeeze(), lambda x: np.squeeze(x), examples(with_ones()),
           torch_fn=lambda x: x.squeeze()),
    OpCase("squeeze_dim", lambda x, dim: x.squeeze(dim), _squeeze_np, examples(with_ones(), squeeze_params),
           torch_fn=lambda x, dim: x.squeeze(dim)),
    OpCase("unsqueeze", lambda x, dim: x.unsqueeze(dim), _unsqueeze_np,
           examples(single(), lambda s: an_int_dim(len(s[0]), extra=1).map(lambda d: {"dim": d})),
           torch_fn=lambda x, dim: x.unsqueeze(dim)),
    OpCase("expand", lambda x, shape: x.expand(*shape), _expand_np, examples(with_ones(), expand_params),
           torch_fn=lambda x, shape: x.expand(shape)),
    OpCase("expand_tuple", lambda x, shape: minidl.expand(x, shape), _expand_np,
           examples(with_ones(), expand_params), torch_fn=lambda x, shape: x.expand(shape)),
    OpCase("broadcast_to", lambda x, shape: x.broadcast_to(shape), lambda x, shape: np.broadcast_to(x, shape),
           examples(with_ones(), lambda s: expand_params(s, allow_minus_one=False)),
           torch_fn=lambda x, shape: x.broadcast_to(shape)),
    OpCase("flatten", lambda x, **p: x.flatten(**p), _flatten_np, examples(single(), flatten_params),
           torch_fn=lambda x, **p: x.flatten(**p)),
    OpCase("getitem_slices", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), slices_params), torch_fn=lambda x, index: x[index]),
    OpCase("getitem_int", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), int_index_params), torch_fn=lambda x, index: x[index]),
    OpCase("getitem_newaxis_ellipsis", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(), newaxis_ellipsis_params), torch_fn=lambda x, index: x[index]),
    OpCase("getitem_int_list_repeats", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), int_array_params), torch_fn=lambda x, index: x[index]),
    OpCase("getitem_int_tensor_repeats", lambda x, index: x[minidl.tensor(index, device=x.device)],
           lambda x, index: x[np.asarray(index)],
           examples(single(min_dims=1), lambda s: int_array_params(s, bare=True)),
           torch_fn=lambda x, index: x[_torch().tensor(index)]),
    OpCase("getitem_two_int_lists", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=2), lambda s: int_array_params(s, two=True)),
           torch_fn=lambda x, index: x[index]),
    OpCase("getitem_bool_mask_of_values", lambda x: x[x > 0], lambda x: x[x > 0], examples(single()),
           make=avoiding(0), torch_fn=lambda x: x[x > 0]),
    OpCase("getitem_bool_list", lambda x, mask: x[mask], lambda x, mask: x[np.asarray(mask, dtype=bool)],
           examples(single(min_dims=1), mask_params), torch_fn=lambda x, mask: x[_torch().tensor(mask)]),
    OpCase("cat", lambda *xs, dim: minidl.cat(xs + xs[:1], dim),  # the first input twice: its grads add up
           lambda *xs, dim: np.concatenate(xs + xs[:1], axis=dim),
           examples(cat_shapes(), cat_params), torch_fn=lambda *xs, dim: _torch().cat(xs + xs[:1], dim)),
    OpCase("cat_axis_alias", lambda *xs, dim: minidl.concatenate(list(xs), axis=dim),
           lambda *xs, dim: np.concatenate(xs, axis=dim),
           examples(cat_shapes(), cat_params), torch_fn=lambda *xs, dim: _torch().cat(xs, dim=dim)),
    OpCase("stack", lambda *xs, dim: minidl.stack([*xs, xs[0]], dim=dim),
           lambda *xs, dim: np.stack([*xs, xs[0]], axis=dim),
           examples(st.integers(1, 3).flatmap(same_shapes),
                    lambda s: an_int_dim(len(s[0]), extra=1).map(lambda d: {"dim": d})),
           torch_fn=lambda *xs, dim: _torch().stack([*xs, xs[0]], dim=dim)),
    OpCase("split_size", lambda x, **p: x.split(**p), _split_np,
           examples(single(min_dims=1), lambda s: split_params(s, sections=False)),
           torch_fn=lambda x, split_size_or_sections, dim: x.split(split_size_or_sections, dim)),
    OpCase("split_sections", lambda x, split_size_or_sections, dim: minidl.split(x, split_size_or_sections, dim),
           _split_np, examples(single(min_dims=1), lambda s: split_params(s, sections=True)),
           torch_fn=lambda x, split_size_or_sections, dim: x.split(split_size_or_sections, dim)),
    OpCase("chunk", lambda x, chunks, dim: x.chunk(chunks, dim), _chunk_np,
           examples(single(min_dims=1), chunk_params), torch_fn=lambda x, chunks, dim: x.chunk(chunks, dim)),
    OpCase("pad_constant", lambda x, pad, value: F.pad(x, pad, value=value),
           lambda x, pad, value: _np_pad(x, pad, "constant", value),
           examples(single(min_dims=1), constant_pad_params),
           torch_fn=lambda x, pad, value: _tf().pad(x, pad, value=value)),
] + [
    OpCase(f"pad_{mode}", lambda x, pad, mode=mode: F.pad(x, pad, mode=mode),
           lambda x, pad, mode=mode: _np_pad(x, pad, mode), index_pad_examples(mode),
           torch_fn=lambda x, pad, mode=mode: _tf().pad(x, pad, mode=mode))
    for mode in ("reflect", "replicate", "circular")
]

ACTIVATIONS = [
    _unary("sigmoid", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + np.exp(-x))),
    _unary("sigmoid_large_values", lambda x: F.sigmoid(x), _stable_sigmoid, torch_fn=lambda x: x.sigmoid(),
           make=with_extremes),
    _unary("relu", lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0), make=avoiding(0)),
    _unary("relu_functional", lambda x: F.relu(x), lambda x: np.where(x > 0, x, 0.0),
           torch_fn=lambda x: _tf().relu(x), make=avoiding(0)),
    _unary("tanh", lambda x: x.tanh(), lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))),
    _unary("tanh_functional", lambda x: minidl.tanh(x), np.tanh, torch_fn=lambda x: x.tanh(),
           make=with_extremes),
    _unary("gelu", lambda x: F.gelu(x), _gelu, torch_fn=lambda x: _tf().gelu(x)),
    _unary("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), _gelu_tanh,
           torch_fn=lambda x: _tf().gelu(x, approximate="tanh")),
    _unary("leaky_relu_default", lambda x: F.leaky_relu(x), lambda x: np.where(x > 0, x, 0.01 * x),
           torch_fn=lambda x: _tf().leaky_relu(x), make=avoiding(0)),
    _unary("leaky_relu_slope", lambda x: F.leaky_relu(x, negative_slope=0.2), lambda x: np.where(x > 0, x, 0.2 * x),
           torch_fn=lambda x: _tf().leaky_relu(x, negative_slope=0.2), make=avoiding(0)),
    OpCase("softmax", lambda x, dim: x.softmax(dim), _softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           torch_fn=lambda x, dim: x.softmax(dim)),
    OpCase("softmax_functional_wide_values", lambda x, dim: F.softmax(x, dim=dim), _softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           make=wide, torch_fn=lambda x, dim: _tf().softmax(x, dim=dim)),
    OpCase("softmax_axis_alias", lambda x, dim: minidl.softmax(x, axis=dim), _softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           torch_fn=lambda x, dim: x.softmax(dim)),
    OpCase("log_softmax", lambda x, dim: x.log_softmax(dim=dim), _log_softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           torch_fn=lambda x, dim: x.log_softmax(dim=dim)),
    OpCase("log_softmax_functional_wide_values", lambda x, dim: F.log_softmax(x, dim), _log_softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           make=wide, torch_fn=lambda x, dim: _tf().log_softmax(x, dim)),
]

CASTS = [
    _unary("double_noop", lambda x: x.double().to(x.dtype), lambda x: x,
           torch_fn=lambda x: x.double().to(x.dtype)),
    _unary("to_float64_noop", lambda x: x.to(minidl.float64).to(x.dtype), lambda x: x,
           torch_fn=lambda x: x.to(_torch().float64).to(x.dtype)),
    _unary("float_round_trip", lambda x: x.float().to(x.dtype), lambda x: x.astype(np.float32).astype(np.float64),
           torch_fn=lambda x: x.float().to(x.dtype), differentiable=False),
    _unary("clone", lambda x: x.clone(), lambda x: x.copy()),
    _unary("clone_functional", lambda x: minidl.clone(x) * 1.0, lambda x: x.copy(),
           torch_fn=lambda x: x.clone() * 1.0),
]


def _comparison(name, fn, reference):
    return OpCase(name, fn, reference, examples(broadcastable(2)), make=small_integers, torch_fn=fn,
                  differentiable=False)


NON_DIFFERENTIABLE = [
    _comparison("eq", lambda x, y: x == y, np.equal),
    _comparison("ne", lambda x, y: x != y, np.not_equal),
    _comparison("lt", lambda x, y: x < y, np.less),
    _comparison("le", lambda x, y: x.le(y), np.less_equal),
    _comparison("gt", lambda x, y: x > y, np.greater),
    _comparison("ge", lambda x, y: x >= y, np.greater_equal),
    _unary("gt_scalar", lambda x: x > 0.5, lambda x: x > 0.5, make=small_integers, differentiable=False),
    _unary("eq_scalar", lambda x: x == 1, lambda x: x == 1, make=small_integers, differentiable=False),
    OpCase("argmax", lambda x, dim, keepdim: x.argmax(dim=dim, keepdim=keepdim),
           lambda x, dim, keepdim: _extreme_along(x, dim, keepdim, True)[1],
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: x.argmax(dim=dim, keepdim=keepdim), differentiable=False),
    OpCase("argmin", lambda x, dim, keepdim: minidl.argmin(x, dim, keepdim),
           lambda x, dim, keepdim: _extreme_along(x, dim, keepdim, False)[1],
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: x.argmin(dim, keepdim), differentiable=False),
    OpCase("argmax_flat", lambda x: x.argmax(), lambda x: np.argmax(x), examples(single()), make=distinct,
           torch_fn=lambda x: x.argmax(), differentiable=False),
    _unary("isnan", lambda x: x.isnan(), np.isnan, make=with_specials, differentiable=False),
    _unary("isfinite", lambda x: minidl.isfinite(x), np.isfinite, torch_fn=lambda x: x.isfinite(),
           make=with_specials, differentiable=False),
]

# Corner cases PyTorch accepts, kept apart so that a failure here names the corner and does not
# stop hypothesis from exploring the ordinary shapes of the main case.
EDGES = [
    OpCase("max_min_dim_0d", lambda x, dim, keepdim: tuple(x.max(dim, keepdim)) + tuple(x.min(dim, keepdim)),
           lambda x, dim, keepdim: (x, np.int64(0), x, np.int64(0)), scalar_dim(),
           torch_fn=lambda x, dim, keepdim: tuple(x.max(dim, keepdim)) + tuple(x.min(dim, keepdim))),
    OpCase("argmax_argmin_0d", lambda x, dim, keepdim: (x.argmax(dim, keepdim), x.argmin(dim, keepdim)),
           lambda x, dim, keepdim: (np.int64(0), np.int64(0)), scalar_dim(), differentiable=False,
           torch_fn=lambda x, dim, keepdim: (x.argmax(dim, keepdim), x.argmin(dim, keepdim))),
    OpCase("transpose_0d", lambda x, dim: x.transpose(dim, 0), lambda x, dim: x, scalar_dim(keepdim=False),
           torch_fn=lambda x, dim: x.transpose(dim, 0)),
    OpCase("softmax_log_softmax_0d", lambda x, dim: (x.softmax(dim), x.log_softmax(dim)),
           lambda x, dim: (np.ones(()), np.zeros(())), scalar_dim(keepdim=False),
           torch_fn=lambda x, dim: (x.softmax(dim), x.log_softmax(dim))),
    # std over n = 1 element with correction 0 is identically 0, so its gradient is 0 (PyTorch masks the 0/0)
    OpCase("std_zero_spread", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(_var(x, **p)),
           drawn_together(size_one_dim()), torch_fn=lambda x, **p: _torch_var(x, std=True, **p)),
    # x[[i, j, i]] on >= 2 dims: whole rows, which the backward scatters through a fast host-side path
    OpCase("getitem_int_list_rows", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=2), lambda s: int_array_params(s, bare=True)), torch_fn=lambda x, index: x[index]),
]

CASES = ARITHMETIC + MATMUL + REDUCTIONS + SHAPE + ACTIVATIONS + CASTS + NON_DIFFERENTIABLE + EDGES
