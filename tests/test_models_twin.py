"""``tinygrad_mnist/models.py`` is ``reference/models.py`` with only the imports changed: held here.

Each model class's code (docstrings aside, ``torch.nn`` read as ``nn``) is the same in both files,
and each registry model builds the same layers, with the same names, types, parameter and buffer
shapes, in both engines.
"""
import ast
from pathlib import Path

import pytest

from reference import models as theirs_module
from tinygrad_mnist import models as ours_module
from tinygrad_mnist.specs import MODEL_NAMES

ROOT = Path(__file__).resolve().parents[1]


class _Normalise(ast.NodeTransformer):
    """Drop docstrings; read ``torch.nn.X`` as ``nn.X``."""

    def _strip_doc(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return self.generic_visit(node)

    visit_ClassDef = visit_FunctionDef = _strip_doc

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name) \
                and node.value.value.id == "torch" and node.value.attr == "nn":
            return ast.copy_location(ast.Attribute(value=ast.Name(id="nn", ctx=ast.Load()), attr=node.attr,
                                                   ctx=node.ctx), node)
        return node


def _classes(path):
    tree = ast.parse(path.read_text())
    return {node.name: ast.dump(_Normalise().visit(node)) for node in tree.body if isinstance(node, ast.ClassDef)}


def test_every_model_class_is_the_reference_code():
    ours, theirs = _classes(ROOT / "tinygrad_mnist" / "models.py"), _classes(ROOT / "reference" / "models.py")
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert ours[name] == theirs[name], f"{name}: tinygrad_mnist/models.py differs from reference/models.py"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_builds_the_same_layers_names_and_shapes(name):
    ours, theirs = ours_module.build_model(name, seed=0), theirs_module.build_model(name, seed=0)
    assert [(n, type(m).__name__) for n, m in ours.named_modules()] == \
        [(n, type(m).__name__) for n, m in theirs.named_modules()]
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert [(n, tuple(b.shape)) for n, b in ours.named_buffers()] == \
        [(n, tuple(b.shape)) for n, b in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
