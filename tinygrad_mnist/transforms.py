"""Image transforms, like ``torchvision.transforms``.

The usual MNIST pipeline ports unchanged::

    from tinygrad_mnist import transforms
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])

Conversion: ``ToTensor`` (and back, ``ToPILImage``), ``Normalize``, ``Compose``, ``Lambda``.
Geometry, as torchvision's (the same size rules, crop placement and random draws, with PIL doing
the interpolation): ``Resize`` (old name ``Scale``), ``CenterCrop``, ``RandomCrop``, ``Pad``,
``RandomResizedCrop`` (old name ``RandomSizedCrop``), ``RandomHorizontalFlip``,
``RandomVerticalFlip``, ``RandomRotation``, ``Grayscale``.

What the transforms take: a PIL image (what torchvision's datasets and ours other than MNIST
give), a uint8 NumPy array ``(H, W)`` or ``(H, W, C)`` (what ``datasets.MNIST`` gives: it is
turned into the PIL image of the same pixels and back, so the result is the same as for PIL), or
a Tensor ``(..., H, W)`` (crops, flips and pads by indexing, on the tensor's device; resizing and
rotation per channel through PIL on the host, in its 32-bit float mode). Each returns the kind it
was given. Random transforms draw from the engine's global generator (``tg.manual_seed``), in
the order torchvision draws, but from another generator, so a seed gives other crops than in
torchvision (equally reproducible).

``ToTensor`` and ``Normalize`` do the same arithmetic as torchvision's, in the same dtype and
order, so the values agree bit for bit. Arrays may be NumPy or CuPy: the code uses the array's
own module.
"""
from __future__ import annotations

import enum
import math
import numbers
import warnings

import numpy as np  # host-side only: PIL images and Normalize's constants, never tensor data

from . import backend
from .tensor import Tensor

__all__ = ["Compose", "ToTensor", "ToPILImage", "Normalize", "Lambda", "InterpolationMode",
           "Resize", "Scale", "CenterCrop", "RandomCrop", "Pad", "RandomResizedCrop",
           "RandomSizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
           "Grayscale"]


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


class ToPILImage:
    """Turn a Tensor ``(C, H, W)`` / ``(H, W)`` or an ndarray ``(H, W, C)`` / ``(H, W)`` into a PIL
    image, as torchvision does: floats are scaled by 255 and cast to uint8 (unless ``mode`` is
    ``"F"``; values outside [0, 1] are clipped first, where torchvision's cast would wrap); the
    mode follows the channels (1: ``L``, or ``I;16`` / ``I`` / ``F`` by dtype; 2: ``LA``;
    3: ``RGB``; 4: ``RGBA``) unless ``mode`` names another with as many bands."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        Image = _pil()
        if isinstance(pic, Tensor):
            arr = backend.to_numpy(pic.array)
            if arr.ndim == 2:
                arr = arr[None]
            if arr.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
            arr = arr.transpose(1, 2, 0)
        elif hasattr(pic, "ndim") and hasattr(pic, "dtype"):
            arr = backend.to_numpy(pic)
            if arr.ndim == 2:
                arr = arr[:, :, None]
            if arr.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        else:
            raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
        if arr.shape[2] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[2]} channels.")
        if arr.dtype.kind == "f" and self.mode != "F":
            arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8)
        elif arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        arr = np.ascontiguousarray(arr)
        img = Image.fromarray(arr)
        if self.mode is not None and self.mode != img.mode:
            bands = len(img.getbands())
            if arr.dtype != np.uint8 or Image.getmodebands(self.mode) != bands:
                raise ValueError(f"Incorrect mode ({self.mode}) supplied for input type "
                                 f"{arr.dtype} with {bands} channel(s)")
            img = Image.frombytes(self.mode, img.size, arr.tobytes())
        return img

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode})" if self.mode else \
            f"{type(self).__name__}()"


# --------------------------------------------------------------------------------------------
# Geometry: one set of primitives for PIL images, arrays (H, W[, C]) and Tensors (..., H, W)
# --------------------------------------------------------------------------------------------

def _pil():
    from PIL import Image  # imported when a transform needs it: the engine imports without PIL
    return Image


class InterpolationMode(enum.Enum):
    """How ``Resize``, ``RandomResizedCrop`` and ``RandomRotation`` interpolate (PIL's filters)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's filter numbers; PIL's nearest is the exact one (pixel centres), as in torchvision.
_PIL_FILTER = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
               InterpolationMode.LANCZOS: 1, InterpolationMode.BILINEAR: 2,
               InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4,
               InterpolationMode.HAMMING: 5}
_FROM_PIL_FILTER = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS,
                    2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                    4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}


def _interpolation(value, owner):
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) \
            and int(value) in _FROM_PIL_FILTER:  # a PIL constant, as older programs pass
        return _FROM_PIL_FILTER[int(value)]
    if isinstance(value, str):
        try:
            return InterpolationMode(value)
        except ValueError:
            pass
    raise TypeError(f"{owner}: interpolation should be an InterpolationMode (or a PIL filter "
                    f"constant), got {value!r}")


def _is_array(img):
    return hasattr(img, "ndim") and hasattr(img, "shape") and hasattr(img, "dtype") \
        and not isinstance(img, Tensor)


def _check_image(img):
    if _is_pil_image(img):
        return
    if isinstance(img, Tensor):
        if len(img.shape) < 2:
            raise ValueError(f"Tensor image should have at least 2 dimensions (..., H, W), got "
                             f"shape {tuple(img.shape)}")
        return
    if _is_array(img):
        if img.ndim not in (2, 3):
            raise ValueError(f"ndarray image should be (H, W) or (H, W, C), got shape "
                             f"{tuple(img.shape)}")
        return
    raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


def _height_width(img):
    _check_image(img)
    if _is_pil_image(img):
        return img.size[1], img.size[0]
    if isinstance(img, Tensor):
        return tuple(img.shape[-2:])
    return tuple(img.shape[:2])


def _array_and_h_axis(img):
    """The array behind an array or Tensor image, and the index of its height axis."""
    if isinstance(img, Tensor):
        return img.array, img.array.ndim - 2
    return img, 0


def _same_kind(img, array):
    return Tensor(array) if isinstance(img, Tensor) else array


def _bands(img):
    return len(img.getbands())


def _pil_fill(img, fill):
    """A fill for a PIL image: a number is repeated for every band, as torchvision does."""
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number):
        return fill if _bands(img) == 1 else tuple([int(fill)] * _bands(img))
    fill = tuple(fill)
    if len(fill) == 1:
        fill = fill * _bands(img)
    if len(fill) != _bands(img):
        raise ValueError(f"fill has {len(fill)} values but the image has {_bands(img)} bands")
    return fill if _bands(img) > 1 else fill[0]


def _crop(img, top, left, height, width):
    """``height x width`` pixels from (top, left); outside the image, zeros (as PIL crops)."""
    if _is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    a, ha = _array_and_h_axis(img)
    xp = backend.get_array_module(a)
    h, w = a.shape[ha], a.shape[ha + 1]
    lead = (slice(None),) * ha
    if 0 <= top and 0 <= left and top + height <= h and left + width <= w:
        # a copy, never a view: a crop must not write through to the dataset's pixels
        return _same_kind(img, a[lead + (slice(top, top + height),
                                         slice(left, left + width))].copy())
    shape = list(a.shape)
    shape[ha], shape[ha + 1] = height, width
    out = xp.zeros(shape, dtype=a.dtype)
    y0, y1 = max(top, 0), min(top + height, h)
    x0, x1 = max(left, 0), min(left + width, w)
    if y0 < y1 and x0 < x1:
        out[lead + (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))] = \
            a[lead + (slice(y0, y1), slice(x0, x1))]
    return _same_kind(img, out)


def _flip(img, horizontal):
    if _is_pil_image(img):
        Image = _pil()
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT if horizontal
                             else Image.Transpose.FLIP_TOP_BOTTOM)
    a, ha = _array_and_h_axis(img)
    xp = backend.get_array_module(a)
    return _same_kind(img, xp.ascontiguousarray(xp.flip(a, axis=ha + (1 if horizontal else 0))))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _parse_padding(padding):
    """[left, top, right, bottom] from an int or a 1, 2 or 4 element sequence."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return [int(padding)] * 4
    if not isinstance(padding, (tuple, list)) or \
            not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}; give an int or a tuple "
                        "of ints")
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1])] * 2
    if len(padding) == 4:
        return [int(p) for p in padding]
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                     f"{len(padding)} element tuple")


def _pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by [left, top, right, bottom] (see _parse_padding); a negative amount crops."""
    left, top, right, bottom = _parse_padding(padding)
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    if min(left, top, right, bottom) < 0:
        h, w = _height_width(img)
        cl, ct, cr, cb = (max(-p, 0) for p in (left, top, right, bottom))
        img = _crop(img, ct, cl, h - ct - cb, w - cl - cr)
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if not (left or top or right or bottom):
        return img
    if _is_pil_image(img):
        Image = _pil()
        if padding_mode == "constant":
            w, h = img.size
            out = Image.new(img.mode, (w + left + right, h + top + bottom), _pil_fill(img, fill))
            if img.mode == "P":
                out.putpalette(img.getpalette())
            out.paste(img, (left, top))
            return out
        arr = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
        out = Image.fromarray(np.pad(arr, widths, mode=padding_mode))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    a, ha = _array_and_h_axis(img)
    xp = backend.get_array_module(a)
    widths = [(0, 0)] * a.ndim
    widths[ha], widths[ha + 1] = (top, bottom), (left, right)
    if padding_mode != "constant":
        return _same_kind(img, xp.pad(a, widths, mode=padding_mode))
    shape = [n + lo + hi for n, (lo, hi) in zip(a.shape, widths)]
    out = xp.empty(shape, dtype=a.dtype)
    fill = 0 if fill is None else fill
    if isinstance(fill, numbers.Number):
        out[...] = fill
    else:  # one value per channel: the last axis of (H, W, C), the one before H of (..., C, H, W)
        values = xp.asarray(np.asarray(fill, dtype=a.dtype))
        out[...] = values.reshape(-1, 1, 1) if isinstance(img, Tensor) else values
    lead = (slice(None),) * ha
    h, w = a.shape[ha], a.shape[ha + 1]
    out[lead + (slice(top, top + h), slice(left, left + w))] = a
    return _same_kind(img, out)


def _through_pil(img, fn):
    """Apply ``fn`` (a PIL image -> a PIL image) to an array or Tensor image: a uint8 image of
    1, 3 or 4 channels as the PIL image of those pixels, anything else channel by channel in
    PIL's 32-bit float mode ``F``. ``fn(pil, channel)`` gets the channel index, or None."""
    if _is_pil_image(img):
        return fn(img, None)
    Image = _pil()
    if isinstance(img, Tensor):
        a = backend.to_numpy(img.array)
        planes = a.reshape((-1,) + a.shape[-2:])
        out = np.stack([_plane(Image, p, fn, c) for c, p in enumerate(planes)])
        out = out.reshape(a.shape[:-2] + out.shape[-2:])
        out = out.astype(a.dtype) if a.dtype.kind == "f" else out
        return Tensor(backend.to_device(out, img.device))
    a = backend.to_numpy(img)
    if a.dtype == np.uint8 and (a.ndim == 2 or a.shape[2] in (3, 4)):
        out = np.asarray(fn(Image.fromarray(np.ascontiguousarray(a)), None)).copy()
    else:
        chans = a if a.ndim == 3 else a[:, :, None]
        out = np.stack([_plane(Image, chans[:, :, c], fn, c) for c in range(chans.shape[2])],
                       axis=2)
        out = out.astype(a.dtype) if a.dtype.kind == "f" else out
        if a.ndim == 2:
            out = out[:, :, 0]
    return backend.to_device(out, backend.device_of(img))


def _plane(Image, plane, fn, channel):
    """One channel through PIL: uint8 as mode L (exact), anything else as mode F."""
    if plane.dtype == np.uint8:
        return np.asarray(fn(Image.fromarray(np.ascontiguousarray(plane)), channel))
    return np.asarray(fn(Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32)),
                         channel))


def _resize(img, height, width, interpolation):
    if _height_width(img) == (height, width):
        return img
    resample = _PIL_FILTER[interpolation]
    return _through_pil(img, lambda pil, _: pil.resize((width, height), resample))


def _size_pair(size, owner):
    """(h, w) from an int or a sequence of one or two ints, each positive."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    elif not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"{owner}: please provide only two dimensions (h, w) for size, got "
                         f"{size!r}")
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
               for s in size):
        raise ValueError(f"{owner}: size must be positive integers, got {size!r}")
    return int(size[0]), int(size[1])


def _rng():
    return backend.numpy_rng(None)


class Resize:
    """Resize to ``size``, as torchvision does: a pair ``(h, w)`` is the output size; an int (or a
    1-sequence) is the length of the shorter side, the longer one scaled to keep the aspect ratio
    (``int(size * long / short)``), then capped at ``max_size`` with the shorter side scaled down
    in proportion. An image already of that size is returned as it is. PIL interpolates (with
    antialiasing, always: ``antialias`` is accepted for compatibility)."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        if not isinstance(size, (numbers.Integral, tuple, list)) or isinstance(size, bool):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (tuple, list)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(f"Resize: size must be positive integers, got {size!r}")
        if max_size is not None:
            if len(sizes) != 1:
                raise ValueError("max_size should only be passed if size specifies the length of "
                                 "the smaller edge, i.e. size should be an int or a sequence of "
                                 "length 1 in torchscript mode.")
            if max_size <= sizes[0]:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
        self.size = size
        self._sizes = sizes
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation, type(self).__name__)
        self.antialias = antialias

    @staticmethod
    def output_size(height, width, size, max_size=None):
        """The (h, w) that ``size`` (an int, or a 1- or 2-sequence) gives an h x w image."""
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if len(sizes) == 2:
            return sizes[0], sizes[1]
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = sizes[0], int(sizes[0] * long / short)
        if max_size is not None and new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)

    def __call__(self, img):
        h, w = _height_width(img)
        oh, ow = self.output_size(h, w, self._sizes, self.max_size)
        return _resize(img, oh, ow, self.interpolation)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class Scale(Resize):
    """The old name of ``Resize`` (torchvision before 0.12), with its deprecation warning."""

    def __init__(self, *args, **kwargs):
        warnings.warn("The use of the transforms.Scale transform is deprecated, please use "
                      "transforms.Resize instead.", stacklevel=2)
        super().__init__(*args, **kwargs)


class CenterCrop:
    """Crop the centre ``size`` (an int for a square, or ``(h, w)``): the top-left corner at
    ``round((H - h) / 2), round((W - w) / 2)`` (Python's rounding, half to even). A crop larger
    than the image first pads it with zeros, the odd pixel on the right and bottom."""

    def __init__(self, size):
        self.size = _size_pair(size, type(self).__name__)

    def __call__(self, img):
        h, w = _height_width(img)
        ch, cw = self.size
        if ch > h or cw > w:
            img = _pad(img, [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                             (cw - w + 1) // 2 if cw > w else 0,
                             (ch - h + 1) // 2 if ch > h else 0])
            h, w = _height_width(img)
            if (h, w) == (ch, cw):
                return img
        return _crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


def _check_fill_and_mode(owner, fill, padding_mode):
    if not isinstance(fill, (numbers.Number, str, tuple, list)) and fill is not None:
        raise TypeError(f"{owner}: Got inappropriate fill arg {fill!r}")
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"{owner}: Padding mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")


class Pad:
    """Pad every side: ``padding`` an int (all sides), ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` constant (``fill``: a number, or one per
    band), edge, reflect (the edge pixel not repeated) or symmetric (repeated). A negative
    amount crops that side."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        _parse_padding(padding)
        _check_fill_and_mode(type(self).__name__, fill, padding_mode)
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        _check_image(img)
        return _pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop:
    """Crop ``size`` at a random place, as torchvision does: pad by ``padding`` first (if
    given); with ``pad_if_needed``, pad an image narrower (lower) than the crop by the
    difference on both sides; then the top-left corner is drawn uniformly,
    ``i in 0 .. H - h``, ``j in 0 .. W - w``."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size_pair(size, type(self).__name__)
        if padding is not None:
            _parse_padding(padding)
        _check_fill_and_mode(type(self).__name__, fill, padding_mode)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, h, w) of a random crop of ``output_size`` = (h, w)."""
        h, w = _height_width(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        rng = _rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img):
        _check_image(img)
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        h, w = _height_width(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = _pad(img, [tw - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = _pad(img, [0, th - h], self.fill, self.padding_mode)
        return _crop(img, *self.get_params(img, self.size))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop:
    """A random part of the image, resized to ``size``, as torchvision does: up to 10 tries of
    an area fraction drawn from ``scale`` and an aspect ratio (w / h) drawn log-uniformly from
    ``ratio``, the first that fits placed uniformly; after 10 misses, the largest centred crop
    whose ratio is within ``ratio``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = _size_pair(size, type(self).__name__)
        if not isinstance(scale, (tuple, list)) or len(scale) != 2:
            raise TypeError(f"Scale should be a sequence of two numbers, got {scale!r}")
        if not isinstance(ratio, (tuple, list)) or len(ratio) != 2:
            raise TypeError(f"Ratio should be a sequence of two numbers, got {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.scale, self.ratio = scale, ratio
        self.interpolation = _interpolation(interpolation, type(self).__name__)
        self.antialias = antialias

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, h, w) of the random crop (torchvision's procedure and draw order)."""
        height, width = _height_width(img)
        area = height * width
        rng = _rng()
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = int(rng.integers(0, height - h + 1))
                j = int(rng.integers(0, width - w + 1))
                return i, j, h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return _resize(_crop(img, i, j, h, w), *self.size, self.interpolation)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


class RandomSizedCrop(RandomResizedCrop):
    """The old name of ``RandomResizedCrop``, with torchvision's deprecation warning."""

    def __init__(self, *args, **kwargs):
        warnings.warn("The use of the transforms.RandomSizedCrop transform is deprecated, "
                      "please use transforms.RandomResizedCrop instead.", stacklevel=2)
        super().__init__(*args, **kwargs)


class RandomHorizontalFlip:
    """Mirror left to right with probability ``p`` (one uniform draw per call)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        _check_image(img)
        return _flip(img, horizontal=True) if _rng().random() < self.p else img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top to bottom with probability ``p``."""

    def __call__(self, img):
        _check_image(img)
        return _flip(img, horizontal=False) if _rng().random() < self.p else img


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d: ``(-d, d)``), counter-
    clockwise, about ``center`` (pixel (x, y); default the image centre), by PIL's ``rotate``;
    ``expand`` grows the output to hold the whole rotated image; ``fill`` the uncovered pixels."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-degrees, degrees)
        elif not isinstance(degrees, (tuple, list)) or len(degrees) != 2:
            raise ValueError("If degrees is a sequence, it must be of len 2.")
        self.degrees = [float(d) for d in degrees]
        if center is not None and (not isinstance(center, (tuple, list)) or len(center) != 2):
            raise ValueError("If center is a sequence, it must be of len 2.")
        self.interpolation = _interpolation(interpolation, type(self).__name__)
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees):
        return float(_rng().uniform(degrees[0], degrees[1]))

    def __call__(self, img):
        _check_image(img)
        angle = self.get_params(self.degrees)
        resample = _PIL_FILTER[self.interpolation]

        def rotate(pil, channel):
            fill = self.fill
            if channel is not None and not isinstance(fill, numbers.Number) and fill is not None:
                fill = tuple(fill)[channel % len(fill)]
            return pil.rotate(angle, resample=resample, expand=self.expand, center=self.center,
                              fillcolor=_pil_fill(pil, fill))
        return _through_pil(img, rotate)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})")


class Grayscale:
    """To grayscale with ``num_output_channels`` 1 or 3 (three equal channels). A PIL image (and
    a uint8 array) goes through PIL's ``convert("L")`` (ITU-R 601-2 luma, in integers); a Tensor
    ``(..., 3, H, W)`` is ``0.2989 R + 0.587 G + 0.114 B`` in its dtype, as torchvision computes."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"num_output_channels should be either 1 or 3, got "
                             f"{num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        _check_image(img)
        n = self.num_output_channels
        if _is_pil_image(img):
            gray = img.convert("L")
            if n == 1:
                return gray
            return _pil().fromarray(np.dstack([np.asarray(gray)] * 3))
        if isinstance(img, Tensor):
            a = img.array
            xp = backend.get_array_module(a)
            channels = a.shape[-3] if a.ndim >= 3 else 0
            if channels not in (1, 3):
                raise TypeError(f"Input image tensor permitted channel values are 1 or 3, but "
                                f"found {channels} (shape {tuple(a.shape)})")
            if channels == 3:
                r, g, b = a[..., 0, :, :], a[..., 1, :, :], a[..., 2, :, :]
                gray = (0.2989 * r + 0.587 * g + 0.114 * b).astype(a.dtype)[..., None, :, :]
            else:
                gray = a.copy()
            reps = [1] * (a.ndim - 3) + [n, 1, 1]
            return Tensor(xp.ascontiguousarray(xp.tile(gray, reps)))
        if img.ndim == 3 and img.shape[2] not in (1, 3):
            raise TypeError(f"Input image permitted channel values are 1 or 3, but found "
                            f"{img.shape[2]} (shape {tuple(img.shape)})")
        out = _through_pil(img, lambda pil, _: pil.convert("L"))
        if out.ndim == 3:
            out = out[:, :, 0]
        xp = backend.get_array_module(out)
        return xp.ascontiguousarray(xp.stack([out] * 3, axis=2)) if n == 3 else out

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"
