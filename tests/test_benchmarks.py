"""The benchmark commands run end to end (tiny settings). They measure; nothing here asserts a time."""
import json
import subprocess
import sys

from conftest import ROOT


def test_step_benchmark_runs_both_engines_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.step", "--models", "logreg", "--repeats", "1",
                           "--steps", "2", "--warmup", "1", "--threads", "1", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "logreg" in proc.stdout and "ratio" in proc.stdout
    result = json.loads(out.read_text())
    row = result["rows"][0]
    assert row["model"] == "logreg" and row["threads"] == 1
    assert row["ours_ms"] > 0 and row["torch_ms"] > 0 and row["ours_peak_mb"] > 0
    assert row["ours_ms_rounds"] == [row["ours_ms"]] and row["torch_ms_rounds"] == [row["torch_ms"]]
    assert result["machine"]["cpu_count"] >= 1 and result["machine"]["numpy"]
    table = subprocess.run([sys.executable, "-m", "benchmarks.step", "--markdown", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert table[0].startswith("| model | batch | threads |") and table[2].startswith("| logreg | 64 | 1 |")
    assert table[2].count("|") == table[0].count("|")             # one cell per column, epoch or not


def test_profile_step_prints_the_per_op_table():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.profile_step", "--model", "cnn_s2", "--steps", "2",
                           "--threads", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Conv2d" in proc.stdout and "ms per step" in proc.stdout
