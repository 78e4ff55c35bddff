"""Step time before and after a change: this checkout, an older one, this checkout's reference ops, torch.

    git worktree add --detach /tmp/before b064bc3
    python -m benchmarks.before_after /tmp/before --threads 1 2 --json before_after.json

Each training step is measured as ``benchmarks/step.py`` measures it (its worker: the tutorial
model at its batch size, 5 warm-up steps, the median of 30), one process per measurement, and
the four variants alternate within each round, so drift of the machine hits all of them alike:

* ``before``: the engine of the other checkout (run from there, with its own code);
* ``after``: this checkout, with the fast routes (the default);
* ``reference``: this checkout with ``TINYGRAD_MNIST_FAST=0`` (the reference ops only);
* ``torch``: PyTorch, as the yardstick of the other ratios.

Printed per model and thread count: the median over rounds of each variant's ms per step, and
the medians of the per-round ratios after/before, reference/after and after/torch.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("logreg", "mlp", "mlp4", "cnn_s2", "lenet", "cnn")


def run_step(checkout, engine, model, threads, fast=True, warmup=5, steps=30):
    """ms per step (median) of one worker process of ``benchmarks.step`` run from ``checkout``."""
    task = dict(model=model, device="cpu", threads=threads, warmup=warmup, steps=steps, data_dir="",
                engine=engine, kind="step")
    env = dict(os.environ, PYTHONPATH=checkout, TINYGRAD_MNIST_FAST="1" if fast else "0")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.step", "--worker", json.dumps(task)],
                          cwd=checkout, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"step worker failed in {checkout} for {task}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["ms"]


def measure(before, model, threads, rounds, warmup=5, steps=30):
    variants = {"before": (before, "tinygrad", True), "after": (ROOT, "tinygrad", True),
                "reference": (ROOT, "tinygrad", False), "torch": (ROOT, "torch", True)}
    ms = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (checkout, engine, fast) in variants.items():
            ms[name].append(run_step(checkout, engine, model, threads, fast, warmup, steps))

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(ms[a], ms[b]))

    return dict(model=model, threads=threads, rounds=rounds,
                **{f"{name}_ms": statistics.median(v) for name, v in ms.items()},
                after_over_before=ratio("after", "before"), reference_over_after=ratio("reference", "after"),
                after_over_torch=ratio("after", "torch"), ms_rounds=ms)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.before_after", description=__doc__.split("\n")[0])
    p.add_argument("before", help="the other checkout (a folder holding its tinygrad_mnist/ and benchmarks/)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--threads", nargs="+", type=int, default=[1])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--json", help="also write the rows to this file")
    args = p.parse_args(argv)
    before = os.path.abspath(args.before)
    if not os.path.isdir(os.path.join(before, "tinygrad_mnist")):
        p.error(f"{args.before}: no tinygrad_mnist/ folder there")
    rows = []
    print(f"{'model':<8}{'thr':>4}{'before':>10}{'after':>10}{'reference':>11}{'torch':>10}"
          f"{'after/before':>14}{'ref/after':>11}{'after/torch':>13}")
    for threads in args.threads:
        for model in args.models:
            r = measure(before, model, threads, args.rounds, args.warmup, args.steps)
            rows.append(r)
            print(f"{model:<8}{threads:>4}{r['before_ms']:>10.3f}{r['after_ms']:>10.3f}{r['reference_ms']:>11.3f}"
                  f"{r['torch_ms']:>10.3f}{r['after_over_before']:>14.2f}{r['reference_over_after']:>11.2f}"
                  f"{r['after_over_torch']:>13.2f}", flush=True)
    if args.json:
        from .step import machine
        with open(args.json, "w") as f:
            json.dump({"before": before, "machine": machine(), "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
