"""The benchmark commands run end to end (tiny settings). They measure; nothing here asserts a time."""
import json
import subprocess
import sys

from conftest import ROOT

from tinygrad_mnist import fast


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
    assert result["fast_routes"] is fast.is_enabled()   # the switch the figures were taken with
    table = subprocess.run([sys.executable, "-m", "benchmarks.step", "--markdown", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert table[0].startswith("| model | batch | threads |") and table[2].startswith("| logreg | 64 | 1 |")
    assert table[2].count("|") == table[0].count("|")             # one cell per column, epoch or not


def test_profile_step_prints_the_per_op_table():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.profile_step", "--model", "cnn_s2", "--steps", "2",
                           "--threads", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Conv2d" in proc.stdout and "ms per step" in proc.stdout


def test_before_after_alternates_four_variants(tmp_path):
    out = tmp_path / "before_after.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.before_after", str(ROOT), "--models", "logreg",
                           "--rounds", "1", "--steps", "2", "--warmup", "1", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "after/before" in proc.stdout and "logreg" in proc.stdout
    row = json.loads(out.read_text())["rows"][0]
    for name in ("before", "after", "reference", "torch"):
        assert row[f"{name}_ms"] > 0 and row["ms_rounds"][name] == [row[f"{name}_ms"]]
    assert row["after_over_before"] == row["after_ms"] / row["before_ms"]


def test_before_after_refuses_a_folder_without_the_engine(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.before_after", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no tinygrad_mnist/ folder" in proc.stderr
