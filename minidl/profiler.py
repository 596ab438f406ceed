"""Where the time goes, op by op: ``profile`` times every node's forward and backward.

    with minidl.profiler.profile() as prof:
        step()
    print(prof.key_averages().table(row_limit=10))

Every op is one ``Function`` node, so timing ``Function.apply`` (the forward) and
``node.backward`` (called by the backward pass) accounts for all array work; what
is left of a step's time is Python bookkeeping. The names follow
``torch.profiler``: ``profile``, ``key_averages(group_by_input_shape=...)``,
``table(sort_by=..., row_limit=...)``. An op's forward is reported under its name
(``conv2d``), its backward as ``conv2d_backward``. On a GPU the profiler waits for
each op to finish before stopping its clock, so the times are the ops' own.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from minidl.core.profiling import active, current  # noqa: F401  (active: the profile recording now)


@dataclass
class OpTimes:
    """The calls of one op (and one set of input shapes, when grouped by them)."""
    key: str
    input_shapes: tuple = ()
    count: int = 0
    seconds: float = 0.0

    @property
    def cpu_time_total(self):
        """Total time in microseconds, as torch.profiler reports it."""
        return self.seconds * 1e6

    @property
    def cpu_time(self):
        """Average time per call in microseconds."""
        return self.cpu_time_total / max(self.count, 1)


class EventList(list):
    """Per-op totals, with a printable table."""

    SORT_KEYS = {"cpu_time_total": lambda e: -e.seconds, "self_cpu_time_total": lambda e: -e.seconds,
                 "count": lambda e: -e.count, "cpu_time": lambda e: -e.cpu_time}

    def table(self, sort_by="cpu_time_total", row_limit=100):
        """The ops as text, slowest first: calls, total ms, ms per call and share of the total."""
        if sort_by not in self.SORT_KEYS:
            raise ValueError(f"table: sort_by must be one of {sorted(self.SORT_KEYS)}, got {sort_by!r}")
        rows = sorted(self, key=self.SORT_KEYS[sort_by])[:max(row_limit, 0)] if row_limit is not None else self
        total = sum(e.seconds for e in self) or 1.0
        shapes = any(e.input_shapes for e in self)
        width = max([len(e.key) for e in rows] + [2])
        header = f"{'op':<{width}}  {'calls':>6}  {'total ms':>9}  {'ms/call':>8}  {'share':>6}"
        lines = [header + ("  input shapes" if shapes else ""), "-" * (len(header) + (14 if shapes else 0))]
        for e in rows:
            line = (f"{e.key:<{width}}  {e.count:>6}  {e.seconds * 1e3:>9.2f}  {e.cpu_time / 1e3:>8.3f}"
                    f"  {e.seconds / total:>6.1%}")
            lines.append(line + (f"  {_shapes_text(e.input_shapes)}" if shapes else ""))
        lines.append(f"total: {total * 1e3:.2f} ms in {sum(e.count for e in self)} calls")
        return "\n".join(lines)


def _shapes_text(shapes):
    return ", ".join("x".join(str(size) for size in shape) if shape else "()" for shape in shapes)


class profile(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Record the time of every op's forward and backward while active.

    Profiles do not nest: inside another ``profile`` only the innermost records.
    """

    def __init__(self):
        self.records = {}          # (name, input shapes) -> [calls, seconds]
        self._tokens = []

    def __enter__(self):
        self._tokens.append(current.set(self))
        return self

    def __exit__(self, *exc):
        current.reset(self._tokens.pop())
        return False

    def start(self, arrays):
        """The clock at the start of an op's forward or backward on ``arrays`` (on a GPU, once the
        work queued before it has finished, so that it is not counted as this op's)."""
        _synchronize(arrays)
        return time.perf_counter()

    def stop(self, started, name, shapes, result):
        """Count one call of op ``name`` (inputs of ``shapes``) that started at ``started`` and produced
        ``result``; on a GPU, first wait for that work to finish."""
        _synchronize(result)
        entry = self.records.setdefault((name, shapes), [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - started

    def key_averages(self, group_by_input_shape=False):
        """Totals per op (and per input shapes, if ``group_by_input_shape``) as an EventList."""
        merged = {}
        for (name, shapes), (calls, seconds) in self.records.items():
            key = (name, shapes if group_by_input_shape else ())
            entry = merged.setdefault(key, OpTimes(name, key[1]))
            entry.count += calls
            entry.seconds += seconds
        return EventList(merged.values())

    def total_seconds(self):
        """Time spent inside ops, forward and backward."""
        return sum(seconds for _, seconds in self.records.values())


def _synchronize(arrays):
    """Wait for the GPU when ``arrays`` (an array, or a tuple or list of them) live there."""
    for array in arrays if isinstance(arrays, (tuple, list)) else (arrays,):
        if type(array).__module__.startswith("cupy"):
            import cupy
            cupy.cuda.get_current_stream().synchronize()
            return
