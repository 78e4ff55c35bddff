"""How tensors print: PyTorch's layout, so that a ported program's output reads the same.

The rules, as PyTorch applies them (``torch.set_printoptions`` has the same options here):

* floats get ``precision`` (4) digits after the point; when every finite value is an integer they
  print as ``1.`` (integer mode); scientific notation (``1.0000e-05``) is used when the finite
  nonzero magnitudes span more than a factor 1000, or exceed 1e8, or go below 1e-4;
* all elements share one width, so columns line up; a row wraps at ``linewidth`` (80) characters;
* a tensor of more than ``threshold`` (1000) elements is summarized: ``edgeitems`` (3) at each end
  of every dimension, ``...`` between;
* suffixes: ``dtype=`` unless the dtype is float32, int64 or bool (always for an empty tensor
  that is not float32), ``size=`` for an empty tensor that is not 1-D, ``device='cuda:0'``, then
  ``grad_fn=<...>`` or ``requires_grad=True``.

Differences: dtypes print as ``tinygrad_mnist.float64`` (PyTorch: ``torch.float64``), and
``grad_fn`` shows the engine's node name (``MulBackward``; PyTorch's carry a number,
``MulBackward0``, and name some nodes differently).
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


OPTIONS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print (``torch.set_printoptions``): a ``profile`` ("default", "short",
    "full") first, then the options given; ``sci_mode`` True/False forces or forbids scientific
    notation (None: chosen from the values)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): unknown profile {profile!r}; choose one of "
                             f"{', '.join(_PROFILES)}")
        for key, value in _PROFILES[profile].items():
            setattr(OPTIONS, key, value)
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, key, value)
    OPTIONS.sci_mode = sci_mode


def get_printoptions():
    """The current print options, as a dict."""
    return {key: getattr(OPTIONS, key) for key in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print options for the duration of a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """One width and one notation for every element of a tensor (or of its summarized part)."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not floating:
            self.width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        shown = flat[np.isfinite(flat) & (flat != 0)]  # host: printing
        if shown.size == 0:
            return
        magnitudes = np.abs(shown).astype(np.float64)  # host: printing
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool((shown == np.ceil(shown)).all())  # host: printing
        if OPTIONS.sci_mode is None:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        else:
            self.sci_mode = bool(OPTIONS.sci_mode)
        p = OPTIONS.precision
        if self.sci_mode:
            self.width = max(len(f"{v:.{p}e}") for v in shown.tolist())
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in shown.tolist())  # + 1 for the point
        else:
            self.width = max(len(f"{v:.{p}f}") for v in shown.tolist())

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{OPTIONS.precision}f}"
        return text.rjust(self.width)


def _edges(arr):
    """The elements a summarized print shows: ``edgeitems`` at each end of every dimension."""
    e = OPTIONS.edgeitems
    for axis, n in enumerate(arr.shape):
        if n > 2 * e:
            arr = np.take(arr, list(range(e)) + list(range(n - e, n)), axis=axis)  # host: printing
    return arr


def _body(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    e = OPTIONS.edgeitems
    n = arr.shape[0]
    if arr.ndim == 1:
        per_line = max(1, math.floor((OPTIONS.linewidth - indent) / (fmt.width + 2)))
        if summarize and not e:
            items = ["..."]
        elif summarize and n > 2 * e:
            items = [fmt.format(v) for v in arr[:e].tolist()] + [" ..."] + \
                    [fmt.format(v) for v in arr[n - e:].tolist()]
        else:
            items = [fmt.format(v) for v in arr.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and n > 2 * e:
        rows = [_body(arr[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
               [_body(arr[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        rows = [_body(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent):
    parts = [text]
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t, arr):
    """``repr(t)``, given the tensor and its data as a NumPy array."""
    from . import dtypes
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type == "cuda":
        suffixes.append("device='cuda:0'")
    dtype = t.dtype
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype is not dtypes.default_float:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype not in (dtypes.default_float, dtypes.int64, dtypes.bool_):
            suffixes.append(f"dtype={dtype!r}")
        summarize = arr.size > OPTIONS.threshold
        fmt = _Formatter(_edges(arr) if summarize else arr, arr.dtype.kind == "f")
        body = _body(arr, indent, summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
