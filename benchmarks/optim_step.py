"""Optimizer step time on the tutorial models' parameters: the fast routes, the reference rules, and a
checkout of an earlier commit.

    python -m benchmarks.optim_step                          # cnn, mlp4, lenet; fast vs reference
    python -m benchmarks.optim_step --before /path/to/older/checkout --models cnn --rounds 7

Only ``opt.step()`` is timed: each worker process builds the model from seed 0, gives every
parameter a fixed random gradient, builds the tutorial's optimizer (``specs``: Adam for cnn and
mlp4, SGD with momentum for lenet), warms up, then times ``--steps`` steps one by one and reports
the median. Variants run in processes of their own, alternating (A B C A B C ...) for
``--rounds`` rounds; the table shows each variant's median over rounds and, in parentheses, the
smallest (the least disturbed by other work on a shared machine), in microseconds.
"fast" is the default (``TINYGRAD_MNIST_FAST`` unset), "reference" runs with
``TINYGRAD_MNIST_FAST=0``, "before" imports tinygrad_mnist from the ``--before`` checkout.
A quick measurement, not a test: nothing asserts on it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(model, steps, warmup, root):
    sys.path.insert(0, root)
    import numpy as np

    import tinygrad_mnist as tg
    from tinygrad_mnist.models import build_model
    from tinygrad_mnist.specs import get_spec

    spec = get_spec(model)
    net = build_model(model, seed=0)
    params = list(net.parameters())
    rng = np.random.default_rng(0)
    for p in params:
        p.grad = tg.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-3)
    opt = getattr(tg.optim, spec.optimizer)(params, **dict(spec.optimizer_kwargs))
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return {"median_us": statistics.median(times) * 1e6, "params": sum(p.numel() for p in params),
            "optimizer": spec.optimizer, "file": tg.__file__}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["cnn", "mlp4", "lenet"])
    ap.add_argument("--before", help="a checkout of an earlier commit, to time as 'before'")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--worker", nargs=2, metavar=("MODEL", "ROOT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker[0], a.steps, a.warmup, a.worker[1])))
        return

    variants = {"fast": (ROOT, "1"), "reference": (ROOT, "0")}
    if a.before:
        variants["before"] = (os.path.abspath(a.before), "1")
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_MNIST_FAST"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    print(f"{'model':<8}{'optimizer':<10}{'params':>10}  " + "".join(f"{v + ' us':>16}" for v in variants))
    for model in a.models:
        results = {v: [] for v in variants}
        info = None
        for _ in range(a.rounds):
            for name, (root, fast) in variants.items():
                cmd = [sys.executable, "-m", "benchmarks.optim_step", "--steps", str(a.steps), "--warmup",
                       str(a.warmup), "--worker", model, root]
                out = subprocess.run(cmd, cwd=ROOT, env={**env, "TINYGRAD_MNIST_FAST": fast}, check=True,
                                     capture_output=True, text=True).stdout
                info = json.loads(out.strip().splitlines()[-1])
                results[name].append(info["median_us"])
        print(f"{model:<8}{info['optimizer']:<10}{info['params']:>10}  "
              + "".join(f"{f'{statistics.median(results[v]):.0f} ({min(results[v]):.0f})':>16}" for v in variants))


if __name__ == "__main__":
    main()
