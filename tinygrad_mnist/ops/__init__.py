"""The differentiable ops, one module per family. Tensor methods call into these."""


def canonical_dim(dim, ndim, op="op"):
    """A dimension index in range [0, ndim), from a possibly negative one (0-d tensors accept 0 and -1)."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim})")
    return dim % size


def canonical_dims(dim, ndim, op="op"):
    """None (all dimensions) or a sorted tuple of distinct non-negative dimensions."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = tuple(sorted({canonical_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"{op}: dim {dims} appears multiple times in the list of dims")
    if ndim == 0:
        return None
    return out
