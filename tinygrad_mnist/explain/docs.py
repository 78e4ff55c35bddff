"""Each op's forward rule and derivative, read from docs/backprop.md's tables, and its source code."""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from . import adapters as A

ROOT = Path(__file__).resolve().parents[2]
BACKPROP_MD = ROOT / "docs" / "backprop.md"
MAX_SOURCE_LINES = 80


def md_inline(text):
    """The inline Markdown the tables use (code spans, bold), as escaped HTML."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(part)))
    return "".join(out)


def _cells(line):
    cells, current, in_code = [], [], False
    for ch in line.strip().strip("|"):
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    cells.append("".join(current).strip())
    return cells


@functools.lru_cache(maxsize=1)
def table_rows(path=BACKPROP_MD):
    """``{op name: {forward, backward, impl, section}}`` from every op table in docs/backprop.md."""
    rows, section = {}, ""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return rows
    for line in lines:
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| op ") \
                or line.startswith("| node "):
            continue
        cells = _cells(line)
        if len(cells) == 4:
            name, forward, backward, impl = cells
        elif len(cells) == 3:  # the AccumulateGrad table: node, what backward does, where
            name, backward, impl = cells
            forward = "(a leaf: no forward)"
        else:
            continue
        entry = {"forward": md_inline(forward), "backward": md_inline(backward), "impl": md_inline(impl),
                 "section": md_inline(section)}
        for key in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)Backward`", name) + [name.split()[0]]:
            rows.setdefault(key.strip("`").lstrip("_"), entry)
    return rows


def doc_for(op):
    """docs/backprop.md's row for op ``op`` (e.g. "Conv2d"), or None."""
    return table_rows().get(op.lstrip("_"))


def code_for(node):
    """Where the node's op lives: repo-relative path, line, file:// link and (the start of) its source."""
    found = A.source_of(node)
    if found is None:
        return None
    path, line, source = found
    try:
        shown = str(path.relative_to(ROOT))
    except ValueError:
        shown = str(path)
    lines = source.splitlines()
    more = len(lines) - MAX_SOURCE_LINES
    text = "\n".join(lines[:MAX_SOURCE_LINES]) + (f"\n# ... {more} more lines" if more > 0 else "")
    return {"path": shown, "line": line, "href": path.as_uri(), "class": type(node).__name__, "source": text}
