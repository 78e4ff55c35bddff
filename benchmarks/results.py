"""The README's results table: every tutorial model trained with its tutorial's settings, both engines.

    python -m benchmarks.results                 # all models, both engines (about 40 minutes on 2 cores)
    python -m benchmarks.results --models mlp lenet
    python -m benchmarks.results --table-only    # rebuild the table from runs/results/

Each run is ``python -m tinygrad_mnist train --model M --engine E --seed 0`` in its own process
(one engine per process, so the two libraries' thread pools never share one), writing into
``runs/results/M-E``. The table gives the final test accuracy and the mean seconds per epoch
(training only, data already in memory, evaluation excluded), read from each run's metrics.jsonl.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from tinygrad_mnist.specs import MODEL_NAMES, get_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = ("logreg", "mlp", "lenet", "cnn_s2", "cnn_s2_fixed", "mlp4", "mlp4_fixed", "cnn")


def run(model, engine, out_root, data_dir):
    out = os.path.join(out_root, f"{model}-{engine}")
    cmd = [sys.executable, "-m", "tinygrad_mnist", "train", "--model", model, "--engine", engine, "--seed", "0",
           "--data-dir", data_dir, "--out", out, "--no-progress"]
    print("$", " ".join(cmd[1:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    return out


def summary(out):
    rows = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    return rows[-1]["test_acc"], sum(r["seconds"] for r in rows) / len(rows), len(rows)


def table(models, out_root):
    lines = ["| model | tutorial settings | epochs | test acc. ours | test acc. torch | s/epoch ours | s/epoch torch |",
             "|---|---|---|---|---|---|---|"]
    for m in models:
        s = get_spec(m)
        try:
            ours, ref = summary(os.path.join(out_root, f"{m}-tinygrad")), summary(os.path.join(out_root, f"{m}-torch"))
        except FileNotFoundError:
            continue
        opt = f"{s.optimizer} " + ", ".join(f"{k}={v}" for k, v in s.optimizer_kwargs.items()) + f", batch {s.batch_size}"
        lines.append(f"| `{m}` | {opt} | {ours[2]} | {ours[0]:.2%} | {ref[0]:.2%} | {ours[1]:.1f} | {ref[1]:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.results")
    p.add_argument("--models", nargs="+", default=list(ORDER), choices=MODEL_NAMES)
    p.add_argument("--data-dir", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "results"))
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args(argv)
    if not args.table_only:
        for m in args.models:
            for engine in ("tinygrad", "torch"):
                run(m, engine, args.out, args.data_dir)
    print(table(args.models, args.out))


if __name__ == "__main__":
    main()
