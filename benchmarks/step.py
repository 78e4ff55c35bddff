"""Step time, epoch time and peak memory: tinygrad_mnist against PyTorch, per tutorial model.

    python -m benchmarks.step                      # every model, CPU, the default thread count
    python -m benchmarks.step --models cnn lenet --threads 1 2
    python -m benchmarks.step --epoch              # also one end-to-end epoch per engine
    python -m benchmarks.step --json bench.json    # machine-readable, for the README table
    python -m benchmarks.step --markdown bench.json  # that file as the README's Markdown table
    python -m benchmarks.step --device cuda        # on the GPU (CUDA-synchronised timings)

Method. Each measurement runs in a fresh process of its own, one engine per process: NumPy's
BLAS threads and PyTorch's OpenMP threads slow each other down when they share a process. The
processes alternate, A B A B, for ``--repeats`` rounds, so drift of the machine hits both
engines alike. In each process: the model is built from the same seed, the batch is the same
random data (a fixed NumPy seed), a warm-up of ``--warmup`` steps, then ``--steps`` timed steps
(forward, cross-entropy, backward, optimizer step), each one timed alone; the process reports
its median. The table gives the median over rounds for each engine and the median of the
per-round ratios ours/torch. Both engines get the same thread count.

The epoch measurement runs ``training.train_epoch`` over the full 60,000 MNIST training images
through each engine's own DataLoader (data loading included; data already on the device, as in
``train``), one epoch per process, A B alternating for ``--epoch-repeats`` rounds; the table gives
each engine's median. Peak memory is the process's maximum resident set size (ru_maxrss), which includes
the interpreter and the library itself: PyTorch's is larger before any tensor is made.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("logreg", "mlp", "mlp4", "cnn_s2", "lenet", "cnn")


# ------------------------------------------------------------------------------ worker process
def _worker(task):
    import resource

    import numpy as np

    from tinygrad_mnist import training
    from tinygrad_mnist.specs import get_spec

    engine = training.make_engine(task["engine"], task["device"], task["threads"])
    spec = get_spec(task["model"])
    model = engine.build_model(task["model"], seed=0)
    opt = engine.optimizer(spec, model.parameters())
    F = engine.F
    result = {}

    if task["kind"] == "step":
        rng = np.random.default_rng(0)
        x = engine.tensor(rng.random((spec.batch_size,) + spec.input_shape, dtype=np.float32))
        y = engine.tensor(rng.integers(0, 10, spec.batch_size))

        def step():
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(task["warmup"]):
            step()
        engine.synchronize()
        times = []
        for _ in range(task["steps"]):
            start = time.perf_counter()
            step()
            engine.synchronize()
            times.append((time.perf_counter() - start) * 1e3)
        result["ms"] = statistics.median(times)
    else:  # one epoch end to end
        x_train, y_train, _, _ = training.load_mnist(task["data_dir"])
        x = engine.tensor(training.preprocess(x_train, spec))
        y = engine.tensor(y_train)
        loader = engine.loader(x, y, spec.batch_size, shuffle=True, seed=0)
        start = time.perf_counter()
        training.train_epoch(engine, model, opt, loader)
        engine.synchronize()
        result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _run_worker(task):
    env = dict(os.environ)
    if task["threads"]:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(task["threads"])
    proc = subprocess.run([sys.executable, "-m", "benchmarks.step", "--worker", json.dumps(task)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {task}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------- driver
def measure(model, threads, args):
    base = dict(model=model, device=args.device, threads=threads, warmup=args.warmup, steps=args.steps,
                data_dir=args.data_dir)
    ours, ref, ratios, peaks = [], [], [], {"tinygrad": 0.0, "torch": 0.0}
    for _ in range(args.repeats):
        a = _run_worker(dict(base, engine="tinygrad", kind="step"))
        b = _run_worker(dict(base, engine="torch", kind="step"))
        ours.append(a["ms"])
        ref.append(b["ms"])
        ratios.append(a["ms"] / b["ms"])
        peaks["tinygrad"] = max(peaks["tinygrad"], a["peak_mb"])
        peaks["torch"] = max(peaks["torch"], b["peak_mb"])
    row = dict(model=model, threads=threads, device=args.device, ours_ms=statistics.median(ours),
               torch_ms=statistics.median(ref), ratio=statistics.median(ratios),
               ours_peak_mb=peaks["tinygrad"], torch_peak_mb=peaks["torch"], rounds=args.repeats,
               ours_ms_rounds=ours, torch_ms_rounds=ref)  # per round: a disturbed stretch shows up
    if args.epoch:  # A B alternating too: an epoch on this shared machine varies by up to 30%
        epochs = [(_run_worker(dict(base, engine="tinygrad", kind="epoch")),
                   _run_worker(dict(base, engine="torch", kind="epoch"))) for _ in range(args.epoch_repeats)]
        row.update(ours_epoch_s=statistics.median(a["seconds"] for a, _ in epochs),
                   torch_epoch_s=statistics.median(b["seconds"] for _, b in epochs),
                   ours_epoch_peak_mb=max(a["peak_mb"] for a, _ in epochs),
                   torch_epoch_peak_mb=max(b["peak_mb"] for _, b in epochs), epoch_rounds=args.epoch_repeats,
                   ours_epoch_s_rounds=[a["seconds"] for a, _ in epochs],
                   torch_epoch_s_rounds=[b["seconds"] for _, b in epochs])
    return row


def machine():
    """What the figures depend on: the CPU (its vector units above all), the BLAS, the versions."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy  # noqa: F401  (loads NumPy's BLAS, so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info
    info = {"date": time.strftime("%Y-%m-%d"), "cpu_count": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            first_cpu = f.read().split("\n\n")[0]
        fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first_cpu.splitlines())}
        info["cpu"] = f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']})"
        info["avx512f"] = "avx512f" in fields.get("flags", "").split()
    except (OSError, KeyError):  # not Linux
        pass
    info["blas"] = [f"{lib['internal_api']} {lib['version']} ({lib.get('architecture')} kernels)"
                    for lib in threadpool_info() if lib["user_api"] == "blas"]
    for package in ("numpy", "torch"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            pass
    return info


def format_table(rows):
    head = (f"{'model':<8}{'batch':>6}{'thr':>4}{'ours ms':>10}{'torch ms':>10}{'ratio':>7}"
            f"{'ours MB':>9}{'torch MB':>9}")
    has_epoch = any("ours_epoch_s" in r for r in rows)
    if has_epoch:
        head += f"{'epoch ours s':>14}{'epoch torch s':>15}"
    lines = [head, "-" * len(head)]
    from tinygrad_mnist.specs import get_spec
    for r in rows:
        line = (f"{r['model']:<8}{get_spec(r['model']).batch_size:>6}{r['threads'] or '-':>4}"
                f"{r['ours_ms']:>10.3f}{r['torch_ms']:>10.3f}{r['ratio']:>7.2f}"
                f"{r['ours_peak_mb']:>9.0f}{r['torch_peak_mb']:>9.0f}")
        if has_epoch:
            line += f"{r.get('ours_epoch_s', float('nan')):>14.1f}{r.get('torch_epoch_s', float('nan')):>15.1f}"
        lines.append(line)
    return "\n".join(lines)


def markdown_table(rows):
    """The README's table: the rows of a ``--json`` file as Markdown."""
    from tinygrad_mnist.specs import get_spec
    lines = ["| model | batch | threads | ours ms | torch ms | ratio ours/torch | epoch s ours | epoch s torch "
             "| ours peak MB | torch peak MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        epoch = (f"{r['ours_epoch_s']:.1f} | {r['torch_epoch_s']:.1f}" if "ours_epoch_s" in r else "- | -")
        lines.append(f"| {r['model']} | {get_spec(r['model']).batch_size} | {r['threads'] or '-'} | "
                     f"{r['ours_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f} | {epoch} | "
                     f"{r['ours_peak_mb']:.0f} | {r['torch_peak_mb']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.step", description=__doc__.split("\n")[0])
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS + ("mlp4_fixed", "cnn_s2_fixed"))
    p.add_argument("--threads", nargs="+", type=int, default=[None],
                   help="thread counts to measure (default: each library's default)")
    p.add_argument("--repeats", type=int, default=5, help="A B rounds per model")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--epoch", action="store_true", help="also time one end-to-end epoch per engine")
    p.add_argument("--epoch-repeats", type=int, default=3, help="A B epoch rounds per model (median)")
    p.add_argument("--data-dir", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--json", help="write the rows as JSON to this file")
    p.add_argument("--markdown", metavar="JSON", help="print the Markdown table of a --json file and exit")
    args = p.parse_args(argv)
    if args.markdown:
        with open(args.markdown) as f:
            print(markdown_table(json.load(f)["rows"]))
        return 0
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0
    rows = []
    for model in args.models:
        for threads in args.threads:
            row = measure(model, threads, args)
            rows.append(row)
            print(f"{model} threads={threads}: ours {row['ours_ms']:.3f} ms, torch {row['torch_ms']:.3f} ms, "
                  f"ratio {row['ratio']:.2f}", file=sys.stderr, flush=True)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            command = shlex.join(sys.argv[1:] if argv is None else argv)
            from tinygrad_mnist import fast
            json.dump({"device": args.device, "machine": machine(), "command": command,
                       "fast_routes": fast.is_enabled(), "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
