"""The chapters and benchmarks of a minidl checkout, for the ``minidl`` command.

They are scripts of the repository, not of the installed package, so the
checkout is located explicitly (:func:`repository`): ``$MINIDL_HOME``, or the
current folder or one above it.

Chapters are the scripts ``chapters/NN_name.py`` of the repository (Jupytext
percent format), in the order of their numbers, from 00 (building the engine);
each one's first markdown line is its title and its ``result.json`` (written by
:class:`minidl.course.chapter.Chapter`) its summary. Each chapter's exercises are
package data (``minidl.course.exercises``), so they need no checkout. A chapter that
starts processes of its own (09 runs its data-parallel part on 2 MPI processes) does so
itself; when something it needs is missing it records what it ``skipped``, and the tour
lists those lines under its table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from minidl.course.chapter import RUNS


def repository():
    """The minidl checkout that holds chapters/ and benchmarks/: $MINIDL_HOME if set, else the
    current folder or the nearest folder above it that has both."""
    home = os.environ.get("MINIDL_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        if not _is_checkout(root):
            raise FileNotFoundError(f"MINIDL_HOME={home} is not a minidl checkout: it needs chapters/ and "
                                    "benchmarks/ folders")
        return root
    here = Path.cwd().resolve()
    for root in (here, *here.parents):
        if _is_checkout(root):
            return root
    raise FileNotFoundError(f"the chapters and benchmarks live in a minidl checkout, and neither {here} nor a "
                            "folder above it is one; run this command inside the checkout (cd minidl) or set "
                            "MINIDL_HOME=/path/to/minidl")


def _is_checkout(root):
    return (root / "chapters").is_dir() and (root / "benchmarks").is_dir()


def chapters():
    """(number, path, title) of every chapter, in order."""
    found = []
    for path in sorted(repository().joinpath("chapters").glob("[0-9][0-9]_*.py")):
        found.append((int(path.name[:2]), path, _title(path)))
    return found


def _title(path):
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s+#+\s*(.+)", line)
        if match:
            return match.group(1).strip()
    return path.stem


def summary(path):
    """The chapter's one-line summary: its first italic line, the one under its title (empty if none)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#\s+\*(.+)\*\s*", line)
        if match:
            return match.group(1).strip()
    return ""


def find(number):
    for entry in chapters():
        if entry[0] == int(number):
            return entry
    known = ", ".join(f"{n:02d}" for n, _, _ in chapters())
    raise ValueError(f"there is no chapter {number}; the chapters are {known}")


def run_chapter(number, quick=False):
    """Run one chapter as a script in a fresh process (output streams through); returns the exit code."""
    _, path, _ = find(number)
    command = [sys.executable, str(path)] + (["--quick"] if quick else [])
    environment = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(command, cwd=Path.cwd(), env=environment).returncode


def tour():
    """Every chapter in quick mode, then a table of results and where the figures are; returns the exit code."""
    rows, failed = [], 0
    for number, path, title in chapters():
        print(f"\n=== chapter {number:02d}: {title} ===", flush=True)
        start = time.perf_counter()
        code = run_chapter(number, quick=True)
        failed += code != 0
        rows.append((number, title, code, time.perf_counter() - start, _summary(number)))
    print("\n" + summary_table(rows))
    for number, _, _, _, result in rows:  # a chapter that could not run a part says what it left out
        if "skipped" in result.get("results", {}):
            print(f"chapter {number:02d} skipped {result['results']['skipped']}")
    print("\nTo practise a chapter: `minidl exercise N` writes its exercises here, `minidl check N` grades them.")
    return 1 if failed else 0


def _summary(number):
    path = RUNS / f"{number:02d}" / "result.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def summary_table(rows):
    lines = [f"{'chapter':<9}{'status':<8}{'time':>7}  {'results':<60}figures", "-" * 100]
    for number, title, code, seconds, summary in rows:
        results = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in summary.get("results", {}).items())
        status = "ok" if code == 0 else "FAILED"
        folder = str(RUNS / f"{number:02d}")
        lines.append(f"{number:02d} {title[:40]:<40}")
        lines.append(f"{'':<9}{status:<8}{seconds:>6.1f}s  {results[:58]:<60}{folder}")
    return "\n".join(lines)


def run_benchmarks(arguments, script="run.py"):
    """Run benchmarks/<script> (run.py: the benchmarks; breakdown.py: a step stage by stage) with the
    given arguments; returns its exit code."""
    return subprocess.run([sys.executable, str(repository() / "benchmarks" / script), *arguments]).returncode
