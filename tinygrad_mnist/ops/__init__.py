"""The reference ops: one module per family, each op a Function with its forward and backward.

Forward computes on arrays (numpy or cupy, ``xp``); backward on Tensors, with the engine's own
differentiable ops, so that a gradient can be differentiated again. Their PyTorch-facing entry
points, with the argument checks, are the Tensor methods (``tensor.py``) and
``nn/functional.py``. ``tinygrad_mnist/fast/`` holds faster routes for some of them.
"""
