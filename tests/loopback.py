"""A real HTTP mirror on 127.0.0.1 for the download tests: ``http.server`` in a thread, serving a
folder, with handlers that misbehave the way real mirrors do (short, slow, oversized bodies)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import threading
import time
from pathlib import Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder as is, without logging each request."""

    def log_message(self, *args):
        pass

    def _body(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return None
        return path.read_bytes()

    def _send(self, body, length, pieces, pause):
        """Send ``body`` in ``pieces`` bytes at a time, ``pause`` seconds apart, announcing
        ``length`` (None: no Content-Length, the end of the body is the end of the connection)."""
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.close_connection = True
        try:
            for start in range(0, len(body), pieces):
                self.wfile.write(body[start:start + pieces])
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: that is what these handlers are for


class ShortReadHandler(QuietHandler):
    """Announces the full Content-Length, sends half the body, then closes."""

    def do_GET(self):
        body = self._body()
        if body is not None:
            self._send(body[: len(body) // 2], len(body), len(body), 0)


class TrickleHandler(QuietHandler):
    """Sends the right file one byte at a time, ``PAUSE`` seconds apart: every read returns,
    the file takes ages."""
    PAUSE = 0.02

    def do_GET(self):
        body = self._body()
        if body is not None:
            self._send(body, len(body), 1, self.PAUSE)


class ThrottledHandler(QuietHandler):
    """Sends the right file in 16 KiB pieces, 5 ms apart (a download that takes a while)."""

    def do_GET(self):
        body = self._body()
        if body is not None:
            self._send(body, len(body), 1 << 14, 0.005)


class HugeLengthHandler(QuietHandler):
    """Announces a Content-Length of 10 GB, then sends the right file."""

    def do_GET(self):
        body = self._body()
        if body is not None:
            self._send(body, 10**10, len(body), 0)


class EndlessHandler(QuietHandler):
    """No Content-Length, and a body that goes on far past the file (256 KiB of its bytes
    repeated), ended by closing the connection."""

    def do_GET(self):
        body = self._body()
        if body is not None:
            self._send((body * (1 + (1 << 18) // len(body)))[: 1 << 18], None, 1 << 14, 0)


@contextlib.contextmanager
def serve(directory, handler=QuietHandler):
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url():
    """A URL on a port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
