"""What every chapter script shares: quick or full mode, where figures go, and checked results.

A chapter in ``chapters/`` starts with::

    from minidl.course.chapter import Chapter
    chapter = Chapter(1, "Neural networks and autograd")

then uses ``chapter.quick`` to size its runs, ``chapter.figure("name.png")``
for the path of each figure, ``chapter.record(name, value)`` for the numbers it
reports, ``chapter.check(condition, message)`` for the results it promises,
and ends with ``chapter.finish()``, which prints a summary and writes
``result.json`` next to the figures (``minidl tour`` collects those).

Quick mode (``--quick`` on the command line or ``MINIDL_QUICK=1``) is what CI
runs: each chapter must finish in under a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from minidl.kernels.memory import keep_freed_memory

RUNS = Path(os.environ.get("MINIDL_RUNS", "runs")) / "chapters"  # MINIDL_RUNS moves every output


class ChapterCheckFailed(AssertionError):
    """A chapter did not reach the result it promises."""


def quick_mode():
    """True when ``--quick`` was passed to the script or ``MINIDL_QUICK`` is set to something other than 0."""
    return "--quick" in sys.argv[1:] or os.environ.get("MINIDL_QUICK", "0") not in ("", "0")


class Chapter:
    """The state of one running chapter: mode, output folder, recorded results."""

    def __init__(self, number, title):
        self.number, self.title = int(number), title
        self.quick = quick_mode()
        self.folder = RUNS / f"{self.number:02d}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.results, self.figures, self.checks = {}, [], []
        self.started = time.perf_counter()
        keep_freed_memory()  # chapters train real models: reuse freed memory instead of page-faulting it back
        print(f"Chapter {self.number:02d}: {title} ({'quick' if self.quick else 'full'} mode)")

    def figure(self, name):
        """The path for a figure of this chapter (remembered for the summary)."""
        path = self.folder / name
        self.figures.append(str(path))
        return path

    def record(self, name, value):
        """Remember (and print) a number or short text this chapter reports."""
        self.results[name] = value
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"  {name}: {shown}")
        return value

    def check(self, condition, message):
        """Assert a promised result; the message says what was promised."""
        self.checks.append(message)
        if not condition:
            raise ChapterCheckFailed(f"chapter {self.number:02d}: {message}")
        print(f"  ok: {message}")

    def finish(self):
        """Print the summary and write result.json; returns the summary dict."""
        summary = {"chapter": self.number, "title": self.title, "mode": "quick" if self.quick else "full",
                   "seconds": round(time.perf_counter() - self.started, 2), "results": self.results,
                   "checks": self.checks, "figures": self.figures}
        (self.folder / "result.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        print(f"Chapter {self.number:02d} done in {summary['seconds']:.1f} s; figures in {self.folder}")
        return summary
