"""Drawing the computational graph: DOT text for any tensor, rendered when Graphviz is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def to_dot(output, names=None):
    """The graph that produced ``output`` as Graphviz DOT text.

    Boxes are ops (their backward nodes), ellipses are tensors: leaves that require grad
    (named from ``names``, a dict name -> tensor, when given), constants, and the output.
    """
    labels = {id(tensor): name for name, tensor in (names or {}).items()}
    lines = ["digraph minidl {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=11];']
    seen, stack = set(), [output]
    lines.append(f'  t{id(output)} [label="{_tensor_label(output, labels, "output")}", shape=ellipse, '
                 'style=filled, fillcolor="#c6dbef"];')
    while stack:
        tensor = stack.pop()
        node = tensor.grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        lines.append(f'  n{id(node)} [label="{node.name}", shape=box, style=filled, fillcolor="#fdd0a2"];')
        lines.append(f"  n{id(node)} -> t{id(tensor)};")
        for parent in node.inputs:
            if parent.grad_fn is None and id(parent) not in seen:
                seen.add(id(parent))
                kind = "leaf" if parent.requires_grad else "constant"
                color = "#c7e9c0" if parent.requires_grad else "#eeeeee"
                lines.append(f'  t{id(parent)} [label="{_tensor_label(parent, labels, kind)}", shape=ellipse, '
                             f'style=filled, fillcolor="{color}"];')
            elif parent.grad_fn is not None:
                lines.append(f'  t{id(parent)} [label="{_tensor_label(parent, labels, "")}", shape=ellipse];')
            lines.append(f"  t{id(parent)} -> n{id(node)};")
            stack.append(parent)
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # each node and edge once


def _tensor_label(tensor, labels, kind):
    name = labels.get(id(tensor), kind)
    return f"{name}\\n{tuple(tensor.shape)}" if name else f"{tuple(tensor.shape)}"


def render(dot, path):
    """Write ``path`` (.dot always; also .png through Graphviz's ``dot`` when it is installed).

    Returns the PNG path, or None when Graphviz is missing (``apt-get install graphviz``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.with_suffix(".dot")
    source.write_text(dot, encoding="utf-8")
    if shutil.which("dot") is None:
        return None
    image = path.with_suffix(".png")
    subprocess.run(["dot", "-Tpng", str(source), "-o", str(image)], check=True)
    return image
