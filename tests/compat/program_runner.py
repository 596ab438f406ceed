"""Runs a PyTorch program on PyTorch or on minidl, changing only its imports.

A program is a plain script of ``tests/compat/programs/`` written against ``torch``. For minidl, its
import lines are rewritten (``import torch`` → ``import minidl as torch``, ``from torch.nn import
functional as F`` → ``from minidl.nn import functional as F`` ...) and nothing else. The script runs
in a fresh namespace with two globals set by the test: ``initial_weights`` (a dict of NumPy arrays
to start from, or None) and ``work_folder`` (where it may write files); it leaves its results in
``RESULT``.
"""

from __future__ import annotations

import re
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"

_IMPORT = re.compile(r"^(\s*)import torch(\.[\w.]+)?( as \w+)?\s*$")
_FROM = re.compile(r"^(\s*)from torch(\.[\w.]+)? import (.+)$")


def on_minidl(source):
    """``source`` with its torch imports turned into the same imports of minidl."""
    lines = []
    for line in source.splitlines():
        plain, from_ = _IMPORT.match(line), _FROM.match(line)
        if plain:
            indent, submodule, alias = plain.groups()
            alias = alias or (" as torch" if not submodule else None)
            if alias is None:  # `import torch.nn`: binds `torch`, as PyTorch's does
                line = f"{indent}import minidl{submodule}; import minidl as torch"
            else:
                line = f"{indent}import minidl{submodule or ''}{alias}"
        elif from_:
            indent, submodule, names = from_.groups()
            line = f"{indent}from minidl{submodule or ''} import {names}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(name, library, initial_weights=None, work_folder=None):
    """Run program ``name`` (a file of programs/) on "torch" or "minidl"; its RESULT."""
    path = PROGRAMS / f"{name}.py"
    source = path.read_text(encoding="utf-8")
    if library == "minidl":
        source = on_minidl(source)
    namespace = {"__name__": "__main__", "__file__": str(path), "initial_weights": initial_weights,
                 "work_folder": str(work_folder or ".")}
    exec(compile(source, f"{path} ({library})", "exec"), namespace)  # noqa: S102 (our own test programs)
    return namespace["RESULT"]


def names():
    return sorted(path.stem for path in PROGRAMS.glob("*.py") if not path.stem.startswith("_"))
