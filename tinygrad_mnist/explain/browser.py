"""Open an explain page in headless Chromium with the network cut off, and take its screenshot.

Uses Playwright's Python package to drive the system's Chromium (Debian's ``chromium``), never a
browser Playwright downloads. Every request other than the page's own file is aborted and recorded,
so a caller can assert that none was made.

    python -m tinygrad_mnist.explain.browser step.html docs/explain_lenet.png [--node Conv2dBackward]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path():
    """The system Chromium (``$CHROMIUM``, else ``chromium`` / ``chromium-browser`` on PATH), or None."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class OfflinePage:
    """A page whose every request but ``url`` is aborted; ``blocked``, ``requests`` and ``errors`` record."""

    def __init__(self, page, url):
        self.page, self.url = page, url
        self.requests, self.blocked, self.errors = [], [], []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url == self.url:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self):
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        return self.page


@contextlib.contextmanager
def launch():
    """``with launch() as browser:`` the system Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium found: install Debian's chromium package (apt-get install chromium) "
                           "or set CHROMIUM to its path")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def offline_page(path, viewport=(1500, 1000), browser=None):
    """``with offline_page("step.html") as op: op.page...``: a fresh browser context where only this
    file is reachable (in ``browser``, or in a Chromium launched for it)."""
    if browser is None:
        with launch() as own, offline_page(path, viewport, own) as op:
            yield op
        return
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  service_workers="block")
    try:
        op = OfflinePage(context.new_page(), Path(path).resolve().as_uri())
        op.open()
        yield op
    finally:
        context.close()


def screenshot(page_path, png_path, node=None, viewport=(1500, 1100)):
    """A PNG of the page's top with ``node`` selected: a node id, or a grad_fn name (its last occurrence,
    the one nearest the input)."""
    with offline_page(page_path, viewport) as op:
        page = op.page
        if node is not None:
            ids = page.evaluate(f"""() => JSON.parse(document.getElementById('explain-data').textContent)
                                 .nodes.filter(n => n.name === {str(node)!r} || String(n.id) === {str(node)!r}).map(n => n.id)""")
            if not ids:
                raise ValueError(f"the page has no node named {node!r}")
            page.click(f"g.node[data-node='{ids[-1]}']")
            page.evaluate(f"""() => {{ const g = document.querySelector("g.node[data-node='{ids[-1]}']");
                                      const w = document.getElementById('graph-wrap');
                                      w.scrollTop += g.getBoundingClientRect().top - w.getBoundingClientRect().top - 140; }}""")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(png_path))
        if op.errors or op.blocked:
            raise RuntimeError(f"the page reported errors {op.errors} or made requests {op.blocked}")


def main(argv=None):
    p = argparse.ArgumentParser(description="screenshot of an explain page, opened offline in headless Chromium")
    p.add_argument("page")
    p.add_argument("png")
    p.add_argument("--node", help="select this node: its id, or a grad_fn name (its last occurrence), e.g. ReLUBackward")
    p.add_argument("--width", type=int, default=1500)
    p.add_argument("--height", type=int, default=1100)
    a = p.parse_args(argv)
    screenshot(a.page, a.png, a.node, (a.width, a.height))
    print(f"wrote {a.png}")


if __name__ == "__main__":
    main()
