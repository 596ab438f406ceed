"""Value makers and shape/parameter strategies for the op catalogue.

Value makers keep inputs away from kinks and ties; strategies draw shapes (size-1 and
broadcast dims), dims (negative too, tuples), and the parameters of the shape ops.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog import references as ref
from minidl.testing.harness import SAME_AS_FN, OpCase, broadcastable, examples, normal, single


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


def var_params(shapes, style, std=False):
    """dim/keepdim plus ``unbiased`` or ``correction``, always leaving n - correction > 0
    (and, for std, n >= 2 so that the spread is not identically 0: see std_zero_spread)."""
    def finish(params):
        if std and ref.element_count(shapes[0], params["dim"]) < 2:
            params = {**params, "dim": None}  # std_shapes() has at least 2 elements in all
        n = ref.element_count(shapes[0], params["dim"])
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


def binary_case(name, fn, reference, torch_fn=SAME_AS_FN, make=normal, count=2):
    """An op of two broadcastable tensors."""
    return OpCase(name, fn, reference, examples(broadcastable(count)), make=make, torch_fn=torch_fn)


def unary_case(name, fn, reference, torch_fn=SAME_AS_FN, make=normal, strategy=None, **options):
    """An op of one tensor of any shape (or of ``strategy``'s)."""
    return OpCase(name, fn, reference, examples(strategy or single()), make=make,
                  torch_fn=torch_fn, **options)


# --- indexing and repeating parameters (index values come from a drawn seed) ---------------------------

def a_dim(ndim):
    """One dim of an ``ndim``-dim tensor (ndim >= 1) and the same dim counted from the end."""
    return st.integers(0, ndim - 1).flatmap(lambda d: st.sampled_from([d, d - ndim]))


def gather_params(shapes):
    """``dim`` and an ``index`` (nested lists, repeats) as long as the input in dim or shorter, 1..4 in dim."""
    shape = shapes[0]

    @st.composite
    def build(draw):
        dim = draw(a_dim(len(shape)))
        index_shape = [draw(st.integers(1, 4 if a == dim % len(shape) else n)) for a, n in enumerate(shape)]
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        return {"dim": dim, "index": rng.integers(0, shape[dim], index_shape).tolist()}
    return build()


def index_select_params(shapes):
    """``dim`` and an ``index`` vector of 1..5 positions, repeats and any order."""
    shape = shapes[0]
    return a_dim(len(shape)).flatmap(lambda d: st.lists(st.integers(0, shape[d] - 1), min_size=1, max_size=5).map(
        lambda index: {"dim": d, "index": index}))


def scatter_examples(accumulate, larger_src=False):
    """(input shape, src shape) with an index of src's shape (or smaller: ``larger_src``) and no larger than
    the input outside dim; for scatter (not accumulating) the positions along dim are distinct, so no two
    values land on one place."""
    @st.composite
    def build(draw):
        shape = draw(hnp_shape(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        top = [4 if accumulate and a == dim else n for a, n in enumerate(shape)]
        index_shape = [draw(st.integers(1, n)) for n in top]
        src_shape = tuple(n + draw(st.integers(0, int(larger_src))) for n in index_shape)
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        if accumulate:
            index = rng.integers(0, shape[dim], index_shape)
        else:
            wide = index_shape[:dim] + [shape[dim]] + index_shape[dim + 1:]
            index = np.argsort(rng.random(wide), axis=dim).take(np.arange(index_shape[dim]), axis=dim)
        return (shape, src_shape), {"dim": draw(st.sampled_from([dim, dim - len(shape)])), "index": index.tolist()}
    return drawn_together(build())


def narrow_params(shapes):
    """``dim``, a ``start`` (negative too) and a ``length`` that stays inside the dim (0 included)."""
    shape = shapes[0]

    @st.composite
    def build(draw):
        dim = draw(a_dim(len(shape)))
        start = draw(st.integers(-shape[dim], shape[dim]))
        room = shape[dim] - (start % shape[dim] if start < 0 else start)
        return {"dim": dim, "start": start, "length": draw(st.integers(0, room))}
    return build()


def repeat_params(shapes):
    """``sizes``: one per dim plus 0..2 leading ones, each 0..3."""
    ndim = len(shapes[0])
    count = st.integers(max(ndim, 1), ndim + 2)  # x.repeat() with no sizes is an error, even for 0-d x
    return count.flatmap(lambda n: st.lists(st.integers(0, 3), min_size=n, max_size=n)).map(
        lambda sizes: {"sizes": tuple(sizes)})


def repeat_interleave_params(shapes):
    """``repeats`` (an int, or a list of counts 0..3 for the dim) and ``dim`` (None: the flattened input)."""
    shape = shapes[0]
    flat = st.fixed_dictionaries({"repeats": st.integers(0, 3), "dim": st.none()})
    if not shape:
        return flat
    along = a_dim(len(shape)).flatmap(lambda d: st.one_of(st.integers(0, 3), st.lists(
        st.integers(0, 3), min_size=shape[d], max_size=shape[d])).map(lambda r: {"repeats": r, "dim": d}))
    return st.one_of(flat, along)
