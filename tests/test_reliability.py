"""The command line as a user meets it: one-line errors with the right exit status, runs that
never leave a folder half-written, a diverging run that stops and saves nothing, Ctrl-C, loss.png.

Real MNIST (a small --limit-train), the real CLI (in this process where that is enough, in a
subprocess for signals and tracebacks), real files.
"""
import contextlib
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import cli, training

from conftest import ROOT, mnist_dir

DATA = mnist_dir()
needs_mnist = pytest.mark.skipif(DATA is None, reason="MNIST IDX files not found")
TINY = ["--model", "logreg", "--epochs", "1", "--limit-train", "512", "--no-progress", "--data-dir", str(DATA)]


def main(*args):
    """cli.main in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(err, *words):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])


def folder_state(path):
    return {p.name: p.read_bytes() for p in sorted(Path(path).iterdir())}


def strays(parent, keep):
    return sorted(p.name for p in Path(parent).iterdir() if p.name not in keep)


# ---------------------------------------------------------------------- usage errors: exit 2
BAD_VALUES = {
    "--lr": st.sampled_from(["inf", "-inf", "nan", "NaN", "1e400", "-1", "-1e-9", "abc", "", "0x"]),
    "--threads": st.one_of(st.integers(-10 ** 6, 0).map(str), st.sampled_from(["1.5", "two", ""])),
    "--seed": st.one_of(st.integers(-10 ** 6, -1).map(str), st.just(str(2 ** 64)), st.sampled_from(["0.5", "x"])),
    "--epochs": st.one_of(st.integers(-100, -1).map(str), st.sampled_from(["1.0", "many"])),
    "--batch-size": st.one_of(st.integers(-100, 0).map(str), st.sampled_from(["64.5", "big"])),
    "--limit-train": st.one_of(st.integers(-100, 0).map(str), st.just("1e3")),
}


@given(flag=st.sampled_from(sorted(BAD_VALUES)), data=st.data())
def test_bad_numbers_are_one_line_usage_errors_naming_the_flag(flag, data):
    value = data.draw(BAD_VALUES[flag])
    code, _, err = main("train", "--model", "mlp", f"{flag}={value}")
    assert code == 2
    assert_one_line_error(err, f"argument {flag}:", "train: error:")


def test_paths_that_cannot_be_right_are_usage_errors(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"")
    cases = [
        (["train", "--model", "mlp", "--out", a_file], ["--out", str(a_file), "is a file"]),
        (["train", "--model", "mlp", "--out", foreign], ["--out", str(foreign), "thesis.tex"]),
        (["train", "--model", "mlp", "--data-dir", a_file], ["--data-dir", "is a file"]),
        (["evaluate", "--checkpoint", run], ["--checkpoint", "is a folder", f"did you mean {run}/model.safetensors"]),
        (["evaluate", "--checkpoint", tmp_path / "nope.safetensors"], ["--checkpoint", "no such file"]),
        (["predict", "--checkpoint", run / "model.safetensors", tmp_path / "digit.png"], ["digit.png: no such file"]),
        (["convert", tmp_path / "nope.pth"], ["nope.pth: no such file"]),
        (["train", "--model", "nope"], ["invalid choice: 'nope'"]),
    ]
    for args, words in cases:
        code, _, err = main(*args)
        assert code == 2, (args, err)
        assert_one_line_error(err, *words)
    assert sorted(os.listdir(foreign)) == ["thesis.tex"] and a_file.read_text() == "x"


# ---------------------------------------------------------------------- failed runs: exit 1
def png_claiming(width, height):
    """A PNG header claiming ``width`` x ``height`` pixels, with almost no data: a decompression bomb."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1) * 2)) + chunk(b"IEND", b""))


@needs_mnist
def test_failed_runs_are_one_line_errors_naming_the_file(finished_run, tmp_path):
    import safetensors.torch
    model = finished_run / "model.safetensors"
    half = tmp_path / "half.safetensors"
    safetensors.torch.save_file({k: v.half() for k, v in safetensors.torch.load_file(model).items()}, half,
                                metadata={"model": "logreg"})
    not_an_image = tmp_path / "digit.png"
    not_an_image.write_text("not a png")
    images = {}
    for w, h in [(100_000, 100_000), (10_000, 9_000), (9_000, 8_000)]:  # PIL refuses, PIL warns, ours refuses
        images[w, h] = tmp_path / f"bomb{w}.png"
        images[w, h].write_bytes(png_claiming(w, h))
    cases = [
        (["evaluate", "--checkpoint", half, "--data-dir", DATA], [str(half), "float16"]),
        (["predict", "--checkpoint", model, not_an_image], ["cannot read image", str(not_an_image)]),
        (["evaluate", "--checkpoint", not_an_image], ["not a valid safetensors file", str(not_an_image)]),
    ] + [(["predict", "--checkpoint", model, p], [str(p), "too large"]) for p in images.values()]
    for args, words in cases:
        code, out, err = main(*args)
        assert code == 1, (args, err)
        assert_one_line_error(err, "error:", *words)


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nonsense")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for debug in (False, True):
        proc = subprocess.run([sys.executable, "-m", "tinygrad_mnist", "evaluate", "--checkpoint", str(bad),
                               *(["--debug"] if debug else [])], cwd=ROOT, capture_output=True, text=True, env=env,
                              timeout=300)
        assert proc.returncode == 1
        assert ("Traceback (most recent call last)" in proc.stderr) == debug, proc.stderr
        assert "not a valid safetensors file" in proc.stderr


# ---------------------------------------------------------------------- a run's folder
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "logreg"
    assert cli.main(["train", *TINY, "--out", str(out)]) == 0
    return out


@needs_mnist
def test_a_finished_run_is_complete_and_alone_in_its_parent(finished_run):
    assert sorted(os.listdir(finished_run)) == sorted(training.RUN_FILES)
    assert strays(finished_run.parent, {finished_run.name}) == []
    assert len((finished_run / "metrics.jsonl").read_text().splitlines()) == 1


@needs_mnist
def test_a_diverging_run_names_the_step_and_leaves_the_earlier_run(finished_run):
    before = folder_state(finished_run)
    code, out, err = main("train", *TINY, "--model", "mlp", "--out", finished_run, "--lr", "1e30")
    assert code == 1
    assert_one_line_error(err, "the training loss became", "at step", "(epoch 1, batch", "saved nothing")
    step = int(re.search(r"at step (\d+)", err).group(1))
    assert 1 <= step <= 512 // 64
    assert folder_state(finished_run) == before  # no NaN model, nothing of the failed run
    assert strays(finished_run.parent, {finished_run.name}) == []


@needs_mnist
def test_a_new_run_replaces_an_earlier_one_only_when_complete(tmp_path):
    out = tmp_path / "run"
    for seed in (1, 2):
        code, _, err = main("train", *TINY, "--out", out, "--seed", seed)
        assert code == 0, err
        assert json.loads((out / "config.json").read_text())["seed"] == seed
        assert sorted(os.listdir(out)) == sorted(training.RUN_FILES) and strays(tmp_path, {"run"}) == []
    assert tg.load(out / "model.safetensors")["lin.weight"].shape == (10, 784)


@needs_mnist
def test_ctrl_c_ends_with_one_line_status_130_and_the_earlier_run_intact(finished_run, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in training.RUN_FILES:  # an earlier run, copied
        (out / name).write_bytes((finished_run / name).read_bytes())
    before = folder_state(out)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_mnist", "train", "--model", "mlp", "--epochs", "20",
                             "--limit-train", "20000", "--no-progress", "--data-dir", str(DATA), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    header = proc.stdout.readline()  # printed once the data is loaded, as the run starts
    assert "tinygrad | mlp" in header, header + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130
    assert_one_line_error(err, "interrupted")
    assert folder_state(out) == before and strays(tmp_path, {"run"}) == []


# ---------------------------------------------------------------------- loss.png
@given(values=st.lists(st.floats(-1e6, 1e6), max_size=50), window=st.integers(1, 8))
def test_running_mean_is_the_mean_of_the_trailing_window(values, window):
    got = training.running_mean(values, window)
    want = [np.mean(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("epochs", [1, 3])
def test_loss_plot_is_a_curve_per_step_with_whole_epoch_ticks(epochs):
    import matplotlib.pyplot as plt
    steps_per_epoch = 40
    step_losses = list(np.linspace(2.3, 0.3, epochs * steps_per_epoch))
    history = [{"epoch": e, "train_loss": 1.0, "test_loss": 0.5 / e} for e in range(1, epochs + 1)]
    fig = training.loss_figure(history, "t", step_losses, steps_per_epoch)
    ax = fig.axes[0]
    raw, mean, test = ax.lines
    assert len(mean.get_xdata()) == epochs * steps_per_epoch  # one point per step: a curve for one epoch too
    np.testing.assert_allclose(mean.get_xdata()[[0, -1]], [1 / steps_per_epoch, epochs])
    assert list(test.get_xdata()) == list(range(1, epochs + 1))
    ticks = [t for t in ax.get_xticks() if 0 <= t <= epochs]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert ax.get_xlim() == (0, epochs)
    plt.close(fig)
