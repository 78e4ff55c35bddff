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
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where both are inf: judged below
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
                         grad=True, device="cpu", seed=0, second_order=True):
    """Feed identical inputs to ``fn_ours`` (our tensors) and ``fn_torch`` (torch tensors); compare.

    ``inputs`` are NumPy arrays (or numbers). Floating arrays are cast to ``dtype`` and require
    grad in both engines; integer and boolean arrays are passed as constant tensors. Every output
    is compared (shape, dtype, values); then one random upstream gradient per floating output,
    drawn from ``seed``, is backpropagated in both engines and every input gradient is compared.
    With ``second_order`` (the default) the gradient of the gradient too: the first gradients are
    computed with ``create_graph=True``, dotted with a second random vector per input, and that
    scalar is differentiated again (a Hessian-vector product; zero where a gradient is constant).
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
    if second_order:
        _compare_second_order(fn_ours, fn_torch, ours_in, torch_in, upstream, rng, np_dtype, device,
                              torch_device, rtol, atol)
    return ours_out


def _compare_second_order(fn_ours, fn_torch, ours_in, torch_in, upstream, rng, np_dtype, device, torch_device,
                          rtol, atol):
    """d/dx <grad_x(<f(x), u>), v> in both engines, for random u (the upstream used above) and v."""
    import torch

    diff = [k for k, t in enumerate(torch_in) if t.requires_grad]
    if not diff:
        return
    fresh_ours = [tg.tensor(o.detach().array, device=device, requires_grad=o.requires_grad) for o in ours_in]
    fresh_torch = [t.detach().clone().requires_grad_(t.requires_grad) for t in torch_in]
    outs_ours = [o for o in _as_list(fn_ours(*fresh_ours))]
    outs_torch = [t for t in _as_list(fn_torch(*fresh_torch))]
    pairs = [(o, t) for o, t in zip(outs_ours, outs_torch) if t.requires_grad]
    if not pairs:
        return
    ours_x, torch_x = [fresh_ours[k] for k in diff], [fresh_torch[k] for k in diff]
    g_ours = tg.autograd.grad([o for o, _ in pairs], ours_x, [tg.tensor(u, device=device) for u in upstream],
                              create_graph=True, allow_unused=True)
    g_torch = torch.autograd.grad([t for _, t in pairs], torch_x,
                                  [torch.tensor(u, device=torch_device) for u in upstream],
                                  create_graph=True, allow_unused=True)
    vs = [rng.standard_normal(torch_in[k].shape).astype(np_dtype) for k in diff]
    terms_ours = [(g * tg.tensor(v, device=device)).sum() for g, v in zip(g_ours, vs)
                  if g is not None and g.requires_grad]
    terms_torch = [(g * torch.tensor(v, device=torch_device)).sum() for g, v in zip(g_torch, vs)
                   if g is not None and g.requires_grad]
    hv_ours = tg.autograd.grad(sum(terms_ours[1:], terms_ours[0]), ours_x, allow_unused=True) \
        if terms_ours else [None] * len(diff)
    hv_torch = torch.autograd.grad(sum(terms_torch[1:], terms_torch[0]), torch_x, allow_unused=True) \
        if terms_torch else [None] * len(diff)
    for k, got, ref in zip(diff, hv_ours, hv_torch):
        shape = torch_in[k].shape
        ref = ref.detach().cpu().numpy(force=True) if ref is not None else np.zeros(shape, np_dtype)
        got = to_numpy(got.array) if got is not None else np.zeros(tuple(shape), np_dtype)
        _compare(f"second derivative (Hessian-vector product) of input {k}", got, ref, rtol, atol)
