"""Every differentiable op declared as data for the harness (minidl.harness)."""

import numpy as np
from hypothesis import strategies as st

import minidl
from minidl.harness import OpCase, broadcastable, dim_of, examples, positive, single

CASES = [
    OpCase("add", lambda x, y: x + y, np.add, examples(broadcastable(2)), torch_fn=lambda x, y: x + y),
    OpCase("mul", lambda x, y: x * y, np.multiply, examples(broadcastable(2)), torch_fn=lambda x, y: x * y),
    OpCase("log", lambda x: x.log(), np.log, examples(single()), make=positive, torch_fn=lambda x: x.log()),
    OpCase("softmax", lambda x, dim: x.softmax(dim),
           lambda x, dim: np.exp(x - x.max(dim, keepdims=True)) / np.exp(x - x.max(dim, keepdims=True)).sum(dim, keepdims=True),
           examples(single(min_dims=1), lambda s: dim_of(s, keepdim=False)), torch_fn=lambda x, dim: x.softmax(dim)),
]
