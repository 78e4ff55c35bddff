"""``python -m tinygrad_mnist explain``: one training step, explained in one self-contained HTML page.

    python -m tinygrad_mnist explain --model lenet --out step.html

:func:`explain_step` runs the step and gathers the data (``step.py``), :func:`render_html` and
:func:`write_page` make the page around it (``page.py``, with ``page.html``, ``page.css`` and
``page.js``); ``adapters.py`` holds every engine interface the page reads.
"""
from __future__ import annotations

from .page import read_data, render_html, write_page  # noqa: F401
from .step import explain_step  # noqa: F401


def add_subparser(sub):
    """Add ``explain`` to the CLI's subparsers."""
    from tinygrad_mnist.specs import MODEL_NAMES
    p = sub.add_parser("explain", help="one training step explained in a self-contained HTML page")
    p.add_argument("--model", choices=MODEL_NAMES, help="the tutorial model (or give --checkpoint)")
    p.add_argument("--checkpoint", help="a model.safetensors written by train (its weights, its model)")
    p.add_argument("--data-dir", default="data/mnist", help="directory with the MNIST IDX files")
    p.add_argument("--download", action="store_true", help="download MNIST into --data-dir if missing")
    p.add_argument("--batch-size", type=int, help="default: the tutorial's")
    p.add_argument("--seed", type=int, default=0, help="initial weights and batch order (default 0)")
    p.add_argument("--no-fd", action="store_true", help="skip the finite-difference check")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.set_defaults(handler=cmd_explain)
    return p


def _command(a):
    """The command line that makes this page, rebuilt from the parsed arguments (shown on the page)."""
    words = ["explain"]
    for flag, value in (("--model", a.model), ("--checkpoint", a.checkpoint), ("--batch-size", a.batch_size),
                        ("--seed", a.seed if a.seed else None), ("--out", a.out)):
        if value is not None:
            words += [flag, str(value)]
    if a.data_dir != "data/mnist":
        words[1:1] = ["--data-dir", a.data_dir]
    return words + (["--no-fd"] if a.no_fd else [])


def cmd_explain(a):
    data = explain_step(a.model, checkpoint=a.checkpoint, data_dir=a.data_dir, batch_size=a.batch_size,
                        seed=a.seed, download=a.download, argv=_command(a), fd=not a.no_fd)
    size = write_page(a.out, data)
    print(f"wrote {a.out} ({size / 1e6:.2f} MB): {data['model']}, batch {data['batch_size']}, "
          f"loss {data['loss']:.4f}, {len(data['nodes'])} graph nodes, {len(data['trace'])} backward steps")
