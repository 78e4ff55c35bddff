"""Where a training step spends its time, op by op: ``python -m benchmarks.profile_step --model cnn``.

Runs a few warm-up steps of the tutorial model at its batch size, then ``--steps`` steps under
``tg.profile()`` (which synchronises the GPU around each op, so times are real on "cuda"), and
prints the per-op table plus the plain step time measured without the profiler.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from tinygrad_mnist import training
from tinygrad_mnist.profiler import profile
from tinygrad_mnist.specs import MODEL_NAMES, get_spec


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step")
    p.add_argument("--model", choices=MODEL_NAMES, default="cnn")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args(argv)
    engine = training.make_engine("tinygrad", args.device, args.threads)
    spec = get_spec(args.model)
    model = engine.build_model(args.model, seed=0)
    opt = engine.optimizer(spec, model.parameters())
    rng = np.random.default_rng(0)
    x = engine.tensor(rng.random((spec.batch_size,) + spec.input_shape, dtype=np.float32))
    y = engine.tensor(rng.integers(0, 10, spec.batch_size))

    def step():
        loss = engine.F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    engine.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    engine.synchronize()
    step_ms = (time.perf_counter() - start) / args.steps * 1e3
    with profile() as prof:
        for _ in range(args.steps):
            step()
    print(f"{args.model} on {args.device}, batch {spec.batch_size}: {step_ms:.3f} ms per step "
          f"(without the profiler); per-op totals over {args.steps} steps:")
    print(prof)


if __name__ == "__main__":
    main()
