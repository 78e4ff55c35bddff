"""Image transforms, like ``torchvision.transforms``: ``ToTensor``, ``Normalize``, ``Compose``.

The usual MNIST pipeline ports unchanged::

    from tinygrad_mnist import transforms
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])

Where torchvision hands a PIL image to the first transform, ``tinygrad_mnist.datasets.MNIST``
hands a ``(H, W)`` uint8 NumPy array; ``ToTensor`` takes either (PIL is never imported here).
The arithmetic is the same as torchvision's, in the same dtype and order, so the values agree
bit for bit. Arrays may be NumPy or CuPy: the code uses the array's own module.
"""
from __future__ import annotations

import numpy as np  # host-side only: PIL images and Normalize's constants, never tensor data

from . import backend
from .tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


def _is_pil_image(pic):
    # Duck-typed so that PIL is never imported: a PIL image has .mode and .getbands().
    return hasattr(pic, "getbands") and hasattr(pic, "mode")


class ToTensor:
    """Turn an ``(H, W)`` or ``(H, W, C)`` image into a ``(C, H, W)`` Tensor.

    A uint8 image (and a PIL image of an 8-bit mode) becomes float32 scaled to [0, 1]
    (``x / 255``); any other dtype keeps its values and dtype, as in torchvision. Accepts a NumPy
    or CuPy array, or a PIL image; the result lives where the array did.
    """

    def __call__(self, pic):
        if _is_pil_image(pic):
            arr = np.asarray(pic)
            if arr.dtype == np.bool_:  # mode "1": torchvision scales bilevel images to 0/255
                arr = arr.astype(np.uint8) * 255
        elif isinstance(pic, Tensor) or not hasattr(pic, "ndim") or not hasattr(pic, "dtype"):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        else:
            arr = pic
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        xp = backend.get_array_module(arr)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        chw = arr.transpose(2, 0, 1)
        if chw.dtype == xp.uint8:
            out = chw.astype(xp.float32, order="C")
            out /= 255  # float32 division, as torchvision's img.to(float32).div(255)
        else:
            out = xp.ascontiguousarray(chw)
        return Tensor(out)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """``output[c] = (input[c] - mean[c]) / std[c]`` for each channel ``c`` of a ``(..., C, H, W)``
    Tensor.

    ``mean`` and ``std`` are sequences with one value per channel, or a single value (a float or a
    length-1 sequence) for every channel. The input must be a floating-point Tensor. Returns a new
    Tensor unless ``inplace`` (then the input's array is modified and the input returned).
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        arr = tensor.array
        if arr.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if arr.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). "
                             f"Got tensor.size() = {tuple(arr.shape)}.")
        # the constants are converted and checked on the host, then moved to the data's device
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1)
        channels = arr.shape[-3]
        for label, values in (("mean", mean), ("std", std)):
            if values.size not in (1, channels):
                raise ValueError(
                    f"Normalize: {label} has {values.size} values, but the image has {channels} "
                    f"channels (shape {tuple(arr.shape)}); give 1 or {channels}")
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {arr.dtype}, leading to "
                             f"division by zero (std={self.std}).")
        device = backend.device_of(arr)
        mean = backend.to_device(mean.reshape(-1, 1, 1), device)
        std = backend.to_device(std.reshape(-1, 1, 1), device)
        if self.inplace:  # the engine's in-place ops refuse a tensor that requires grad
            return tensor.sub_(Tensor(mean)).div_(Tensor(std))
        return Tensor((arr - mean) / std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"
