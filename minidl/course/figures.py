"""Drawing the computational graph: as a matplotlib figure, or as Graphviz DOT text for any tensor.

A graph here is plain data, so any engine can be drawn (minidl's, or one built in a chapter):
``nodes`` maps a key to ``(label, kind)`` and ``edges`` lists ``(from_key, to_key)`` in the
direction the forward computed. Kinds: ``"op"`` (a node of the graph: an op and its
backward), ``"leaf"`` (requires grad), ``"constant"``, ``"output"``, ``"value"`` (any other).

* :func:`graph_of` reads the graph that produced a minidl tensor;
* :func:`draw_graph` draws one with matplotlib (columns left to right in the forward's order);
* :func:`to_dot` and :func:`render` write DOT text, and a PNG when Graphviz is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

COLORS = {"op": "#fdd0a2", "leaf": "#c7e9c0", "constant": "#eeeeee", "output": "#c6dbef", "value": "#ffffff"}


def graph_of(output, names=None):
    """(nodes, edges) of the graph that produced the minidl tensor ``output``.

    Ops are keyed ``("op", id)``, tensors ``("tensor", id)``; ``names`` (name -> tensor)
    labels the tensors it holds; other tensors are labelled by their shape.
    """
    labels = {id(tensor): name for name, tensor in (names or {}).items()}

    def tensor_node(tensor, kind):
        name = labels.get(id(tensor), "" if kind == "value" else kind)
        return f"{name}\n{tuple(tensor.shape)}" if name else str(tuple(tensor.shape)), kind

    nodes, edges, stack = {("tensor", id(output)): tensor_node(output, "output")}, [], [output]
    while stack:
        tensor = stack.pop()
        node = tensor.grad_fn
        if node is None or ("op", id(node)) in nodes:
            continue
        nodes[("op", id(node))] = (node.name, "op")
        edges.append((("op", id(node)), ("tensor", id(tensor))))
        for parent in node.inputs:
            key = ("tensor", id(parent))
            if key not in nodes:
                kind = "value" if parent.grad_fn is not None else "leaf" if parent.requires_grad else "constant"
                nodes[key] = tensor_node(parent, kind)
            edges.append((key, ("op", id(node))))
            stack.append(parent)
    return nodes, list(dict.fromkeys(edges))


def layout(nodes, edges):
    """{key: (column, row)}: each node one column right of its rightmost input; rows spread in a column,
    ordered by the mean row of their inputs (fewer crossing edges)."""
    inputs = {key: [] for key in nodes}
    for source, target in edges:
        inputs[target].append(source)
    column = {}
    for key in nodes:  # iterative longest-path depth
        stack = [key]
        while stack:
            top = stack[-1]
            waiting = [parent for parent in inputs[top] if parent not in column]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            column[top] = 1 + max((column[parent] for parent in inputs[top]), default=-1)
    position = {}
    for depth in range(max(column.values(), default=-1) + 1):
        members = [key for key in nodes if column[key] == depth]
        members.sort(key=lambda key: sum(position[p][1] for p in inputs[key]) / max(len(inputs[key]), 1))
        for row, key in enumerate(members):
            position[key] = (depth, row - (len(members) - 1) / 2)
    return position


def draw_graph(nodes, edges, axes, title=None):
    """Draw the graph (see the module docstring) on matplotlib ``axes``, inputs left, output right."""
    position = layout(nodes, edges)
    boxes = {}
    for key, (label, kind) in nodes.items():
        style = "square,pad=0.35" if kind == "op" else "round,pad=0.35"
        text = axes.text(*position[key], label, ha="center", va="center", fontsize=8, zorder=3,
                         bbox=dict(boxstyle=style, facecolor=COLORS.get(kind, COLORS["value"]), edgecolor="#555555"))
        boxes[key] = text.get_bbox_patch()
    for source, target in edges:  # arrows end at the boxes' edges; one that skips columns curves around them
        skips = position[target][0] - position[source][0] > 1
        axes.annotate("", xy=position[target], xytext=position[source], zorder=2,
                      arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1, patchA=boxes[source],
                                      patchB=boxes[target], connectionstyle=f"arc3,rad={0.25 if skips else 0}"))
    columns = [x for x, _ in position.values()] or [0]
    rows = [y for _, y in position.values()] or [0]
    axes.set_xlim(min(columns) - 0.6, max(columns) + 0.6)
    axes.set_ylim(min(rows) - 0.8, max(rows) + 0.8)
    axes.axis("off")
    if title:
        axes.set_title(title, fontsize=10)
    return position


def to_dot(output, names=None):
    """The graph that produced ``output`` as Graphviz DOT text.

    Boxes are ops (their backward nodes), ellipses are tensors: leaves that require grad
    (named from ``names``, a dict name -> tensor, when given), constants, and the output.
    """
    nodes, edges = graph_of(output, names)
    lines = ["digraph minidl {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=11];']
    identifiers = {key: f"{key[0][0]}{key[1]}" for key in nodes}
    for key, (label, kind) in nodes.items():
        shape = "box" if kind == "op" else "ellipse"
        fill = "" if kind == "value" else f', style=filled, fillcolor="{COLORS[kind]}"'
        text = label.replace("\n", "\\n")
        lines.append(f'  {identifiers[key]} [label="{text}", shape={shape}{fill}];')
    lines += [f"  {identifiers[source]} -> {identifiers[target]};" for source, target in edges]
    lines.append("}")
    return "\n".join(lines)


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
