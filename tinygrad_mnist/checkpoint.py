"""``tg.save`` and ``tg.load``: what PyTorch programs save, as safetensors files (never pickles).

A safetensors file is an 8-byte header length, a JSON header (each tensor's dtype, shape and byte
range, plus a str -> str ``__metadata__``) and the raw little-endian tensor data. Reading one
runs no code, which is why checkpoints here use it instead of Python object serialisation.

What ``save`` stores:

* a state_dict (a mapping str -> Tensor): its tensors under their names, so the file is also a
  plain state_dict for ``safetensors.torch.load_file`` into the same PyTorch architecture (and a
  file PyTorch writes with ``safetensors.torch.save_file`` loads here);
* anything else programs put in a checkpoint -- ``{'epoch': 3, 'model_state_dict': ...,
  'optimizer_state_dict': ..., 'loss': 0.1}`` -- nested dicts, lists and tuples of tensors, NumPy
  arrays, str, int, float (nan and inf too), bool and None, with keys of those scalar types (an
  optimizer's ``state`` is keyed by int). Tensors are stored under their flattened key path
  (``model_state_dict.fc1.weight``).

The structure (nesting, key order, container and scalar types, ``requires_grad``) is kept as
JSON in the metadata entry ``tinygrad_mnist.structure``, and ``load`` rebuilds it (NumPy scalars
come back as Python numbers). A tensor that appears twice is stored once and comes back as one
shared tensor. Anything else (a whole module, an optimizer object, a function) is refused with
the key path that holds it: pickling it would make loading run code.

Writes are atomic (``_files.atomic_write``): the file at the path is the old one or the new one,
never half of one, even after kill -9; a symbolic link is written through and the permissions of
the file replaced are kept.

``load`` refuses a PyTorch ``.pt``/``.pth`` file (a zip archive or a pickle) with an error that
names ``python -m tinygrad_mnist convert IN OUT.safetensors``, which converts it once through
``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import dtypes
from ._files import atomic_write
from .backend import Device, to_device, to_numpy
from .tensor import Tensor, _is_ndarray

__all__ = ["save", "load", "load_metadata"]

STRUCTURE_KEY = "tinygrad_mnist.structure"
_FORMAT = 1
_SUPPORTED = ", ".join(d.name for d in dtypes._ALL)
_SAVE_OPTIONS = ("pickle_module", "pickle_protocol", "_use_new_zipfile_serialization",
                 "_disable_byteorder_record")
_PICKLE_LOAD_ARGS = ("encoding", "errors", "fix_imports")


def _import_safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError("checkpoints are safetensors files, and the safetensors package is not "
                          "installed: pip install safetensors") from exc
    return safetensors


def _where(path):
    """A key path as Python would index it: ``obj['optimizer_state_dict']['state'][0]``."""
    return "obj" + "".join(f"[{k!r}]" for k in path)


def _host_array(value, path):
    array = value.array if isinstance(value, Tensor) else value
    try:
        dtypes.from_numpy_dtype(array.dtype)
    except TypeError:
        raise TypeError(f"save: {_where(path)} has dtype {array.dtype}, which tinygrad_mnist does not "
                        f"support ({_SUPPORTED})") from None
    return np.asarray(to_numpy(array), order="C")  # safetensors reads the raw buffer, in C order


# ---------------------------------------------------------------------- structure <-> JSON
class _Encoder:
    """Turns a checkpoint object into JSON-able data, collecting its tensors by flattened name."""

    def __init__(self):
        self.arrays = OrderedDict()  # name -> host array
        self.names = {}  # id(tensor or array) -> name, so a shared tensor is stored once
        self.keep = []  # the objects behind those ids stay alive while saving

    def tensor_name(self, value, path):
        if id(value) in self.names:
            return self.names[id(value)]
        base = ".".join(str(k) for k in path) or "tensor"
        name, n = base, 1
        while name in self.arrays:
            n += 1
            name = f"{base}#{n}"
        self.arrays[name] = _host_array(value, path)
        self.names[id(value)] = name
        self.keep.append(value)
        return name

    def encode(self, value, path=()):
        if isinstance(value, Tensor):
            node = {"$tensor": self.tensor_name(value, path)}
            if value.requires_grad:
                node["requires_grad"] = True
            return node
        if _is_ndarray(value) and not isinstance(value, np.generic):
            return {"$ndarray": self.tensor_name(value, path)}
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            value = value.item()  # a NumPy scalar: stored as the Python number it equals
        if isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return {"$float": "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"}
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, path + (i,)) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            items = list(value.items())
            for k, _ in items:
                if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                    raise TypeError(f"save: {_where(path)} has a key of type {type(k).__name__} ({k!r}); "
                                    f"keys must be str, int, float, bool, None or tuples of those")
            if all(isinstance(k, str) for k, _ in items):
                body = {k: self.encode(v, path + (k,)) for k, v in items}
            else:
                body = [[self.encode(k, path + ("<key>",)), self.encode(v, path + (k,))] for k, v in items]
            node = {"$dict": body}
            if isinstance(value, OrderedDict):
                node["ordered"] = True
            return node
        raise TypeError(_refusal(value, path))


def _refusal(value, path):
    kind = type(value).__name__
    hint = ""
    if callable(getattr(value, "state_dict", None)):
        hint = (f"; save its state_dict() instead ({kind} objects are rebuilt in code and loaded with "
                f"load_state_dict)")
    elif type(value).__module__.split(".")[0] == "torch":
        hint = "; convert torch tensors first (tinygrad_mnist.interop.from_torch_state_dict)"
    return (f"save: {_where(path) if path else 'the object'} is a {kind}, which a checkpoint cannot hold: "
            f"tensors, NumPy arrays, dicts, lists, tuples, str, int, float, bool and None are stored, and "
            f"nothing is pickled{hint}")


def _decode(node, tensors, where):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, tensors, where) for v in node]
    if isinstance(node, dict) and len(node) >= 1:
        if "$tensor" in node:
            t = tensors(node["$tensor"], "tensor")
            if node.get("requires_grad"):
                t.requires_grad_(True)
            return t
        if "$ndarray" in node:
            return tensors(node["$ndarray"], "ndarray")
        if "$float" in node and node["$float"] in ("nan", "inf", "-inf"):
            return float(node["$float"])
        if "$tuple" in node and isinstance(node["$tuple"], list):
            return tuple(_decode(v, tensors, where) for v in node["$tuple"])
        if "$dict" in node:
            body = node["$dict"]
            out = OrderedDict() if node.get("ordered") else {}
            if isinstance(body, dict):
                for k, v in body.items():
                    out[k] = _decode(v, tensors, where)
            elif isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 for p in body):
                for k, v in body:
                    out[_decode(k, tensors, where)] = _decode(v, tensors, where)
            else:
                raise ValueError(f"{where}: its {STRUCTURE_KEY} record is damaged (a dict entry is malformed)")
            return out
    raise ValueError(f"{where}: its {STRUCTURE_KEY} record is damaged (unknown entry {str(node)[:80]})")


def _check_metadata(metadata):
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in metadata.items()):
        raise TypeError(f"save: metadata must be a dict of str -> str, got {metadata!r}")
    if STRUCTURE_KEY in metadata:
        raise ValueError(f"save: the metadata key {STRUCTURE_KEY!r} is reserved for the checkpoint's structure")
    return dict(metadata)


def _serialize(obj, metadata):
    """(safetensors bytes) for ``obj``; everything is checked before anything is written."""
    safetensors = _import_safetensors()
    metadata = _check_metadata(metadata)
    if not isinstance(obj, (Mapping, list, tuple)) and not isinstance(obj, Tensor) and not _is_ndarray(obj):
        raise TypeError(_refusal(obj, ()))
    encoder = _Encoder()
    root = encoder.encode(obj)
    metadata[STRUCTURE_KEY] = json.dumps({"format": _FORMAT, "root": root}, ensure_ascii=False,
                                         separators=(",", ":"), allow_nan=False)
    arrays = encoder.arrays
    return safetensors.numpy.save(dict(arrays), metadata=metadata or None)


def save(obj, f, metadata=None, **torch_options):
    """Write ``obj`` (a state_dict, or a checkpoint dict of them) to ``f`` as safetensors.

    ``f`` is a path (str or os.PathLike) or a binary file object (``io.BytesIO``). Writing to a
    path is atomic. ``metadata`` is an optional dict str -> str stored in the header (read back
    with :func:`load_metadata`). Tensors on the GPU are copied to the host. PyTorch's
    ``pickle_module``, ``pickle_protocol`` and ``_use_new_zipfile_serialization`` are accepted
    and have no effect: nothing is pickled.
    """
    unknown = sorted(set(torch_options) - set(_SAVE_OPTIONS))
    if unknown:
        raise TypeError(f"save() got an unexpected keyword argument {unknown[0]!r}")
    data = _serialize(obj, metadata)
    if hasattr(f, "write") and not isinstance(f, (str, bytes, os.PathLike)):
        f.write(data)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    with atomic_write(f, "wb") as out:
        out.write(data)


# ---------------------------------------------------------------------- reading
def _pytorch_kind(head, data_or_path):
    """What PyTorch (or pickle) file this is, by its first bytes, or None. Runs nothing."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(data_or_path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return "a zip archive (not a safetensors file)", False
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            return "a TorchScript archive (torch.jit.save)", False
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "a PyTorch checkpoint written by torch.save (a zip archive holding a pickle)", True
        return "a zip archive (not a safetensors file)", False
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        if head[2:15] == b"\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19":  # torch's legacy magic number, pickled
            return "a PyTorch checkpoint in torch.save's legacy format (a pickle)", True
        return "a Python pickle", True
    if head[:6] == b"\x93NUMPY":
        return "a NumPy .npy file (read it with numpy.load)", False
    return None


def _source(f, what):
    """(bytes, name to show) of a path or a binary file object, with the usual file errors."""
    if hasattr(f, "read") and not isinstance(f, (str, bytes, os.PathLike)):
        data = f.read()
        if not isinstance(data, bytes):
            raise TypeError(f"{what}: the file object must be opened in binary mode ('rb')")
        return data, getattr(f, "name", None) or "<file object>"
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{what}: f must be a path or a binary file object, got {type(f).__name__}")
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"{what}: no such checkpoint file", path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"{what}: expected a safetensors file, found a directory", path)
    try:
        with open(path, "rb") as fh:
            return fh.read(), path
    except OSError as exc:
        raise type(exc)(exc.errno, f"{what}: cannot read the checkpoint ({exc.strerror})", path) from None


def _refuse_foreign(data, shown):
    kind = _pytorch_kind(data[:16], io.BytesIO(data))
    if kind is None:
        return
    description, convertible = kind
    message = f"{shown} is {description}, not a safetensors file"
    if convertible:
        stem = os.path.splitext(shown)[0] if not shown.startswith("<") else "checkpoint"
        message += (". tg.load reads safetensors only, because unpickling a file can run any code in it. "
                    f"Convert it once, without running code from it: python -m tinygrad_mnist convert "
                    f"{shown} {stem}.safetensors")
    raise ValueError(message)


_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def _parse(data, shown):
    """(OrderedDict name -> host array, sorted by name; metadata dict) of safetensors bytes, checked."""
    safetensors = _import_safetensors()
    _refuse_foreign(data, shown)
    try:
        entries = safetensors.deserialize(data)  # checks the header, the offsets and the sizes
    except safetensors.SafetensorError as exc:
        raise ValueError(f"{shown}: not a valid safetensors file ({exc})") from exc
    arrays = OrderedDict()
    for name, entry in sorted(entries, key=lambda e: e[0]):
        if entry["dtype"] not in _DTYPES:
            raise TypeError(f"{shown}: tensor {name!r} has dtype {entry['dtype']}, which tinygrad_mnist does not "
                            f"support ({_SUPPORTED})")
        array = np.frombuffer(entry["data"], dtype=_DTYPES[entry["dtype"]]).reshape(tuple(entry["shape"]))
        try:
            dtypes.from_numpy_dtype(array.dtype)
        except TypeError:
            raise TypeError(f"{shown}: tensor {name!r} has dtype {array.dtype}, which tinygrad_mnist does not "
                            f"support ({_SUPPORTED}); save it as float32 (in PyTorch: tensor.float())") from None
        arrays[name] = array
    (n,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8:8 + n].decode("utf-8")).get("__metadata__") or {}
    return arrays, dict(metadata)


def _placement(map_location, device):
    """A function Tensor -> Tensor putting a loaded (host) tensor where the caller asked."""
    if device is not None and map_location is not None and str(device) != str(map_location):
        raise ValueError(f"load: give map_location or device, not both (got {map_location!r} and {device!r})")
    where = map_location if map_location is not None else device
    if where is None:
        return lambda t: t
    if callable(where):
        def call(t):  # PyTorch calls map_location(storage, location); our tensors were saved from 'cpu'
            out = where(t, "cpu")
            if out is None:
                return t
            if not isinstance(out, Tensor):
                raise TypeError(f"load: map_location returned a {type(out).__name__}; expected a Tensor or None")
            return out
        return call
    if isinstance(where, Mapping):  # {'cuda:0': 'cpu'}: what was saved from 'cpu' goes to where['cpu']
        where = where.get("cpu", "cpu")
    try:
        target = Device(where if isinstance(where, (str, Device)) else str(where))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"load: map_location {where!r} is not a device ({exc})") from None
    if target == "cpu":
        return lambda t: t
    return lambda t: Tensor(to_device(t.array, target), requires_grad=t.requires_grad)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, device=None,
         **pickle_load_args):
    """Read a file written by :func:`save` (or any safetensors file) back into the same objects.

    A plain safetensors file (a state_dict) comes back as an OrderedDict name -> Tensor, in the
    order of the names; a checkpoint dict with its nesting and types. Tensors are private,
    writable copies, on the CPU unless ``map_location`` (or ``device``) says otherwise:
    ``'cpu'``, ``'cuda'``, a device, a dict (the entry for ``'cpu'``, where everything here was
    saved from, is used) or a function ``(tensor, 'cpu') -> tensor or None``.
    ``weights_only`` (True, False or None) and ``mmap`` are accepted as PyTorch accepts them and
    change nothing: these files hold data only, so loading never runs code. A PyTorch
    ``.pt``/``.pth`` file or any pickle is refused with a ValueError naming the ``convert``
    command; a damaged file raises ValueError naming it, a missing one FileNotFoundError, a
    tensor of a dtype the engine lacks (float16, bfloat16) TypeError.
    """
    if pickle_module is not None:
        raise ValueError("load: pickle_module is not used: tg.load reads safetensors files and never unpickles")
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    if mmap not in (None, True, False):
        raise TypeError(f"load: mmap must be True, False or None, got {mmap!r}")
    unknown = sorted(set(pickle_load_args) - set(_PICKLE_LOAD_ARGS))
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument {unknown[0]!r}")
    place = _placement(map_location, device)
    data, shown = _source(f, "load")
    arrays, metadata = _parse(data, shown)
    del data
    made = {}

    def tensor(name, kind):
        if name not in arrays:
            raise ValueError(f"{shown}: its {STRUCTURE_KEY} record is damaged (no tensor {name!r} in the file)")
        if (name, kind) not in made:  # one object per stored tensor: shared tensors stay shared
            copy = np.array(arrays[name], copy=True, order="C")  # private and writable
            made[name, kind] = copy if kind == "ndarray" else place(Tensor(copy))
        return made[name, kind]

    if STRUCTURE_KEY not in metadata:
        return OrderedDict((name, tensor(name, "tensor")) for name in arrays)
    try:
        record = json.loads(metadata[STRUCTURE_KEY])
        root = record["root"]
        if record.get("format") != _FORMAT:
            raise ValueError(f"{shown}: written by a newer tinygrad_mnist (structure format "
                             f"{record.get('format')!r}); this one reads format {_FORMAT}")
    except (json.JSONDecodeError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{shown}: its {STRUCTURE_KEY} record is damaged ({exc})") from None
    return _decode(root, tensor, shown)


def load_metadata(f):
    """The str -> str metadata given to :func:`save` ({} when there is none)."""
    data, shown = _source(f, "load_metadata")
    _, metadata = _parse(data, shown)
    metadata.pop(STRUCTURE_KEY, None)
    return metadata
