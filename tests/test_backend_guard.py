"""A CPU-side guard for the GPU backend: no array math on tensor data through NumPy.

A CuPy array that meets ``np.<function>`` is either copied to the host behind the user's back or
rejected at run time, on the GPU only. So outside ``backend.py`` the modules that compute on
tensor data (the ops, nn, optim, Tensor and autograd) may name NumPy only for types and dtypes,
or on a line marked ``# host`` that says why its data lives on the host (a shape, a seeded host
random draw, a host-side counter). This test reads their source: it runs in CI without a GPU.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_mnist"
GUARDED = sorted([*PACKAGE.glob("ops/*.py"), *PACKAGE.glob("nn/*.py"), *PACKAGE.glob("optim/*.py"),
                  *PACKAGE.glob("autograd/*.py"), *PACKAGE.glob("fast/*.py"),
                  PACKAGE / "tensor.py", PACKAGE / "functions.py"])
# names that are types or dtypes, never functions on data
TYPE_NAMES = {"ndarray", "generic", "integer", "floating", "number", "dtype", "bool_", "float16", "float32",
              "float64", "int8", "int16", "int32", "int64", "uint8"}


def numpy_uses(path):
    """(line number, attribute, source line) for every ``np.<attr>`` / ``numpy.<attr>`` in ``path``."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.name == "numpy"}
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            uses.append((node.lineno, node.attr, lines[node.lineno - 1]))
    return uses


def _in_gradcheck(path, lineno):
    """gradcheck is a float64 host-side numerical check by design: it works on to_numpy() copies."""
    if path.name != "gradcheck.py":
        return False
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ("_numerical", "_analytical", "gradcheck",
                                                               "gradgradcheck", "_flat"):
            if node.lineno <= lineno <= node.end_lineno:
                return True
    return False


@pytest.mark.parametrize("path", GUARDED, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_numpy_array_math_on_tensor_data(path):
    offending = [f"{path.name}:{n}: np.{attr}   {line.strip()}" for n, attr, line in numpy_uses(path)
                 if attr not in TYPE_NAMES and "# host" not in line and not _in_gradcheck(path, n)]
    assert not offending, ("NumPy used for array math where a CuPy array may arrive; use "
                           "xp = get_array_module(...) or mark a host-only line with '# host: why':\n"
                           + "\n".join(offending))


def test_the_guard_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\n\ndef f(x):\n    return np.exp(x)\n")
    assert [(n, a) for n, a, _ in numpy_uses(bad)] == [(4, "exp")]
