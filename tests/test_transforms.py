"""The geometric transforms, held to torchvision's documented rules and to PIL itself.

torchvision from PyPI does not import beside torch 2.13, so the geometry is checked against the
rules it documents (written out again here: size rules, crop placement, padding forms) and the
pixels against PIL's own operations on the same image. Arrays and Tensors must give what the
PIL image of the same pixels gives.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.transforms as T
from tinygrad_mnist import backend

Image = pytest.importorskip("PIL.Image")


def pixels(h, w, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def as_np(img):
    if isinstance(img, tg.Tensor):
        return backend.to_numpy(img.array)
    return np.asarray(img)


def chw(a):
    """A Tensor (C, H, W) holding the array image (H, W[, C])."""
    return tg.tensor(np.ascontiguousarray((a if a.ndim == 3 else a[:, :, None]).transpose(2, 0, 1)))


def same_everywhere(transform, a, seed=0):
    """Run ``transform`` on the PIL image, the array and the Tensor of ``a`` from the same seed;
    all three must agree (as arrays, (H, W[, C])). Returns that array."""
    results = []
    for img in (Image.fromarray(a), a, chw(a)):
        tg.manual_seed(seed)
        out = transform(img)
        assert type(out) is type(img) or (Image.isImageType(out) and Image.isImageType(img))
        out = as_np(out)
        if isinstance(img, tg.Tensor):
            out = out.transpose(1, 2, 0)
            out = out[:, :, 0] if a.ndim == 2 else out
        results.append(out)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    return results[0]


# ---------------------------------------------------------------------------------- Resize

def documented_resize(h, w, size, max_size=None):
    """torchvision's rule: an int is the shorter side, the longer scaled by int(size * l / s)."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return tuple(size)
    size = size if isinstance(size, int) else size[0]
    if w <= h:
        new_w, new_h = size, int(size * h / w)
        if max_size is not None and new_h > max_size:
            new_w, new_h = int(max_size * new_w / new_h), max_size
    else:
        new_h, new_w = size, int(size * w / h)
        if max_size is not None and new_w > max_size:
            new_h, new_w = int(max_size * new_h / new_w), max_size
    return new_h, new_w


@given(h=st.integers(1, 40), w=st.integers(1, 40), size=st.integers(1, 40),
       extra=st.one_of(st.none(), st.integers(1, 30)), pair=st.booleans(),
       interp=st.sampled_from(list(T.InterpolationMode)))
def test_resize_sizes_and_pixels_are_torchvisions_and_pils(h, w, size, extra, pair, interp):
    a = pixels(h, w, 3)
    if pair:
        t, want = T.Resize((size, extra or size), interp), (size, extra or size)
    else:
        max_size = None if extra is None else size + extra
        t, want = T.Resize(size, interp, max_size=max_size), documented_resize(h, w, size, max_size)
    out = same_everywhere(t, a)
    assert out.shape[:2] == want
    pil = np.asarray(Image.fromarray(a).resize((want[1], want[0]), T._PIL_FILTER[interp]))
    np.testing.assert_array_equal(out, pil)


def test_resize_to_the_same_size_returns_the_image_and_scale_warns():
    img = Image.fromarray(pixels(20, 30))
    assert T.Resize(20)(img) is img
    with pytest.warns(UserWarning, match="transforms.Scale transform is deprecated, please use "
                                         "transforms.Resize instead"):
        scale = T.Scale(10)
    assert scale(img).size == (15, 10) and isinstance(scale, T.Resize)
    assert T.Resize(10, interpolation=Image.BICUBIC).interpolation is T.InterpolationMode.BICUBIC
    assert repr(T.Resize(32)) == "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"


@pytest.mark.parametrize("args, kwargs, error, words", [
    (("32",), {}, TypeError, "Size should be int or sequence"),
    (((1, 2, 3),), {}, ValueError, "should have 1 or 2 values"),
    (((8, 8),), dict(max_size=10), ValueError, "max_size should only be passed"),
    ((8,), dict(max_size=8), ValueError, "must be strictly greater"),
    ((0,), {}, ValueError, "size must be positive"),
    ((8,), dict(interpolation="cubic-ish"), TypeError, "interpolation should be"),
])
def test_resize_argument_errors(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        T.Resize(*args, **kwargs)


# ------------------------------------------------------------------------------ CenterCrop

def documented_center_crop(a, ch, cw):
    """torchvision's rule: pad with zeros to the crop (odd pixel right/bottom), then the corner
    at round((H - h) / 2), round((W - w) / 2)."""
    h, w = a.shape[:2]
    pt, pl = ((ch - h) // 2 if ch > h else 0), ((cw - w) // 2 if cw > w else 0)
    big = np.zeros((max(h, ch), max(w, cw)) + a.shape[2:], a.dtype)
    big[pt:pt + h, pl:pl + w] = a
    h, w = big.shape[:2]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return big[top:top + ch, left:left + cw]


@given(h=st.integers(1, 12), w=st.integers(1, 12), ch=st.integers(1, 15), cw=st.integers(1, 15))
def test_center_crop_is_torchvisions_rule(h, w, ch, cw):
    a = pixels(h, w)
    np.testing.assert_array_equal(same_everywhere(T.CenterCrop((ch, cw)), a),
                                  documented_center_crop(a, ch, cw))
    if ch <= h and cw <= w:  # and PIL's crop box
        top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
        box = np.asarray(Image.fromarray(a).crop((left, top, left + cw, top + ch)))
        np.testing.assert_array_equal(as_np(T.CenterCrop((ch, cw))(Image.fromarray(a))), box)


def test_crops_are_copies_not_views():
    a = pixels(6, 6)
    out = T.CenterCrop(6)(a)
    out[...] = 0
    assert a.any()


# ------------------------------------------------------------------------------------ Pad

@given(pad=st.one_of(st.integers(0, 5), st.lists(st.integers(0, 5), min_size=1, max_size=1),
                     st.lists(st.integers(0, 5), min_size=2, max_size=2),
                     st.lists(st.integers(-2, 5), min_size=4, max_size=4)),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]),
       channels=st.sampled_from([None, 3]), fill=st.integers(0, 255))
def test_pad_forms_and_modes_are_numpys(pad, mode, channels, fill):
    a = pixels(5, 7, channels)
    if isinstance(pad, int):
        l = t = r = b = pad
    elif len(pad) == 1:
        l = t = r = b = pad[0]
    elif len(pad) == 2:
        (l, t), (r, b) = pad, pad
    else:
        l, t, r, b = pad
    cropped = a[max(-t, 0):a.shape[0] - max(-b, 0), max(-l, 0):a.shape[1] - max(-r, 0)]
    widths = [(max(t, 0), max(b, 0)), (max(l, 0), max(r, 0))] + [(0, 0)] * (a.ndim - 2)
    kwargs = dict(constant_values=fill) if mode == "constant" else {}
    want = np.pad(cropped, widths, mode=mode, **kwargs)
    np.testing.assert_array_equal(same_everywhere(T.Pad(pad, fill, mode), a), want)


def test_pad_fill_per_band_and_errors():
    a = pixels(2, 2, 3)
    out = as_np(T.Pad(1, fill=(10, 20, 30))(Image.fromarray(a)))
    assert out[0, 0].tolist() == [10, 20, 30] and np.array_equal(out[1:3, 1:3], a)
    np.testing.assert_array_equal(as_np(T.Pad(1, fill=(10, 20, 30))(a)), out)
    np.testing.assert_array_equal(as_np(T.Pad(1, fill=(10, 20, 30))(chw(a))).transpose(1, 2, 0), out)
    # an int fill on an RGB image fills every band, as torchvision does
    assert as_np(T.Pad(1, fill=7)(Image.fromarray(a)))[0, 0].tolist() == [7, 7, 7]
    with pytest.raises(ValueError, match="not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="inappropriate padding"):
        T.Pad(1.5)


# ------------------------------------------------------------------------------ RandomCrop


def test_random_crop_places_uniformly_inside_the_padded_image():
    a = pixels(6, 6)
    padded = np.pad(a, 2)
    seen = set()
    for seed in range(200):
        out = same_everywhere(T.RandomCrop(6, padding=2), a, seed=seed)
        hits = [(i, j) for i in range(5) for j in range(5)
                if np.array_equal(padded[i:i + 6, j:j + 6], out)]
        assert hits, "the crop is not a window of the padded image"
        seen.update(hits)
    assert seen == {(i, j) for i in range(5) for j in range(5)}  # every corner 0..4 reached
    tg.manual_seed(3)
    first = T.RandomCrop(4)(a)
    tg.manual_seed(3)
    assert np.array_equal(T.RandomCrop(4)(a), first)  # the engine's seed fixes the crop


def test_random_crop_pad_if_needed_and_errors():
    a = pixels(3, 5)
    out = same_everywhere(T.RandomCrop((4, 7), pad_if_needed=True, padding_mode="edge"), a)
    assert out.shape == (4, 7)
    with pytest.raises(ValueError, match=r"Required crop size \(4, 7\) is larger than input "
                                         r"image size \(3, 5\)"):
        T.RandomCrop((4, 7))(a)
    assert np.array_equal(T.RandomCrop((3, 5))(a), a)


# ----------------------------------------------------------------------- RandomResizedCrop

@given(h=st.integers(1, 60), w=st.integers(1, 60), seed=st.integers(0, 10**6),
       lo=st.floats(0.01, 1.0), r0=st.floats(0.2, 1.0), r1=st.floats(1.0, 5.0))
def test_random_resized_crop_params_follow_torchvisions_procedure(h, w, seed, lo, r0, r1):
    img = Image.new("L", (w, h))
    tg.manual_seed(seed)
    i, j, ch, cw = T.RandomResizedCrop.get_params(img, (lo, 1.0), (r0, r1))
    assert 0 <= i and 0 <= j and 0 < ch and 0 < cw and i + ch <= h and j + cw <= w
    # replay the draws: either one of the 10 tries fit (area fraction in scale, ratio in range,
    # both up to the rounding to whole pixels), or it is the documented centred fallback
    tg.manual_seed(seed)
    rng = backend.numpy_rng(None)
    for _ in range(10):
        area = h * w * rng.uniform(lo, 1.0)
        ratio = math.exp(rng.uniform(math.log(r0), math.log(r1)))
        tw, th = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
        if 0 < tw <= w and 0 < th <= h:
            assert (ch, cw) == (th, tw)
            return
    if w / h < r0:
        want = (int(round(w / r0)), w)
    elif w / h > r1:
        want = (h, int(round(h * r1)))
    else:
        want = (h, w)
    assert (ch, cw) == want and (i, j) == ((h - want[0]) // 2, (w - want[1]) // 2)


def test_random_resized_crop_is_crop_then_resize_and_the_old_name_warns():
    a = pixels(20, 10, 3)
    tg.manual_seed(7)
    i, j, h, w = T.RandomResizedCrop.get_params(a, (0.08, 1.0), (3 / 4, 4 / 3))
    want = np.asarray(Image.fromarray(a).crop((j, i, j + w, i + h)).resize((8, 8), Image.BILINEAR))
    np.testing.assert_array_equal(same_everywhere(T.RandomResizedCrop(8), a, seed=7), want)
    # impossible tries (whole area, square, on a 1:2 image): the centred fallback
    out = same_everywhere(T.RandomResizedCrop(5, scale=(1, 1), ratio=(1, 1)), a)
    np.testing.assert_array_equal(out, np.asarray(Image.fromarray(a[5:15]).resize((5, 5), Image.BILINEAR)))
    with pytest.warns(UserWarning, match="RandomSizedCrop transform is deprecated"):
        assert isinstance(T.RandomSizedCrop(8), T.RandomResizedCrop)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomResizedCrop(8, scale=(1.0, 0.5))


# ------------------------------------------------------------------- flips, rotation, gray

def test_flips():
    a = pixels(4, 5, 3)
    np.testing.assert_array_equal(same_everywhere(T.RandomHorizontalFlip(p=1.0), a), a[:, ::-1])
    np.testing.assert_array_equal(same_everywhere(T.RandomVerticalFlip(p=1.0), a), a[::-1])
    np.testing.assert_array_equal(same_everywhere(T.RandomHorizontalFlip(p=0.0), a), a)
    flips = 0
    for seed in range(100):
        tg.manual_seed(seed)
        flips += not np.array_equal(T.RandomHorizontalFlip()(a), a)
    assert 25 < flips < 75  # p=0.5 over these 100 seeds


@pytest.mark.parametrize("expand", [False, True])
def test_rotation_is_pils_rotate(expand):
    a = pixels(9, 13)
    t = T.RandomRotation((30, 30), expand=expand, fill=5)
    want = np.asarray(Image.fromarray(a).rotate(30, resample=Image.NEAREST, expand=expand, fillcolor=5))
    np.testing.assert_array_equal(same_everywhere(t, a), want)
    # a float Tensor goes through PIL's float mode: nearest keeps the values exactly
    out = t(tg.tensor(a[None].astype(np.float32)))
    assert out.dtype == tg.float32
    np.testing.assert_array_equal(as_np(out)[0], want.astype(np.float32))
    tg.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 10.0]) for _ in range(50)]
    assert all(-10 <= x <= 10 for x in angles) and len(set(angles)) == 50
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)


def test_grayscale():
    a = pixels(6, 7, 3)
    gray = np.asarray(Image.fromarray(a).convert("L"))
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(Image.fromarray(a))), gray)
    np.testing.assert_array_equal(T.Grayscale()(a), gray)
    np.testing.assert_array_equal(T.Grayscale(3)(a), np.dstack([gray] * 3))
    assert T.Grayscale(3)(Image.fromarray(a)).mode == "RGB"
    x = a.transpose(2, 0, 1).astype(np.float32) / 255
    out = as_np(T.Grayscale(3)(tg.tensor(x)))
    want = (0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2]).astype(np.float32)
    assert out.shape == (3, 6, 7)
    np.testing.assert_allclose(out, np.stack([want] * 3), rtol=1e-6)
    with pytest.raises(TypeError, match="permitted channel values are 1 or 3"):
        T.Grayscale()(tg.zeros(2, 4, 4))


# ---------------------------------------------------------------- ToPILImage, pipelines

def test_to_pil_image_modes_and_round_trip():
    a = pixels(5, 6, 3)
    t = T.ToTensor()(a)
    img = T.ToPILImage()(t)
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), a)  # x / 255 * 255 truncates back
    assert T.ToPILImage()(pixels(5, 6)).mode == "L"
    assert T.ToPILImage()(np.zeros((4, 4), np.float32)).mode == "L"
    assert T.ToPILImage(mode="F")(np.zeros((4, 4), np.float32)).mode == "F"
    assert T.ToPILImage()(pixels(5, 6, 4)).mode == "RGBA"
    assert T.ToPILImage(mode="YCbCr")(a).mode == "YCbCr"
    with pytest.raises(ValueError, match=r"Incorrect mode \(RGBA\)"):
        T.ToPILImage(mode="RGBA")(a)
    with pytest.raises(ValueError, match="> 4 channels"):
        T.ToPILImage()(np.zeros((2, 2, 5), np.uint8))


def test_a_torchvision_style_mnist_pipeline_runs_on_mnist_arrays():
    tg.manual_seed(0)
    pipeline = T.Compose([T.RandomRotation(10), T.RandomCrop(28, padding=2), T.Resize(32),
                          T.CenterCrop(30), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    out = pipeline(pixels(28, 28))
    assert isinstance(out, tg.Tensor) and out.shape == (1, 30, 30) and out.dtype == tg.float32


def test_geometry_on_tensors_keeps_the_device(device):
    x = tg.tensor(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5), device=device)
    host = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for t, want in [(T.RandomHorizontalFlip(1.0), host[..., ::-1]),
                    (T.CenterCrop(2), host[..., 1:3, 2:4]),
                    (T.Pad(1, fill=-1), np.pad(host, [(0, 0), (0, 0), (1, 1), (1, 1)],
                                               constant_values=-1)),
                    (T.Resize((4, 5)), host)]:
        out = t(x)
        assert str(out.device) == str(x.device)
        np.testing.assert_array_equal(as_np(out), want)
    assert T.Resize((8, 10))(x).shape == (2, 3, 8, 10)
