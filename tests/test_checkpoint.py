"""tg.save / tg.load for what programs save, PyTorch files refused and converted, and the files
themselves: atomic, written through symlinks, permissions kept, clear errors naming the path.

Real files, real PyTorch (torch.save, torch.load, safetensors.torch), real subprocesses.
"""
import copy
import io
import json
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_mnist as tg
from tinygrad_mnist import _files, checkpoint, nn, optim

from conftest import ROOT

TEMP = re.compile(r"^\..+\.tg-\d+-[0-9a-f]+\.(tmp|old)$")


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def same(a, b):
    """Deep equality that also checks types, dtypes and shapes (nan equals nan)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b) if isinstance(a, OrderedDict) else set(a) == set(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    tg.save(obj, buffer)
    buffer.seek(0)
    return tg.load(buffer, **load_kwargs)


# ---------------------------------------------------------------------- any checkpoint-like structure
arrays = hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(), st.text(max_size=5))
keys = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.booleans(), st.none(),
                 st.floats(allow_nan=False), st.tuples(st.integers(0, 2), st.text(max_size=2)))
leaves = st.one_of(scalars, arrays.map(tg.tensor), arrays, arrays.map(lambda a: tg.tensor(a).float().requires_grad_()))
structures = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3).map(OrderedDict),
), max_leaves=12)


@given(obj=structures)
def test_any_nesting_of_tensors_arrays_and_plain_values_comes_back_the_same(obj):
    wrapped = {"x": obj}
    same(round_trip(wrapped), wrapped)


def test_a_shared_tensor_is_stored_once_and_comes_back_shared(tmp_path):
    w = tg.randn(64, 64)
    obj = {"encoder": {"weight": w}, "decoder": {"weight": w}, "other": tg.randn(64, 64)}
    path = tmp_path / "tied.safetensors"
    tg.save(obj, path)
    assert len(safetensors.torch.load_file(path)) == 2
    back = tg.load(path)
    assert back["encoder"]["weight"] is back["decoder"]["weight"]
    same(back["other"], obj["other"])


# ---------------------------------------------------------------------- the usual training checkpoint
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.fc1 = nn.Linear(3 * 4 * 4, 10)

    def forward(self, x):
        return self.fc1(self.conv1(x).relu().flatten(1))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 3, 3)
        self.fc1 = torch.nn.Linear(3 * 4 * 4, 10)

    def forward(self, x):
        return self.fc1(torch.relu(self.conv1(x)).flatten(1))


BATCHES = [(np.random.default_rng(i).standard_normal((8, 1, 6, 6)).astype(np.float32),
            np.random.default_rng(i).integers(0, 10, 8)) for i in range(5)]


def steps(model, opt, batches, lib=tg, F=None):
    F = F or tg.nn.functional
    for x, y in batches:
        loss = F.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss


@pytest.mark.parametrize("make_opt", [lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
                                      lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)],
                         ids=["adam", "sgd"])
def test_training_checkpoint_resumes_exactly(tmp_path, make_opt):
    tg.manual_seed(0)
    model = Net()
    opt = make_opt(model.parameters())
    loss = steps(model, opt, BATCHES[:3])
    ck = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
          "loss": 0.1, "last_loss": loss, "best": math.inf, "history": [2.3, 1.9, float("nan")], "note": None}
    path = tmp_path / "ck.pth"
    tg.save(ck, path)
    back = tg.load(path)
    assert back["epoch"] == 3 and type(back["epoch"]) is int and back["loss"] == 0.1 and back["best"] == math.inf
    assert back["note"] is None and math.isnan(back["history"][2]) and back["last_loss"].shape == ()
    same(back["model_state_dict"], model.state_dict())
    saved = opt.state_dict()
    assert list(back["optimizer_state_dict"]["state"]) == list(saved["state"])  # int keys, in order
    assert back["optimizer_state_dict"]["param_groups"] == saved["param_groups"]  # lists, floats, bools, None, tuples

    tg.manual_seed(1)
    model2 = Net()
    model2.load_state_dict(back["model_state_dict"])
    opt2 = make_opt(model2.parameters())
    opt2.load_state_dict(back["optimizer_state_dict"])
    steps(model, opt, BATCHES[3:])
    steps(model2, opt2, BATCHES[3:])
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    # the tensors are also a plain safetensors file for PyTorch, under their flattened key paths
    names = set(safetensors.torch.load_file(path))
    assert {"model_state_dict.fc1.weight", "last_loss"} <= names
    assert any(n.startswith("optimizer_state_dict.state.0.") for n in names)


def test_a_state_dict_is_a_plain_state_dict_for_pytorch_and_keeps_its_order_here(tmp_path):
    model = Net()
    path = tmp_path / "m.safetensors"
    tg.save(model.state_dict(), path, metadata={"model": "net"})
    assert checkpoint.load_metadata(path) == {"model": "net"}  # the structure entry is ours, not shown
    header = json.loads(path.read_bytes()[8:8 + int.from_bytes(path.read_bytes()[:8], "little")])
    assert sorted(k for k in header if k != "__metadata__") == sorted(model.state_dict())
    theirs = TorchNet()
    assert not theirs.load_state_dict(safetensors.torch.load_file(path)).missing_keys
    back = tg.load(path)
    assert isinstance(back, OrderedDict) and list(back) == list(model.state_dict())  # module order
    path2 = tmp_path / "torch.safetensors"  # written by PyTorch: no structure entry, names in sorted order
    safetensors.torch.save_file(theirs.state_dict(), path2)
    assert list(tg.load(path2)) == sorted(theirs.state_dict())


@pytest.mark.parametrize("obj,message", [
    (lambda: Net(), r"the object is a Net, .* save its state_dict\(\) instead"),
    (lambda: {"opt": optim.SGD(Net().parameters(), lr=0.1)}, r"obj\['opt'\] is a SGD, .*state_dict\(\)"),
    (lambda: {"a": {"fn": print}}, r"obj\['a'\]\['fn'\] is a builtin_function_or_method"),
    (lambda: {"a": [tg.ones(2), object()]}, r"obj\['a'\]\[1\] is a object"),
    (lambda: {"a": {object(): 1}}, r"obj\['a'\] has a key of type object"),
    (lambda: {"h": {"x": np.zeros(2, np.float16)}}, r"obj\['h'\]\['x'\] has dtype float16"),
    (lambda: {"t": torch.zeros(2), "n": 1}, r"obj\['t'\] is a Tensor, .*convert torch tensors"),
])
def test_what_cannot_be_stored_is_refused_by_its_key_path_and_nothing_is_written(tmp_path, obj, message):
    path = tmp_path / "ck.safetensors"
    with pytest.raises(TypeError, match=message):
        tg.save(obj(), path)
    assert leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="reserved"):
        tg.save({"a": tg.ones(1)}, path, metadata={checkpoint.STRUCTURE_KEY: "x"})
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        tg.save({"a": tg.ones(1)}, path, metadata={"epoch": 3})


# ---------------------------------------------------------------------- load's PyTorch arguments
def test_load_accepts_pytorchs_arguments(tmp_path, device):
    obj = {"w": tg.arange(6.0).reshape(2, 3), "n": 3}
    path = tmp_path / "m.pt"
    tg.save(obj, path)
    forms = {None: "cpu", "cpu": "cpu", tg.device("cpu"): "cpu", torch.device("cpu"): "cpu",
             "map": "cpu", "fn": "cpu", "fn-none": "cpu"}
    dicts = {"map": {"cuda:0": "cpu"}, "fn": lambda storage, location: storage,
             "fn-none": lambda storage, location: None}
    if device == "cuda":
        forms.update({"cuda": "cuda", torch.device("cuda:0"): "cuda", "map-gpu": "cuda", "fn-gpu": "cuda"})
        dicts.update({"map-gpu": {"cpu": "cuda:0"}, "fn-gpu": lambda storage, location: storage.cuda()})
    for form, expected in forms.items():
        where = dicts.get(form, form) if isinstance(form, str) else form
        for weights_only in (None, True, False):
            back = tg.load(path, map_location=where, weights_only=weights_only, mmap=False)
            assert back["w"].device == expected and back["n"] == 3, form
            np.testing.assert_array_equal(tg.backend.to_numpy(back["w"].array), np.arange(6.0).reshape(2, 3))
    assert tg.load(str(path), "cpu")["n"] == 3  # map_location positionally, as torch.load(f, 'cpu')
    with pytest.raises(TypeError, match="weights_only must be True, False or None, got 'yes'"):
        tg.load(path, weights_only="yes")
    with pytest.raises(ValueError, match="map_location 'tpu' is not a device"):
        tg.load(path, map_location="tpu")
    with pytest.raises(ValueError, match="never unpickles"):
        tg.load(path, pickle_module=pickle)
    with pytest.raises(TypeError, match="unexpected keyword argument 'map_locaton'"):
        tg.load(path, map_locaton="cpu")
    assert tg.load(path, encoding="latin1")["n"] == 3  # a pickle_load_arg: accepted, unused


# ---------------------------------------------------------------------- real PyTorch files
@pytest.fixture(scope="module")
def torch_files(tmp_path_factory):
    """A typical torch training checkpoint, saved by torch.save in its zip and legacy formats."""
    d = tmp_path_factory.mktemp("torch")
    torch.manual_seed(0)
    model = TorchNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps(model, opt, BATCHES[:2], lib=torch, F=torch.nn.functional)
    ck = {"epoch": 2, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
          "loss": 0.25, "shape": torch.Size([1, 6, 6])}
    files = {"zip": d / "ck.pth", "legacy": d / "legacy.pt", "state_dict": d / "sd.pt"}
    torch.save(ck, files["zip"])
    torch.save(ck, files["legacy"], _use_new_zipfile_serialization=False)
    torch.save(model.state_dict(), files["state_dict"])
    return d, files, model, opt


def run_cli(*args):
    """The real command line in a subprocess: exit status, stdout, stderr."""
    return subprocess.run([sys.executable, "-m", "tinygrad_mnist", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=300)


class Result:
    def __init__(self, returncode, out, err):
        self.returncode, self.stdout, self.stderr = returncode, out, err


@pytest.fixture
def cli_main(capsys):
    """The command line's main() in this process (torch is already imported here): much faster."""
    from tinygrad_mnist import cli

    def run(*args):
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)
    return run


def test_tg_load_refuses_pytorch_files_and_names_the_convert_command(torch_files, tmp_path):
    _, files, _, _ = torch_files
    for path in files.values():
        with pytest.raises(ValueError, match=re.escape(f"python -m tinygrad_mnist convert {path} "
                                                       f"{os.path.splitext(path)[0]}.safetensors")):
            tg.load(path)
        with pytest.raises(ValueError, match="tinygrad_mnist convert"):
            tg.load(io.BytesIO(path.read_bytes()))
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(ValueError, match=r"is a Python pickle, not a safetensors file.*convert"):
        tg.load(plain)


def test_convert_then_resume_in_tinygrad_exactly_as_in_torch(torch_files, tmp_path, cli_main):
    _, files, model, opt = torch_files
    for kind in ("zip", "legacy"):
        out = tmp_path / f"{kind}.safetensors"
        proc = (run_cli if kind == "zip" else cli_main)("convert", str(files[kind]), str(out))
        assert proc.returncode == 0, proc.stderr
        assert f"wrote {out}" in proc.stdout and proc.stderr == ""
        ck = tg.load(out)
        assert ck["epoch"] == 2 and ck["loss"] == 0.25 and ck["shape"] == (1, 6, 6)
        ours = Net()
        ours.load_state_dict(ck["model_state_dict"])
        our_opt = optim.Adam(ours.parameters(), lr=1e-2)
        our_opt.load_state_dict(ck["optimizer_state_dict"])
        theirs = TorchNet()
        theirs.load_state_dict(model.state_dict())
        their_opt = torch.optim.Adam(theirs.parameters(), lr=1e-2)
        their_opt.load_state_dict(copy.deepcopy(opt.state_dict()))  # torch shares the state tensors
        steps(ours, our_opt, BATCHES[2:])
        steps(theirs, their_opt, BATCHES[2:], lib=torch, F=torch.nn.functional)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    out = tmp_path / "sd.safetensors"  # a bare state_dict converts to a plain safetensors file
    assert cli_main("convert", str(files["state_dict"]), str(out)).returncode == 0
    for k, v in safetensors.torch.load_file(out).items():
        assert torch.equal(v, model.state_dict()[k])


def test_convert_widens_half_precision_exactly(tmp_path, cli_main):
    src, out = tmp_path / "half.pt", tmp_path / "half.safetensors"
    half = torch.randn(5, 3).half()
    torch.save({"w": half, "b": torch.randn(3).bfloat16()}, src)
    proc = cli_main("convert", str(src), str(out))
    assert proc.returncode == 0 and "widened 2 float16/bfloat16 tensors to float32" in proc.stdout
    back = tg.load(out)
    assert back["w"].dtype == tg.float32
    np.testing.assert_array_equal(back["w"].numpy(), half.float().numpy())


def test_files_that_would_run_code_are_refused_and_nothing_runs(tmp_path, cli_main):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = {"pickle2.pth": pickle.dumps({"w": Payload()}, protocol=2),
            "pickle4.pth": pickle.dumps({"w": Payload()}, protocol=4)}
    for name, data in evil.items():
        (tmp_path / name).write_bytes(data)
    torch.save(TorchNet(), tmp_path / "whole_model.pt")  # a pickled nn.Module: refused by weights_only
    torch.jit.save(torch.jit.script(TorchNet()), tmp_path / "scripted.pt")
    for name in [*evil, "whole_model.pt", "scripted.pt"]:
        path = tmp_path / name
        with pytest.raises(ValueError, match="not a safetensors file"):
            tg.load(path)
        out = tmp_path / (name + ".safetensors")
        proc = (run_cli if name == "pickle2.pth" else cli_main)("convert", str(path), str(out))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "refused" in proc.stderr and "Nothing in it was run" \
            in proc.stderr, proc.stderr
        assert not out.exists() and not marker.exists()
    proc = cli_main("convert", str(tmp_path / "missing.pt"))
    assert proc.returncode == 2 and "missing.pt: no such file" in proc.stderr


def test_convert_module_never_loads_with_weights_only_false():
    import ast
    tree = ast.parse(Path(ROOT / "tinygrad_mnist" / "convert.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.load"]
    assert len(calls) == 1
    (kw,) = [k for k in calls[0].keywords if k.arg == "weights_only"]
    assert isinstance(kw.value, ast.Constant) and kw.value.value is True


# ---------------------------------------------------------------------- the files themselves
def test_save_writes_through_symlinks(tmp_path):
    real = tmp_path / "store" / "real.safetensors"
    real.parent.mkdir()
    tg.save({"a": tg.zeros(2)}, real)
    first = tmp_path / "link1"
    first.symlink_to(os.path.relpath(real, tmp_path))  # relative link
    second = tmp_path / "link2"
    second.symlink_to(first)  # a chain of links
    for link in (first, second):
        tg.save({"a": tg.ones(2), "via": tg.tensor(str(link).__len__())}, link)
        assert link.is_symlink() and os.path.realpath(link) == str(real)
        assert tg.load(real)["via"].item() == len(str(link))
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "store" / "new.safetensors")
    tg.save({"a": tg.ones(1)}, dangling)
    assert dangling.is_symlink() and (tmp_path / "store" / "new.safetensors").is_file()
    assert leftovers(tmp_path / "store") == ["new.safetensors", "real.safetensors"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400])
def test_save_over_a_file_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "m.safetensors"
    tg.save({"a": tg.zeros(2)}, path)
    path.chmod(mode)
    tg.save({"a": tg.ones(2)}, path)
    assert path.stat().st_mode & 0o777 == mode
    assert tg.load(path)["a"].numpy().tolist() == [1.0, 1.0]


DISK_FULL = textwrap.dedent("""
    import resource, signal, sys
    import tinygrad_mnist as tg
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    path = sys.argv[1]
    tg.save({"small": tg.ones(4)}, path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    try:
        tg.save({"big": tg.zeros(1000, 1000)}, path)
    except OSError as exc:
        print(type(exc).__name__, exc.errno, exc)
""")


def test_a_write_that_runs_out_of_space_names_the_path_and_keeps_the_old_file(tmp_path):
    """A real failing write: the file-size limit (RLIMIT_FSIZE) stands in for a full disk; both
    end the write with an OSError from the kernel at the same place."""
    path = tmp_path / "m.safetensors"
    proc = subprocess.run([sys.executable, "-c", DISK_FULL, str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"cannot write '{re.escape(str(path))}': File too large", proc.stdout), proc.stdout
    assert leftovers(tmp_path) == ["m.safetensors"]
    assert tg.load(path)["small"].numpy().tolist() == [1.0] * 4


def test_errors_name_the_path_when_the_folder_is_wrong(tmp_path):
    (tmp_path / "file").write_text("x")
    for target, error, words in [(tmp_path / "file" / "m.safetensors", NotADirectoryError, "is not a directory"),
                                 (tmp_path / "no" / "m.safetensors", FileNotFoundError, "does not exist"),
                                 (tmp_path, IsADirectoryError, "it is a directory")]:
        with pytest.raises(error, match=re.escape(f"cannot write '{target}'") + ".*" + words):
            tg.save({"a": tg.ones(1)}, target)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(PermissionError, match=re.escape(str(locked / "m.safetensors"))):
            tg.save({"a": tg.ones(1)}, locked / "m.safetensors")
    assert leftovers(tmp_path) == ["file"] + (["locked"] if os.geteuid() != 0 else [])


def test_stale_temporaries_of_dead_processes_are_swept(tmp_path):
    dead = 2 ** 22 + 12345  # above Linux's largest pid
    stale = [tmp_path / f".m.safetensors.tg-{dead}-0badc0de.tmp", tmp_path / f".m.safetensors.tg-{dead}-00000001.tmp"]
    for p in stale:
        p.write_bytes(b"half a checkpoint")
    stale_dir = tmp_path / f".run.tg-{dead}-0000abcd.tmp"
    (stale_dir / "inner").mkdir(parents=True)
    live = tmp_path / f".m.safetensors.tg-{os.getppid()}-12345678.tmp"  # its writer still runs
    live.write_bytes(b"in progress")
    other = tmp_path / ".notes.txt.tmp"  # not ours
    other.write_text("keep")
    tg.save({"a": tg.ones(1)}, tmp_path / "m.safetensors")
    assert not any(p.exists() for p in stale) and live.exists() and other.exists() and stale_dir.exists()
    assert _files.sweep_stale_temporaries(tmp_path) == [str(stale_dir)]
    assert leftovers(tmp_path) == sorted([live.name, other.name, "m.safetensors"])


def test_atomic_directory_replaces_only_at_the_end_and_repairs_an_interrupted_swap(tmp_path):
    run = tmp_path / "run"
    with _files.atomic_directory(run) as d:
        Path(d, "a").write_text("first")
    with pytest.raises(KeyboardInterrupt):
        with _files.atomic_directory(run) as d:
            Path(d, "a").write_text("second, never finished")
            raise KeyboardInterrupt
    assert leftovers(tmp_path) == ["run"] and (run / "a").read_text() == "first"
    with _files.atomic_directory(run) as d:
        Path(d, "a").write_text("second")
    assert leftovers(tmp_path) == ["run"] and (run / "a").read_text() == "second"
    # a kill between the two renames: the old folder moved aside, the new one not yet in place
    dead = 2 ** 22 + 7
    run.rename(tmp_path / f".run.tg-{dead}-00000000.old")
    (tmp_path / f".run.tg-{dead}-00000001.tmp").mkdir()
    _files.sweep_stale_temporaries(tmp_path)
    assert leftovers(tmp_path) == ["run"] and (run / "a").read_text() == "second"
    with pytest.raises(FileExistsError, match="refused"):
        with _files.atomic_directory(run, replace=lambda p: (_ for _ in ()).throw(FileExistsError("refused"))):
            pass
    assert leftovers(tmp_path) == ["run"]


# ---------------------------------------------------------------------- load_state_dict's values
@given(value=st.one_of(st.text(max_size=5), st.none(), st.binary(max_size=3),
                       st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
                       st.just(np.array(["a"] * 6).reshape(3, 2)), st.just(object())))
def test_load_state_dict_names_the_key_holding_a_value_that_is_not_an_array(value):
    model = nn.Linear(2, 3)
    before = model.weight.detach().numpy().copy()
    state = dict(model.state_dict(), weight=value)
    with pytest.raises(RuntimeError, match=r'While copying the parameter named "weight", expected a Tensor or an '
                                           r"array from checkpoint but received <class"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
