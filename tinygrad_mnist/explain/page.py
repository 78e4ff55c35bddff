"""The explain page: one HTML file with its CSS, its JavaScript and its data inside it."""
from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def data_json(data):
    """The page's data as JSON that is safe inside a <script> element."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def render_html(data):
    """The whole page, as a string: nothing in it refers to anything outside it."""
    page = (HERE / "page.html").read_text(encoding="utf-8")
    parts = {"__TITLE__": html.escape(f"One training step of {data['model']}, explained"),
             "__CSS__": (HERE / "page.css").read_text(encoding="utf-8"),
             "__JS__": (HERE / "page.js").read_text(encoding="utf-8"),
             "__DATA__": data_json(data)}
    for key in ("__TITLE__", "__CSS__", "__JS__", "__DATA__"):  # the data last: it may hold any text
        page = page.replace(key, parts[key], 1)
    return page


def read_data(page_text):
    """The data embedded in a page written by :func:`render_html` (what the tests compare)."""
    start = page_text.index('<script id="explain-data" type="application/json">')
    start = page_text.index(">", start) + 1
    end = page_text.index("</script>", start)
    return json.loads(page_text[start:end])


def write_page(path, data):
    """Write the page to ``path`` atomically; returns its size in bytes."""
    from tinygrad_mnist._files import atomic_write
    text = render_html(data).encode("utf-8")
    with atomic_write(path) as f:
        f.write(text)
    return len(text)
