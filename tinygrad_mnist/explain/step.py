"""Run one training step of a tutorial model and gather everything the page shows, as JSON-ready data.

:func:`explain_step` does the step (forward, loss, backward, optimizer step) on a real MNIST batch,
the same step in PyTorch from the same weights, and a finite-difference check, and returns one
dict. Large tensors are summarised (norm, range, histogram over every element) and pictured
from a sample (the first few images and channels), so the page stays small at any batch size.
"""
from __future__ import annotations

import base64
import math
import sys
import time

import numpy as np

import tinygrad_mnist as tg
from tinygrad_mnist import training
from tinygrad_mnist.nn import functional as F
from tinygrad_mnist.specs import get_spec

from . import adapters as A

HIST_BINS = 32
MAX_SAMPLES = 4        # images of the batch pictured per activation / gradient
MAX_CHANNELS = 8       # channels pictured per activation / gradient
MAX_FILTERS = 16       # output channels (or weight rows) pictured per parameter
MAX_MATRIX_ROWS = 16   # rows of a 2-D tensor pictured as a heat map
MAX_MATRIX_COLS = 128  # widest 2-D tensor pictured as a heat map
FD_WEIGHTS = 3         # weights per parameter checked by finite differences
FD_EPS = 1e-6          # float64 central differences


# ------------------------------------------------------------------------------ summaries


def _f(x):
    """A JSON-safe float (None for NaN / Inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


def histogram(a64):
    finite = a64[np.isfinite(a64)]
    if finite.size == 0:
        return {"lo": 0.0, "hi": 0.0, "counts": []}
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, _ = np.histogram(finite, bins=HIST_BINS, range=(lo, hi))
    return {"lo": lo, "hi": hi, "counts": [int(c) for c in counts]}


def picture(a, role):
    """A uint8 picture of a sample of ``a``, or None where it is not an image, filter or small matrix.

    A grid of ``rows`` x ``cols`` cells of ``h`` x ``w`` pixels, each pixel ``lo + q / 255 * (hi - lo)``
    (q the byte). ``role`` is "batch" (dim 0 indexes the batch) or "param" (a weight tensor).
    Flat 784-vectors (the flat models' input, a 784-input Linear layer's weight rows) are 28 x 28.
    """
    a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] == 784:
        a = a.reshape(a.shape[0], 1, 28, 28)
    if a.ndim == 4 and a.shape[2] * a.shape[3] >= 4:
        rows = min(a.shape[0], MAX_SAMPLES if role == "batch" else MAX_FILTERS)
        cols = min(a.shape[1], MAX_CHANNELS)
        s = a[:rows, :cols]
        row_label, col_label = ("sample", "channel") if role == "batch" else ("out channel", "in channel")
        of = f"{row_label}s 0-{rows - 1} of {a.shape[0]}, {col_label}s 0-{cols - 1} of {a.shape[1]}"
    elif a.ndim in (1, 2) and a.shape[-1] <= MAX_MATRIX_COLS and a.size > 1:
        s = a.reshape(1, 1, 1, -1) if a.ndim == 1 else a[None, None, :MAX_MATRIX_ROWS]
        rows = cols = 1
        of = (f"all {a.shape[0]} values" if a.ndim == 1 else
              f"rows 0-{s.shape[2] - 1} of {a.shape[0]}, all {a.shape[1]} columns")
    else:
        return None
    s = s.astype(np.float64)
    finite = s[np.isfinite(s)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    signed = lo < 0 < hi
    if signed:  # a diverging colour map, centred on 0
        lo, hi = -max(-lo, hi), max(-lo, hi)
    if hi == lo:
        hi = lo + 1.0
    q = np.rint(np.clip((np.nan_to_num(s, nan=lo) - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
    return {"rows": rows, "cols": cols, "h": int(s.shape[2]), "w": int(s.shape[3]), "lo": lo, "hi": hi,
            "signed": signed, "of": of,
            "data": base64.b64encode(np.ascontiguousarray(q).tobytes()).decode("ascii")}


def summary(a, role="batch"):
    """Shape, dtype, norm, range, mean and histogram over every element, and a picture of a sample."""
    a = np.asarray(a)
    a64 = a.astype(np.float64)
    finite = a64[np.isfinite(a64)] if a64.size else a64
    out = {"shape": [int(n) for n in a.shape], "dtype": str(a.dtype), "numel": int(a.size),
           "bytes": int(a.nbytes), "norm": _f(np.linalg.norm(a64.ravel())) if a.size else 0.0,
           "min": _f(finite.min()) if finite.size else None, "max": _f(finite.max()) if finite.size else None,
           "mean": _f(finite.mean()) if finite.size else None, "nonfinite": int(a64.size - finite.size),
           "hist": histogram(a64), "first": [_f(v) for v in a64.ravel()[:6]]}
    if a.ndim == 0:
        out["value"] = _f(a64)
    pic = picture(a, role)
    if pic is not None:
        out["picture"] = pic
    return out


# -------------------------------------------------------------------------------- the graph


def walk_graph(root):
    """Nodes reachable from ``root`` in breadth-first order (each once), and their edges."""
    order, seen, queue = [], {}, [root]
    while queue:
        node = queue.pop(0)
        if node in seen:
            continue
        seen[node] = len(order)
        order.append(node)
        queue.extend(child for child, _ in A.next_functions(node) if child is not None and child not in seen)
    return order, seen


def layout(nodes, edges):
    """Rows by longest path from the loss; columns: input 0 under its parent, other inputs to the right."""
    children = {n["id"]: [] for n in nodes}
    parents = {n["id"]: [] for n in nodes}
    for e in edges:
        children[e["src"]].append((e["index"], e["dst"]))
        parents[e["dst"]].append(e["src"])
    depth = {0: 0}
    for n in nodes:  # BFS order + relaxation until stable gives the longest path in a DAG
        depth.setdefault(n["id"], 0)
    changed = True
    while changed:
        changed = False
        for e in edges:
            if depth[e["dst"]] < depth[e["src"]] + 1:
                depth[e["dst"]] = depth[e["src"]] + 1
                changed = True
    col = {0: 0}
    for n in nodes:  # BFS order: a parent is placed before its children
        for index, child in sorted(children[n["id"]]):
            if child not in col:
                col[child] = col[n["id"]] + index
    by_row = {}
    for n in nodes:
        by_row.setdefault(depth[n["id"]], []).append(n["id"])
    for row in by_row.values():  # no two nodes in one cell
        row.sort(key=lambda i: col.get(i, 0))
        last = None
        for i in row:
            c = col.get(i, 0)
            if last is not None and c <= last:
                c = last + 1
            col[i] = last = c
    for n in nodes:
        n["row"], n["col"] = depth[n["id"]], col[n["id"]]


# ----------------------------------------------------------------------------------- the step


def first_batch_indices(n_train, batch_size, seed):
    """The training-set indices of the first batch the engine's shuffled DataLoader draws for ``seed``."""
    from tinygrad_mnist.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(tg.arange(n_train)), batch_size=batch_size, shuffle=True,
                        generator=tg.Generator().manual_seed(seed))
    (idx,) = next(iter(loader))
    return A.host(idx).astype(np.int64)


def _torch_step(name, spec, model, x_np, y_np):
    """The reference PyTorch model from the same weights: its gradients and parameters after one step."""
    import torch

    from reference.models import build_model as build_reference
    tmodel = build_reference(name)
    A.copy_weights_to_torch(model, tmodel)
    tmodel.train()
    engine = training.TorchEngine("cpu")
    opt = engine.optimizer(spec, tmodel.parameters())
    tx = torch.from_numpy(x_np.copy()).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(tmodel(tx), torch.from_numpy(y_np))
    opt.zero_grad()
    loss.backward()
    grads = {k: p.grad.detach().numpy().copy() for k, p in tmodel.named_parameters()}
    opt.step()
    after = {k: p.detach().numpy().copy() for k, p in tmodel.named_parameters()}
    return {"loss": float(loss.item()), "grads": grads, "input_grad": tx.grad.numpy().copy(), "after": after,
            "version": torch.__version__}


def _diff(ours, theirs):
    ours, theirs = ours.astype(np.float64), theirs.astype(np.float64)
    abs_diff = float(np.abs(ours - theirs).max()) if ours.size else 0.0
    scale = float(np.abs(theirs).max()) if theirs.size else 0.0
    return {"max_abs": abs_diff, "max_rel": abs_diff / scale if scale > 0 else 0.0, "scale": scale}


def _fd_check(name, state, x_np, y_np, grads32, rng):
    """Central differences in float64 for a few weights of each parameter, against float64 backprop."""
    from tinygrad_mnist.models import build_model
    m64 = build_model(name, seed=0).double()
    m64.load_state_dict({k: tg.tensor(v.astype(np.float64)) for k, v in state.items()})
    m64.train()
    x64, y = tg.tensor(x_np.astype(np.float64)), tg.tensor(y_np)
    loss = F.cross_entropy(m64(x64), y)
    loss.backward()
    params = dict(m64.named_parameters())
    out = {}
    for key, p in params.items():
        g64 = A.host(p.grad)
        flat = np.abs(g64).ravel()
        picks = [int(flat.argmax())]
        while len(picks) < min(FD_WEIGHTS, flat.size):
            i = int(rng.integers(flat.size))
            if i not in picks:
                picks.append(i)
        checks = []
        for i in picks:
            idx = np.unravel_index(i, g64.shape)
            original = A.get_element(p, idx)
            values = []
            for sign in (1, -1):
                A.set_element(p, idx, original + sign * FD_EPS)
                with tg.no_grad():
                    values.append(F.cross_entropy(m64(x64), y).item())
            A.set_element(p, idx, original)
            numeric = (values[0] - values[1]) / (2 * FD_EPS)
            analytic = float(g64[idx])
            denom = max(abs(numeric), abs(analytic), 1e-12)
            checks.append({"index": [int(j) for j in idx], "numeric": numeric, "analytic64": analytic,
                           "ours32": float(grads32[key][idx]), "rel_err": abs(numeric - analytic) / denom})
        out[key] = checks
    return out


def explain_step(name=None, checkpoint=None, data_dir="data/mnist", batch_size=None, seed=0,
                 download=False, argv=None, fd=True, mnist=None):
    """One training step of model ``name`` (or of ``checkpoint``), gathered for the page.

    ``mnist``: the (x_train, y_train) arrays when the caller has them loaded already; ``argv``: the
    command's words after ``python -m tinygrad_mnist``, shown on the page; ``fd``: run the
    finite-difference check (a few float64 forwards per weight checked).
    """
    engine = training.TinygradEngine("cpu")
    if checkpoint is not None:
        ckpt_name, model = training.load_checkpoint(checkpoint, engine)
        if name is not None and name != ckpt_name:
            raise ValueError(f"--model {name} but {checkpoint} holds a {ckpt_name!r} model")
        name = ckpt_name
    else:
        if name is None:
            raise ValueError("explain: give --model or --checkpoint")
        model = engine.build_model(name, seed)
    spec = get_spec(name)
    batch_size = batch_size or spec.batch_size
    if batch_size <= 0:
        raise ValueError(f"--batch-size must be positive, got {batch_size}")
    x_train, y_train = mnist if mnist is not None else training.load_mnist(data_dir, download=download)[:2]
    indices = first_batch_indices(len(x_train), batch_size, seed)
    x_np = training.preprocess(x_train[indices], spec)
    y_np = y_train[indices].astype(np.int64)

    param_names = {}
    for key, p in model.named_parameters():
        param_names[id(p)] = key
    before = {k: A.host(p) for k, p in model.named_parameters()}
    torch_ref = _torch_step(name, spec, model, x_np, y_np)

    model.train()
    opt = engine.optimizer(spec, model.parameters())
    x = tg.tensor(x_np, requires_grad=True)  # so the graph reaches the input and d loss / d x is shown
    y = tg.tensor(y_np)
    recorder = A.BackwardRecorder()
    t0 = time.perf_counter()
    with A.profiler() as prof:
        with A.capture_outputs() as outputs:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
        root = A.grad_fn(loss)
        order, ids = walk_graph(root)
        saved = {node: A.saved_tensors(node) for node in order}  # before backward frees them
        opt.zero_grad()
        with recorder:
            loss.backward()
    step_ms = (time.perf_counter() - t0) * 1e3
    grads = {k: A.host(p.grad) for k, p in model.named_parameters()}
    input_grad = A.host(x.grad)
    opt.step()
    after = {k: A.host(p) for k, p in model.named_parameters()}

    # ---- nodes and edges
    visits = {}
    edge_grads = {}
    for step_index, (node, grad_in, grads_out) in enumerate(recorder.records):
        visits[node] = (step_index, grad_in)
        for k, g in enumerate(grads_out):
            edge_grads[(node, k)] = g
    step_ms_of = {i: s.ms for i, s in enumerate(recorder.steps)}

    from .docs import doc_for, code_for
    nodes, edges = [], []
    for node in order:
        i = ids[node]
        entry = {"id": i, "name": A.node_name(node), "op": A.op_name(node), "saved": saved[node],
                 "saved_bytes": sum(s["bytes"] for s in saved[node])}
        if A.is_accumulator(node):
            var = A.accumulated_variable(node)
            if var is x:
                entry.update(kind="input", label="input x", value=summary(x_np))
                entry["grad"] = summary(input_grad)
            else:
                key = param_names.get(id(var), "leaf")
                entry.update(kind="param", label=key, param=key, value=summary(before[key], "param"))
                entry["grad"] = summary(grads[key], "param") if key in grads else None
            entry["out_shape"] = [int(n) for n in var.shape] if var is not None else None
            entry["step"], entry["ms"] = None, None
        else:
            value = outputs.get(node)
            entry.update(kind="op", label=A.op_name(node),
                         value=summary(value) if value is not None else None,
                         out_shape=[int(n) for n in value.shape] if value is not None else None)
            if node in visits:
                step_index, grad_in = visits[node]
                entry.update(step=step_index, ms=step_ms_of[step_index], grad=summary(grad_in))
            else:
                entry.update(step=None, ms=None, grad=None)
        entry["doc"] = doc_for(entry["op"])
        entry["code"] = code_for(node)
        nodes.append(entry)
        for k, (child, _) in enumerate(A.next_functions(node)):
            g = edge_grads.get((node, k))
            e = {"id": len(edges), "src": i, "index": k, "dst": None if child is None else ids[child],
                 "grad": None if g is None else summary(g, "param" if child is not None and
                                                         A.is_accumulator(child) and
                                                         A.accumulated_variable(child) is not x else "batch")}
            edges.append(e)
    for n in nodes:  # input shapes: what flows in along each edge (None: an input that needs no gradient)
        n["in_shapes"] = [None if e["dst"] is None else nodes[e["dst"]]["out_shape"]
                          for e in edges if e["src"] == n["id"]]
    # an input that needs no gradient (the labels) gets a small placeholder node of its own
    for e in edges:
        if e["dst"] is None:
            j = len(nodes)
            nodes.append({"id": j, "name": "None", "op": "None", "kind": "none", "label": "no gradient",
                          "saved": [], "saved_bytes": 0, "value": None, "grad": None, "doc": None, "code": None,
                          "out_shape": None, "in_shapes": [], "step": None, "ms": None})
            e["dst"] = j
            e["none"] = True
    layout(nodes, edges)

    params = []
    for key, p in model.named_parameters():
        params.append({
            "name": key, "shape": [int(n) for n in p.shape],
            "grad": summary(grads[key], "param"), "torch_grad_norm": _f(np.linalg.norm(torch_ref["grads"][key].astype(np.float64))),
            "vs_torch": _diff(grads[key], torch_ref["grads"][key]),
            "before": summary(before[key], "param"), "update": summary(after[key] - before[key], "param"),
            "after": summary(after[key], "param"), "after_vs_torch": _diff(after[key], torch_ref["after"][key]),
        })
    fd_checks = _fd_check(name, before, x_np, y_np, grads, np.random.default_rng(seed)) if fd else {}
    for p in params:
        p["fd"] = fd_checks.get(p["name"], [])

    probs = np.exp(A.host(logits).astype(np.float64) - A.host(logits).max(axis=1, keepdims=True))
    predictions = probs.argmax(axis=1)
    loss_after = None
    with tg.no_grad():
        loss_after = float(F.cross_entropy(model(tg.tensor(x_np)), y).item())

    return {
        "format": 1,
        "model": name, "class": type(model).__name__, "spec": {
            "optimizer": spec.optimizer, "optimizer_kwargs": {k: v for k, v in spec.optimizer_kwargs.items()},
            "batch_size": spec.batch_size, "scale": spec.scale, "input_kind": spec.input_kind,
            "seed_file": spec.seed_file},
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "batch_size": int(batch_size), "seed": int(seed), "indices": [int(i) for i in indices],
        "labels": [int(v) for v in y_np], "predictions": [int(v) for v in predictions],
        "command": "python -m tinygrad_mnist " + " ".join(argv) if argv else None,
        "loss": float(loss.item()), "loss_after": loss_after, "torch_loss": torch_ref["loss"],
        "torch_version": torch_ref["version"], "numpy_version": np.__version__,
        "python": sys.version.split()[0], "step_ms": step_ms,
        "input_grad_vs_torch": _diff(input_grad, torch_ref["input_grad"]),
        "nodes": nodes, "edges": edges,
        "trace": [dict(s, node=ids[rec[0]]) for s, rec in zip(A.trace_steps(recorder), recorder.records)],
        "profile": A.profile_rows(prof),
        "params": params, "fd_eps": FD_EPS,
    }
