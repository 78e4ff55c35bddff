"""Grad mode: whether ops record the backward graph (``no_grad``, ``enable_grad``, ...).

One flag, ``is_grad_enabled()``. Each context manager sets it on entry and restores the previous
value on exit; all of them also work as function decorators, as in PyTorch.
"""
from __future__ import annotations

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _State:
    enabled = True      # ops record the graph
    inference = False   # inside inference_mode (implies enabled is False)


state = _State()


def is_grad_enabled():
    return state.enabled


class _Mode:
    """Base of the context managers: sets ``state.enabled`` to ``self.mode`` for a block or a call."""

    mode = True

    def __enter__(self):
        self.prev = state.enabled, state.inference
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference = self.prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._clone():
                return func(*args, **kwargs)
        return wrapper

    def _clone(self):
        return self.__class__()


class no_grad(_Mode):
    """Ops inside record no graph: their results have ``requires_grad=False``."""

    mode = False


class enable_grad(_Mode):
    """Record the graph again inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_Mode):
    """``set_grad_enabled(False)``: a call that lasts, or a ``with`` block that restores."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.prev = state.enabled, state.inference
        state.enabled = self.mode

    def __enter__(self):
        return self  # already set by __init__, as PyTorch's

    def _clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_Mode):
    """``no_grad`` for inference code (PyTorch's faster variant; here the two are the same).

    ``inference_mode(False)`` leaves grad mode as it is.
    """

    def __init__(self, mode=True):
        self.inference_on = bool(mode)

    def __enter__(self):
        self.prev = state.enabled, state.inference
        if self.inference_on:
            state.enabled, state.inference = False, True
        return self

    def _clone(self):
        return inference_mode(self.inference_on)


def is_inference_mode_enabled():
    return state.inference
