#!/usr/bin/env bash
# One call on a lent GPU machine: the whole suite on "cuda", then per-op profiles and the step
# benchmark. Results go to $OUT (the device tool brings them back). Usage: bash benchmarks/gpu_session.sh [suite|bench|all]
set -u
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD
what=${1:-all}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python -c "import cupy, torch, numpy; print('cupy', cupy.__version__, 'torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$OUT/gpu.txt"
if [ "$what" = suite ] || [ "$what" = all ]; then
  par=""; python -c "import xdist" 2>/dev/null && par="-n 6"
  TG_TEST_DEVICE=cuda timeout 420 python -m pytest -q -p no:cacheprovider $par --maxfail=40 tests > "$OUT/suite.txt" 2>&1
  echo "suite rc=$?"; grep -E "^(FAILED|ERROR)" "$OUT/suite.txt" | head -40; tail -3 "$OUT/suite.txt"
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  for m in logreg mlp cnn lenet; do python -m benchmarks.profile_step --model $m --device cuda; done > "$OUT/profile.txt" 2>&1
  head -c 6000 "$OUT/profile.txt"
  python -m benchmarks.step --device cuda --repeats ${REPEATS:-3} --steps ${STEPS:-50} --epoch --json "$OUT/bench_gpu.json" 2>"$OUT/bench_err.txt" | tee "$OUT/bench.txt"
fi
