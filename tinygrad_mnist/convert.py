"""``python -m tinygrad_mnist convert IN.pth OUT.safetensors``: a PyTorch checkpoint, converted once.

``torch.save`` writes a pickle (inside a zip archive since PyTorch 1.6), and unpickling can run
any code the file names. ``tg.load`` therefore reads safetensors only. This module converts a
``.pt``/``.pth`` file through ``torch.load(weights_only=True)``: PyTorch's restricted unpickler,
which builds tensors and plain containers (dict, OrderedDict, list, tuple, str, int, float,
bool, None) and refuses any other object without running code from the file. What it returns
is saved with :func:`tinygrad_mnist.checkpoint.save`: a state_dict as a plain safetensors file,
a checkpoint dict (``epoch``, ``model_state_dict``, ``optimizer_state_dict``, ...) with its
nesting kept, so ``tg.load`` gives back what ``torch.load`` gave.

float16 and bfloat16 tensors, which the engine lacks, are widened to float32 (exactly: every
half-precision value is a float32 value) and counted in the summary. TorchScript archives,
whole pickled modules and anything else the restricted unpickler refuses are refused here too.
Needs PyTorch; the rest of tinygrad_mnist does not.
"""
from __future__ import annotations

import os
import re
import warnings
from collections import OrderedDict

import numpy as np

from . import checkpoint
from .tensor import Tensor

__all__ = ["convert"]


class _Converted:
    def __init__(self):
        self.tensors = 0
        self.elements = 0
        self.widened = []


def _where(path):
    return "obj" + "".join(f"[{k!r}]" for k in path)


def _to_ours(torch, value, path, info, src):
    """torch objects -> ours, recursively: tensors to Tensors, torch.Size to tuples."""
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided or value.is_quantized:
            raise ValueError(f"{src}: {_where(path)} is a {value.layout} / quantized tensor, which cannot be "
                             f"converted; store it dense (tensor.to_dense() or dequantize()) first")
        t = value.detach().cpu().resolve_conj().resolve_neg()
        if t.dtype in (torch.float16, torch.bfloat16):
            info.widened.append(".".join(str(k) for k in path))
            t = t.float()
        try:
            array = np.array(t.numpy(), copy=True, order="C")
        except TypeError as exc:
            raise ValueError(f"{src}: {_where(path)} has dtype {t.dtype}, which cannot be converted ({exc})") from None
        info.tensors += 1
        info.elements += array.size
        return Tensor(array, requires_grad=bool(value.requires_grad and array.dtype.kind == "f"))
    if isinstance(value, torch.Size):
        return tuple(int(n) for n in value)
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)  # e.g. 'torch.float32': kept readable, as a string
    if isinstance(value, OrderedDict):
        return OrderedDict((k, _to_ours(torch, v, path + (k,), info, src)) for k, v in value.items())
    if isinstance(value, dict):
        return {k: _to_ours(torch, v, path + (k,), info, src) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_to_ours(torch, v, path + (i,), info, src) for i, v in enumerate(value))
    if isinstance(value, list):
        return [_to_ours(torch, v, path + (i,), info, src) for i, v in enumerate(value)]
    return value  # str, int, float, bool, None: checked again by checkpoint.save


def _reason(exc):
    """The useful sentence of torch's refusal (its advice to retry with weights_only=False is left out)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    m = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\s*\n|$)", text, re.S)
    if m:
        text = m.group(1)
    text = " ".join(text.split())
    sentence = re.split(r"(?<=\.)\s", text, maxsplit=1)[0] if text else type(exc).__name__
    return sentence[:300]


def _refused(src, exc):
    return ValueError(
        f"{src}: refused: torch.load(weights_only=True) would not read it ({_reason(exc)}). Nothing in it was "
        f"run. It holds more than tensors and plain containers (a whole pickled model, a TorchScript archive, "
        f"or other Python objects) or is not a PyTorch file. If you trust its source, load it in PyTorch, "
        f"save model.state_dict() with torch.save, and convert that.")


def convert(src, dst, log=print):
    """Convert the PyTorch checkpoint ``src`` into the safetensors file ``dst``; returns what was saved."""
    src, dst = os.fspath(src), os.fspath(dst)
    if not os.path.exists(src):
        raise FileNotFoundError(2, "convert: no such file", src)
    if os.path.isdir(src):
        raise IsADirectoryError(21, "convert: expected a .pt/.pth file, found a directory", src)
    with open(src, "rb") as f:
        head = f.read(16)
    if len(head) >= 8 and head[:4] not in (b"PK\x03\x04", b"PK\x05\x06") and head[:1] != b"\x80":
        try:
            checkpoint.load_metadata(src)
        except (ValueError, TypeError):
            pass
        else:
            raise ValueError(f"convert: {src} is already a safetensors file; tg.load reads it as it is")
    if os.path.exists(dst) and os.path.samefile(src, dst):
        raise ValueError(f"convert: the output {dst} is the input file; choose another name")
    try:
        import torch
    except ImportError:
        raise RuntimeError("convert needs PyTorch to read a torch.save file (pip install torch); "
                           "tinygrad_mnist itself never unpickles") from None
    import pickle  # only for the exception type that torch's restricted unpickler raises
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on pickle protocols; the outcome is what counts
            obj = torch.load(src, map_location="cpu", weights_only=True)  # never weights_only=False
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError, AttributeError,
            KeyError, IndexError, ImportError, OSError) as exc:
        raise _refused(src, exc) from None
    info = _Converted()
    ours = _to_ours(torch, obj, (), info, src)
    checkpoint.save(ours, dst)
    what = (f"a dict with keys {', '.join(repr(k) for k in list(obj)[:8])}{', ...' if len(obj) > 8 else ''}"
            if isinstance(obj, dict) else f"a {type(obj).__name__}")
    log(f"wrote {dst}: {info.tensors} tensors ({info.elements:,} numbers) from {src} ({what})")
    if info.widened:
        log(f"  widened {len(info.widened)} float16/bfloat16 tensors to float32 (exactly): "
            f"{', '.join(info.widened[:5])}{', ...' if len(info.widened) > 5 else ''}")
    return ours
