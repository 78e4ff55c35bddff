"""``assert_matches_torch``: run the same computation in both engines, compare everything."""
from __future__ import annotations

import numpy as np

import tinygrad_mnist as tg
from tinygrad_mnist.backend import to_numpy

# (rtol, atol) per dtype. atol is relative to the largest magnitude in the reference, so that
# values near zero, which come out of cancellations, are judged on the scale of the computation.
_TOLERANCES = {np.dtype(np.float64): (1e-10, 1e-10), np.dtype(np.float32): (1e-5, 1e-5)}


def tolerances(dtype):
    """The (rtol, atol) used for ``dtype`` (float64: 1e-10; float32: 1e-5)."""
    return _TOLERANCES[np.dtype(getattr(dtype, "np", dtype))]


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(name, ours, ref, rtol, atol):
    ours = np.asarray(ours)
    ref = np.asarray(ref)
    if ours.shape != ref.shape:
        raise AssertionError(f"{name}: shape {ours.shape} differs from torch's {ref.shape}")
    if ours.dtype != ref.dtype:
        raise AssertionError(f"{name}: dtype {ours.dtype} differs from torch's {ref.dtype}")
    if ours.size == 0:
        return
    if ours.dtype.kind in "biu":
        bad = ours != ref
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise AssertionError(f"{name}: {int(bad.sum())} of {bad.size} elements differ; first at {i}: "
                                 f"ours {ours[i]!r}, torch {ref[i]!r} (shape {ours.shape})")
        return
    finite = np.isfinite(ref)
    scale = max(1.0, float(np.abs(ref[finite]).max())) if finite.any() else 1.0
    err = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    allowed = atol * scale + rtol * np.abs(ref.astype(np.float64))
    same_nonfinite = (~finite) & ((ours == ref) | (np.isnan(ours) & np.isnan(ref)))
    bad = ~((err <= allowed) | same_nonfinite)
    if bad.any():
        excess = np.where(bad, err - allowed, -np.inf)
        excess[~np.isfinite(err) & bad] = np.inf
        i = np.unravel_index(int(np.argmax(excess)), ours.shape)
        raise AssertionError(
            f"{name}: {int(bad.sum())} of {bad.size} elements differ beyond rtol={rtol}, atol={atol}*{scale:.3g}; "
            f"worst at index {tuple(int(k) for k in i)}: ours {ours[i]!r}, torch {ref[i]!r}, "
            f"|diff| {err[i]:.3g} (shape {ours.shape}, dtype {ours.dtype})")


def assert_matches_torch(fn_ours, fn_torch, *inputs, dtype=np.float64, rtol=None, atol=None,
                         grad=True, device="cpu", seed=0):
    """Feed identical inputs to ``fn_ours`` (our tensors) and ``fn_torch`` (torch tensors); compare.

    ``inputs`` are NumPy arrays (or numbers). Floating arrays are cast to ``dtype`` and require
    grad in both engines; integer and boolean arrays are passed as constant tensors. Every output
    is compared (shape, dtype, values); then one random upstream gradient per floating output,
    drawn from ``seed``, is backpropagated in both engines and every input gradient is compared.
    Raises AssertionError naming the output or input, its shape, and the worst element.
    Returns our outputs (a list of tensors).
    """
    import torch

    np_dtype = np.dtype(getattr(dtype, "np", dtype))
    d_rtol, d_atol = tolerances(np_dtype)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    torch_device = "cuda" if tg.device(device).type == "cuda" else "cpu"

    ours_in, torch_in = [], []
    for x in inputs:
        arr = np.asarray(x)
        floating = arr.dtype.kind == "f"
        if floating:
            arr = arr.astype(np_dtype)
        ours_in.append(tg.tensor(arr, device=device, requires_grad=floating and grad))
        torch_in.append(torch.tensor(arr, device=torch_device, requires_grad=floating and grad))

    ours_out = _as_list(fn_ours(*ours_in))
    torch_out = _as_list(fn_torch(*torch_in))
    if len(ours_out) != len(torch_out):
        raise AssertionError(f"ours returned {len(ours_out)} outputs, torch {len(torch_out)}")
    for k, (o, t) in enumerate(zip(ours_out, torch_out)):
        _compare(f"output {k}", to_numpy(o.array), t.detach().cpu().numpy(), rtol, atol)

    if not grad:
        return ours_out
    rng = np.random.default_rng(seed)
    pairs = [(o, t) for o, t in zip(ours_out, torch_out) if t.requires_grad]
    if not pairs:
        return ours_out
    upstream = [rng.standard_normal(t.shape).astype(np_dtype) for _, t in pairs]
    tg.autograd.backward([o for o, _ in pairs], [tg.tensor(u, device=device) for u in upstream])
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(u, device=torch_device) for u in upstream])
    for k, (o, t) in enumerate(zip(ours_in, torch_in)):
        if not t.requires_grad:
            continue
        ref = t.grad.cpu().numpy() if t.grad is not None else np.zeros(t.shape, np_dtype)
        got = to_numpy(o.grad.array) if o.grad is not None else np.zeros(o.shape, np_dtype)
        _compare(f"gradient of input {k}", got, ref, rtol, atol)
    return ours_out
