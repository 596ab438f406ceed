"""The benchmark inputs, generated exactly as ../shared/benchmarks.md specifies (NumPy, seed 0)."""

import numpy as np


def workload_data(name):
    """Arrays for one workload or micro-op, drawn in the documented order."""
    rng = np.random.default_rng(0)
    if name == "M":
        x = rng.standard_normal((256, 784), dtype=np.float32)
        return {"x": x, "y": rng.integers(0, 10, 256)}
    if name == "C":
        x = rng.standard_normal((64, 3, 32, 32), dtype=np.float32)
        return {"x": x, "y": rng.integers(0, 10, 64)}
    if name == "T":
        tokens = rng.integers(0, 2000, (32, 64))
        return {"tokens": tokens, "labels": rng.integers(0, 2, 32)}
    if name == "E":
        source = rng.integers(0, 1000, (32, 32))
        return {"source": source, "target": rng.integers(0, 1000, (32, 33))}
    shapes = MICRO_OPS[name]
    arrays = {key: rng.standard_normal(shape, dtype=np.float32) for key, shape in shapes["inputs"].items()}
    arrays["g"] = rng.standard_normal(shapes["output"], dtype=np.float32)
    return arrays


MICRO_OPS = {
    "matmul": {"inputs": {"a": (512, 512), "b": (512, 512)}, "output": (512, 512)},
    "conv2d": {"inputs": {"x": (64, 32, 32, 32), "w": (64, 32, 3, 3), "bias": (64,)}, "output": (64, 64, 32, 32)},
    "softmax": {"inputs": {"x": (32, 4, 64, 64)}, "output": (32, 4, 64, 64)},
    "layernorm": {"inputs": {"x": (32, 64, 128), "weight": (128,), "bias": (128,)}, "output": (32, 64, 128)},
}
