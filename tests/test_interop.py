"""Weights between our modules and real PyTorch modules; safetensors checkpoints both ways.

Every failure case checks that nothing changed: the target model keeps its weights, and a
failed save leaves no file (and no temporary file) behind.
"""
import json
import os
import re
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import tinygrad_mnist as tg
from tinygrad_mnist import interop, nn
from tinygrad_mnist.backend import to_numpy

TORCH_SEED = 0


# ---------------------------------------------------------------------- models, the same in both engines
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc1 = nn.Linear(4 * 6 * 6, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x).relu().flatten(1)
        return self.fc2(self.fc1(x).relu())


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.fc1 = torch.nn.Linear(4 * 6 * 6, 16)
        self.fc2 = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x)).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


def mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def torch_mlp(seed=TORCH_SEED):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))


def torch_net(seed=TORCH_SEED):
    torch.manual_seed(seed)
    return TorchNet()


def ours_np(module):
    return {k: to_numpy(v.array).copy() for k, v in module.state_dict().items()}


def torch_np(module):
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def assert_same_weights(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir())


# ---------------------------------------------------------------------- torch <-> ours
@pytest.mark.parametrize("ours_factory,torch_factory", [(mlp, torch_mlp), (Net, torch_net)], ids=["mlp", "net"])
def test_copy_weights_from_torch_and_back(ours_factory, torch_factory):
    ours, theirs = ours_factory(), torch_factory()
    result = interop.load_torch_state_dict(ours, theirs)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    assert_same_weights(ours_np(ours), torch_np(theirs))
    # and back, into a differently initialised torch model
    other = torch_factory(seed=TORCH_SEED + 1)
    first = next(iter(ours.state_dict()))
    assert not np.array_equal(torch_np(other)[first], ours_np(ours)[first])
    interop.copy_to_torch(ours, other)
    assert_same_weights(torch_np(other), ours_np(ours))
    # the copies are independent: changing one engine's weights leaves the other's
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(1.0)
    assert not np.array_equal(ours_np(ours)[first], torch_np(theirs)[first])


@pytest.mark.parametrize("ours_factory,torch_factory,shape", [(mlp, torch_mlp, (5, 8)), (Net, torch_net, (3, 1, 8, 8))],
                         ids=["mlp", "net"])
def test_outputs_equal_after_copy(ours_factory, torch_factory, shape):
    ours, theirs = ours_factory(), torch_factory()
    interop.load_torch_state_dict(ours, theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = ours(tg.tensor(x)).detach().numpy()
    ref = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    # the reverse direction gives the same outputs too
    ours2 = ours_factory()
    interop.copy_to_torch(ours2, theirs)
    np.testing.assert_allclose(ours2(tg.tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def _bad_state_dicts(good):
    """(description, state_dict, message regex) for each way a state_dict can fail to fit."""
    renamed = OrderedDict((("0.weigth" if k == "0.weight" else k), v) for k, v in good.items())
    missing = OrderedDict((k, v) for k, v in good.items() if k != "2.bias")
    extra = OrderedDict(good, **{"3.weight": good["2.weight"]})
    reshaped = OrderedDict((k, v.reshape(-1) if k == "2.weight" else v) for k, v in good.items())
    return [
        ("wrong key", renamed, r'Missing key\(s\) in state_dict: "0.weight"(.|\n)*Unexpected key\(s\) in state_dict: "0.weigth"'),
        ("missing key", missing, r'Missing key\(s\) in state_dict: "2.bias"'),
        ("unexpected key", extra, r'Unexpected key\(s\) in state_dict: "3.weight"'),
        ("wrong shape", reshaped, r"size mismatch for 2.weight: copying a param with shape \(64,\) from checkpoint, "
                                  r"the shape in current model is \(4, 16\)"),
    ]


@pytest.mark.parametrize("case", range(4), ids=["wrong-key", "missing-key", "unexpected-key", "wrong-shape"])
def test_load_torch_state_dict_checks_everything_before_changing_anything(case):
    ours = mlp()
    before = ours_np(ours)
    source = torch_mlp().state_dict()
    _, bad, message = _bad_state_dicts(source)[case]
    with pytest.raises(RuntimeError, match=message):
        interop.load_torch_state_dict(ours, bad)
    assert_same_weights(ours_np(ours), before)  # untouched, including the keys that did fit


@pytest.mark.parametrize("case", range(4), ids=["wrong-key", "missing-key", "unexpected-key", "wrong-shape"])
def test_copy_to_torch_checks_everything_before_changing_anything(case):
    theirs = torch_mlp()
    before = torch_np(theirs)
    _, bad, message = _bad_state_dicts(mlp().state_dict())[case]
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Sequential:\n\t(.|\n)*" + message):
        interop.copy_to_torch(bad, theirs)
    assert_same_weights(torch_np(theirs), before)  # torch's own load_state_dict would have copied the rest


def test_non_strict_copies_skip_missing_and_unexpected_keys_but_not_shape_errors():
    ours, theirs = mlp(), torch_mlp()
    partial = OrderedDict((k, v) for k, v in theirs.state_dict().items() if k.startswith("0."))
    partial["extra"] = torch.zeros(3)
    result = interop.load_torch_state_dict(ours, partial, strict=False)
    assert list(result.missing_keys) == ["2.weight", "2.bias"] and list(result.unexpected_keys) == ["extra"]
    np.testing.assert_array_equal(ours_np(ours)["0.weight"], torch_np(theirs)["0.weight"])
    bad = {"0.weight": tg.zeros(3, 3)}
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        interop.copy_to_torch(bad, theirs, strict=False)
    interop.copy_to_torch({"2.bias": tg.ones(4)}, theirs, strict=False)
    np.testing.assert_array_equal(theirs[2].bias.detach().numpy(), np.ones(4, np.float32))


def test_torch_state_dict_conversions_keep_dtypes_and_copy():
    ours = OrderedDict([("f32", tg.tensor([[1.5, 2.0]])), ("f64", tg.tensor([1.0], dtype=tg.float64)),
                        ("i64", tg.tensor([1, 2, 3])), ("i32", tg.tensor([4], dtype=tg.int32)),
                        ("u8", tg.tensor([255], dtype=tg.uint8)), ("b", tg.tensor([True, False])),
                        ("scalar", tg.tensor(3.0)), ("view", tg.tensor(np.arange(6.0).reshape(2, 3)).T)])
    theirs = interop.to_torch_state_dict(ours)
    assert [str(v.dtype) for v in theirs.values()] == ["torch.float32", "torch.float64", "torch.int64", "torch.int32",
                                                      "torch.uint8", "torch.bool", "torch.float32", "torch.float64"]
    back = interop.from_torch_state_dict(theirs)
    for k in ours:
        assert back[k].dtype == ours[k].dtype and back[k].shape == ours[k].shape
        np.testing.assert_array_equal(back[k].numpy(), to_numpy(ours[k].array))
    theirs["f32"].add_(1)
    assert ours["f32"].numpy()[0, 0] == 1.5 and back["f32"].numpy()[0, 0] == 1.5
    with pytest.raises(TypeError, match=r"'h' has dtype torch.float16, which tinygrad_mnist does not support"):
        interop.from_torch_state_dict({"h": torch.zeros(2, dtype=torch.float16)})
    with pytest.raises(TypeError, match="the value of 'x' is a list, not a torch.Tensor"):
        interop.from_torch_state_dict({"x": [1.0]})
    with pytest.raises(TypeError, match="the value of 'x' is a list, not a Tensor"):
        interop.to_torch_state_dict({"x": [1.0]})


# ---------------------------------------------------------------------- safetensors: save/load
def _sample_state():
    rng = np.random.default_rng(1)
    return OrderedDict([
        ("layer.weight", tg.tensor(rng.standard_normal((3, 4)).astype(np.float32))),
        ("layer.bias", tg.tensor(rng.standard_normal(4), dtype=tg.float64)),
        ("steps", tg.tensor(7)), ("ids", tg.tensor([1, 2], dtype=tg.int32)), ("pix", tg.tensor([0, 255], dtype=tg.uint8)),
        ("mask", tg.tensor([True, False, True])), ("scalar", tg.tensor(2.5)),
        ("transposed", tg.tensor(np.arange(12.0).reshape(3, 4)).T),  # not contiguous
        ("empty", tg.zeros(0, 3)),
    ])


def test_save_load_round_trip(tmp_path):
    state = _sample_state()
    path = tmp_path / "model.safetensors"
    interop.save(state, path, metadata={"epoch": "3", "note": "ünïcode"})
    assert leftovers(tmp_path) == ["model.safetensors"]
    loaded = interop.load(path)
    assert isinstance(loaded, OrderedDict) and sorted(loaded) == sorted(state)
    for k, v in state.items():
        got = loaded[k]
        assert isinstance(got, tg.Tensor) and got.dtype == v.dtype and got.shape == v.shape and got.device == "cpu"
        np.testing.assert_array_equal(got.numpy(), to_numpy(v.array))
        assert got.array.flags.writeable and got.array.flags.c_contiguous and not got.requires_grad
    assert interop.load_metadata(path) == {"epoch": "3", "note": "ünïcode"}
    interop.save({"a": tg.ones(2)}, str(path))  # overwrite, str path
    assert sorted(interop.load(str(path))) == ["a"] and interop.load_metadata(path) == {}


def test_saved_file_is_a_json_header_and_raw_data_never_pickle(tmp_path):
    path = tmp_path / "m.safetensors"
    interop.save(_sample_state(), path)
    raw = path.read_bytes()
    assert raw[:1] != b"\x80" and raw[:2] != b"PK"  # no pickle protocol opcode, not a zip archive
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    assert header["layer.weight"] == {"dtype": "F32", "shape": [3, 4], "data_offsets": header["layer.weight"]["data_offsets"]}
    assert header["mask"]["dtype"] == "BOOL" and header["steps"]["dtype"] == "I64"
    start, end = header["transposed"]["data_offsets"]
    data = np.frombuffer(raw[8 + n + start:8 + n + end], dtype="<f8").reshape(4, 3)
    np.testing.assert_array_equal(data, np.arange(12.0).reshape(3, 4).T)  # written in logical (C) order


@pytest.mark.parametrize("module", ["interop", "checkpoint", "_files"])
def test_interop_never_unpickles(tmp_path, monkeypatch, module):
    import importlib
    import ast
    tree = ast.parse(Path(importlib.import_module(f"tinygrad_mnist.{module}").__file__).read_text())
    unpicklers = {"pickle", "_pickle", "dill", "marshal", "cloudpickle", "shelve", "joblib"}
    for node in ast.walk(tree):  # the code itself, not the prose in its docstrings
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & unpicklers, ast.dump(node)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in unpicklers, ast.dump(node)
        if isinstance(node, ast.Attribute):
            assert ast.unparse(node) not in ("torch.load", "np.load", "numpy.load"), f"{module}.py uses {ast.unparse(node)}"
        if isinstance(node, ast.keyword):
            assert node.arg != "allow_pickle", f"{module}.py passes allow_pickle"
    # and at run time: loading works with every unpickling entry point broken
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was called while loading a checkpoint")

    path = tmp_path / "m.safetensors"
    interop.save(_sample_state(), path)
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    assert len(interop.load(path)) == len(_sample_state())


def test_our_checkpoint_loads_into_torch_and_torchs_into_ours(tmp_path):
    ours, theirs = Net(), torch_net()
    ours_path, torch_path = tmp_path / "ours.safetensors", tmp_path / "torch.safetensors"
    interop.save(ours.state_dict(), ours_path)
    result = theirs.load_state_dict(safetensors.torch.load_file(ours_path), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert_same_weights(torch_np(theirs), ours_np(ours))

    other = torch_net()  # torch writes, we read
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(-2.0)
    safetensors.torch.save_file(other.state_dict(), torch_path)
    ours.load_state_dict(interop.load(torch_path))
    assert_same_weights(ours_np(ours), torch_np(other))


def test_load_errors_name_the_file(tmp_path):
    good = tmp_path / "good.safetensors"
    interop.save(_sample_state(), good)
    raw = good.read_bytes()
    cases = {
        "truncated.safetensors": raw[:-7],
        "header-only.safetensors": raw[:20],
        "random.bin": np.random.default_rng(0).bytes(256),
        "empty.safetensors": b"",
        "text.safetensors": b"this is not a checkpoint\n" * 4,
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=re.escape(f"{path}: not a valid safetensors file (")):
            interop.load(path)
        with pytest.raises(ValueError, match=re.escape(str(path))):
            interop.load_metadata(path)
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))) as info:
        interop.load(missing)
    assert "no such checkpoint file" in str(info.value)
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        interop.load(tmp_path)


def test_load_rejects_dtypes_the_engine_lacks(tmp_path):
    for dtype in (torch.float16, torch.bfloat16):
        path = tmp_path / f"{dtype}.safetensors"
        safetensors.torch.save_file({"ok": torch.zeros(2), "half": torch.zeros(2, dtype=dtype)}, path)
        with pytest.raises(TypeError, match=re.escape(str(path)) + r": tensor 'half' has"):
            interop.load(path)


# ---------------------------------------------------------------------- safetensors: atomic writes
def test_failure_at_the_rename_removes_the_temporary(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        interop.save(_sample_state(), target)
    assert leftovers(tmp_path) == ["taken"] and leftovers(target) == ["keep"]


def test_save_into_missing_or_read_only_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "no" / "such"))):
        interop.save({"a": tg.ones(2)}, tmp_path / "no" / "such" / "m.safetensors")
    if os.geteuid() == 0:
        pytest.skip("running as root: a read-only directory is still writable")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=re.escape(str(locked / "m.safetensors"))):
            interop.save({"a": tg.ones(2)}, locked / "m.safetensors")
        assert leftovers(locked) == []
    finally:
        locked.chmod(0o755)


def test_saved_file_gets_ordinary_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "m.safetensors"
    interop.save({"a": tg.ones(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_load_on_device(tmp_path, device):
    state = OrderedDict([("w", tg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), device=device))])
    path = tmp_path / "m.safetensors"
    interop.save(state, path)
    loaded = interop.load(path, device=device)
    assert loaded["w"].device == device
    np.testing.assert_array_equal(to_numpy(loaded["w"].array), np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert interop.to_torch_state_dict(loaded)["w"].shape == (2, 3)
