"""Look at a backward graph: as an indented tree, as Graphviz DOT text, or as an SVG/PNG picture.

    loss = F.cross_entropy(model(x), y)
    print(tg.viz.graph(loss, params=dict(model.named_parameters())))

Each line is one node of the graph that ``loss.backward()`` walks: the op (``MatmulBackward``),
the shape and dtype of the tensor it produced, the shapes of the tensors it saved for backward,
and, after a backward, the norm of the gradient: for leaves from ``.grad``, for ops when the
backward ran inside ``tg.autograd.trace()``. A node reached a second time (a reused tensor) is
printed once and then referred to by its number.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from ._files import atomic_write
from .autograd import AccumulateGrad
from .backend import to_numpy


def _norm(array):
    return float(np.linalg.norm(to_numpy(array).astype(np.float64).ravel()))


def _shape(shape):
    return str(tuple(int(n) for n in shape))


def _describe(node, names):
    """(title, details) of one node."""
    if isinstance(node, AccumulateGrad):
        t = node.variable
        if t is None:
            return "AccumulateGrad", "(tensor gone)"
        label = names.get(id(t))
        title = "AccumulateGrad" + (f" [{label}]" if label else "")
        details = f"{_shape(t.shape)} {t.dtype.name}"
        if t.grad is not None:
            details += f"  |grad| {_norm(t.grad.array):.4g}"
        return title, details
    details = ""
    if getattr(node, "_output_meta", None) and node._output_meta[0] is not None:
        shape, dtype = node._output_meta[0]
        details = f"-> {_shape(shape)} {np.dtype(dtype).name}"
    if getattr(node, "_released", False):
        shapes = getattr(node, "saved_shapes", None)  # kept by tg.autograd.trace
        details += ("  saved: (freed by backward)" if shapes is None else
                    "  saved (freed by backward): " + ", ".join(_shape(s) for s in shapes))
    elif getattr(node, "_saved", ()) or getattr(node, "_arrays", ()):
        details += "  saved: " + (", ".join(_shape(s.shape) for s in saved_arrays(node)) or "-")
        if node._arrays:  # a fast route's own arrays (tinygrad_mnist/fast/)
            details += "  + fast route: " + ", ".join(_shape(a.shape) for a in node._arrays)
    if getattr(node, "grad_norm", None) is not None:
        details += f"  |grad| {node.grad_norm:.4g}"
    return node.name(), details


def saved_arrays(node):
    """The arrays a node keeps for its backward (inputs, outputs, constants), without unpacking them."""
    return [s.tensor.array if s.tensor is not None else s.array for s in getattr(node, "_saved", ()) if s is not None]


def _root(tensor):
    node = tensor._grad_node()
    if node is None:
        raise ValueError("this tensor has no backward graph: it does not require grad")
    return node


def graph(tensor, params=None):
    """The backward graph below ``tensor`` as an indented tree (a string).

    ``params``: an optional ``{name: tensor}`` (``dict(model.named_parameters())``) to label leaves.
    """
    names = {id(t): n for n, t in (params or {}).items()}
    numbers = {}
    lines = []
    stack = [(_root(tensor), "", "", True)]
    while stack:  # iterative depth-first walk: deep graphs print without recursion
        node, prefix, branch, last = stack.pop()
        if node is None:
            lines.append(f"{prefix}{branch}(no grad)")
            continue
        if node in numbers:
            lines.append(f"{prefix}{branch}#{numbers[node]} {node.name()} (see above)")
            continue
        numbers[node] = len(numbers)
        title, details = _describe(node, names)
        lines.append(f"{prefix}{branch}#{numbers[node]} {title}  {details}".rstrip())
        child_prefix = prefix + ("" if not branch else ("   " if last else "│  "))
        children = [n for n, _ in node.next_functions]
        for i in reversed(range(len(children))):
            is_last = i == len(children) - 1
            stack.append((children[i], child_prefix, "└─ " if is_last else "├─ ", is_last))
    return "\n".join(lines)


def to_dot(tensor, params=None):
    """Graphviz DOT text of the backward graph (edges point from inputs to the op using them)."""
    names = {id(t): n for n, t in (params or {}).items()}
    ids = {}
    out = ["digraph backward {", '  node [shape=box, fontname="Helvetica", fontsize=10];', "  rankdir=BT;"]
    stack = [_root(tensor)]
    while stack:
        node = stack.pop()
        if node in ids:
            continue
        ids[node] = f"n{len(ids)}"
        title, details = _describe(node, names)
        label = (title + "\\n" + details.strip()).replace('"', "'")
        style = ', style=filled, fillcolor="lightblue"' if isinstance(node, AccumulateGrad) else ""
        out.append(f'  {ids[node]} [label="{label}"{style}];')
        stack.extend(n for n, _ in node.next_functions if n is not None)
    for node, nid in ids.items():
        for child, _ in node.next_functions:
            if child is not None:
                out.append(f"  {ids[child]} -> {nid};")
    out.append("}")
    return "\n".join(out) + "\n"


def render(tensor, path, params=None):
    """Write the graph as a picture (format from the extension: .svg, .png, .pdf) with Graphviz.

    Needs the ``dot`` program; the error says how to install it. The file is written atomically.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render() needs Graphviz's 'dot' program, which is not installed: "
            "apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) or "
            "conda install graphviz. tinygrad_mnist.viz.to_dot(tensor) gives the DOT text without it.")
    fmt = os.path.splitext(str(path))[1].lstrip(".").lower() or "svg"
    proc = subprocess.run([dot, f"-T{fmt}"], input=to_dot(tensor, params).encode(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"render: Graphviz 'dot -T{fmt}' failed (exit {proc.returncode}) for {path}: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    with atomic_write(path, "wb") as f:
        f.write(proc.stdout)
    return path
