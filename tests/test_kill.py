"""kill -9 at random moments during tg.save and during `train`: the last good files stay intact,
and nothing is left behind that the next write (its sweep of stale temporaries) does not remove.

A helper process imports everything once and forks one worker per round, so a round costs
milliseconds rather than an interpreter start. The helper SIGKILLs its worker after a random delay
chosen by the test (seeded: the same delays every run); as the worker's parent, which reaps it only
afterwards, it cannot hit a reused pid. The test then inspects the files.
"""
import json
import os
import queue
import random
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist import _files, checkpoint, training

from conftest import ROOT, mnist_dir

DATA = mnist_dir()
TEMP = re.compile(r"^\.(?P<name>.+)\.tg-(?P<pid>\d+)-[0-9a-f]+\.(tmp|old)$")

ZYGOTE = textwrap.dedent("""
    import os, signal, sys, time
    import numpy as np
    import tinygrad_mnist as tg
    from tinygrad_mnist import cli, training
    import matplotlib.pyplot  # imported once here, not in every worker

    def save_forever(path, base):
        gen = base
        while True:
            gen += 1
            value = float(gen)
            obj = ({"w": tg.full((512, 512), value), "b": tg.full((512,), value)} if gen % 2 else
                   {"epoch": gen, "model_state_dict": {"w": tg.full((512, 512), value)}, "loss": value})
            tg.save(obj, path, metadata={"gen": str(gen)})
            os.write(1, f"saved {gen}\\n".encode())  # one write: a kill cannot split the line

    for line in sys.stdin:
        delay, job, *args = line.split()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into this loop
            try:
                if job == "save":
                    save_forever(args[0], int(args[1]))
                else:
                    code = cli.main(args)
                    print("finished", code, flush=True)
            finally:
                os._exit(0)
        print("pid", pid, flush=True)
        deadline = time.monotonic() + float(delay)
        done = False
        while not done and time.monotonic() < deadline:
            done = os.waitpid(pid, os.WNOHANG)[0] == pid
            if not done:
                time.sleep(0.001)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        # on a line of its own even if the kill cut a worker's line short
        print("\\nexit", "finished" if done else "killed", flush=True)
""")


class Zygote:
    """The helper process. A thread reads its output, so a stuck helper fails the test after two
    minutes instead of hanging the suite."""

    def __init__(self):
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _next(self):
        try:
            line = self.lines.get(timeout=120)
        except queue.Empty:
            pytest.fail("the helper process stopped answering")
        assert line is not None, "the helper process died"
        return line

    def round(self, command, delay):
        """Run ``command`` in a fresh worker, SIGKILLed after ``delay`` s if still running.

        Returns (worker pid, its output lines as lists of words, whether it was killed)."""
        self.proc.stdin.write(f"{delay:.4f} {command}\n")
        self.proc.stdin.flush()
        line = self._next()
        assert line.startswith("pid "), line
        pid = int(line.split()[1])
        lines = []
        while True:
            words = self._next().split()
            if words[:1] == ["exit"]:
                return pid, lines, words[1] == "killed"
            if words:
                lines.append(words)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def ours_from(directory, pids):
    """{pid: [names]} of our temporary files in ``directory``; each must be of one of ``pids``."""
    found = {}
    for p in Path(directory).iterdir():
        m = TEMP.match(p.name)
        if m:
            assert int(m.group("pid")) in pids, f"a temporary of another process: {p.name}"
            found.setdefault(int(m.group("pid")), []).append(p.name)
    return found


def check_checkpoint(path):
    """The file loads and is one whole generation (its tensors and its metadata agree)."""
    gen = int(checkpoint.load_metadata(path)["gen"])
    obj = tg.load(path)
    tensors = [obj["w"], obj["b"]] if gen % 2 else [obj["model_state_dict"]["w"]]
    if gen % 2 == 0:
        assert obj["epoch"] == gen and obj["loss"] == float(gen)
    for t in tensors:
        values = np.unique(t.numpy())
        assert values.tolist() == [float(gen)], (gen, values[:5])
    return gen


def test_kill_9_during_save_never_loses_the_last_checkpoint(zygote, tmp_path):
    path = tmp_path / "ck.safetensors"
    rng = random.Random(20240518)
    last, workers, kills = 0, set(), 0
    for round_ in range(1, 41):
        base = round_ * 100_000  # every save of every round writes a generation of its own
        pid, lines, killed = zygote.round(f"save {path} {base}", rng.uniform(0.0, 0.08))
        assert killed
        kills += 1
        workers.add(pid)
        saved = [int(words[1]) for words in lines if words[0] == "saved"]
        if not path.exists():
            assert last == 0 and not saved
            continue
        gen = check_checkpoint(path)
        # the last save that finished, or the one being finished when the kill came (renamed, not yet
        # reported), or, if none finished in this round, the file of the round before
        attempted = saved[-1] + 1 if saved else base + 1
        assert gen in {saved[-1] if saved else last, attempted}, (gen, saved[-3:], last)
        stray = ours_from(tmp_path, workers)
        assert all(len(names) == 1 for names in stray.values()), stray  # one temporary per save, never two
        if saved:  # a finished save swept the temporaries of the workers killed before
            assert set(stray) <= {pid}, stray
        assert sorted(set(os.listdir(tmp_path)) - {n for names in stray.values() for n in names}) == \
            ["ck.safetensors"]
        last = gen
    assert last > 0 and kills == 40
    _files.sweep_stale_temporaries(tmp_path)
    assert os.listdir(tmp_path) == ["ck.safetensors"]
    tg.save({"w": tg.ones(1)}, path)  # and a later save after a kill just works
    assert os.listdir(tmp_path) == ["ck.safetensors"]


@pytest.mark.skipif(DATA is None, reason="MNIST IDX files not found")
def test_kill_9_during_train_leaves_the_earlier_run_or_the_new_one_whole(zygote, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--model", "logreg", "--epochs", "1", "--limit-train", "256", "--no-progress",
            "--data-dir", str(DATA), "--out", str(out)]
    start = time.perf_counter()
    _, lines, killed = zygote.round("run " + " ".join(args + ["--seed", "0"]), 120.0)  # time to complete
    duration = time.perf_counter() - start  # only to spread the kills below over a run's length
    assert not killed and ["finished", "0"] in lines
    rng = random.Random(7)
    for seed in range(1, 9):
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        pid, lines, killed = zygote.round("run " + " ".join(args + ["--seed", str(seed)]),
                                          rng.uniform(0.05, 1.0) * duration)
        ours_from(tmp_path, {pid})  # nothing beside the run but the killed worker's temporaries
        _files.sweep_stale_temporaries(tmp_path)
        assert os.listdir(tmp_path) == ["run"]
        now = {p.name: p.read_bytes() for p in out.iterdir()}
        assert sorted(now) == sorted(training.RUN_FILES)
        if now != before:  # the new run, complete
            assert not killed or ["finished", "0"] in lines
            assert json.loads(now["config.json"])["seed"] == seed
            assert len(now["metrics.jsonl"].splitlines()) == 1
            assert tg.load(out / "model.safetensors")["lin.weight"].shape == (10, 784)
        else:
            assert killed
