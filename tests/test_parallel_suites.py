"""Two test suites at once (two worktrees, or CI beside a developer) share the machine's loopback ports.

A test that listens on a fixed port then fails with "address in use", or worse passes or fails by
talking to the other suite's server. Here another suite holds the History Server's loopback port (and
answers 200 on it, as a live Spark would) while the login's probe tests run.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

from components.history_server.manifests import SPARK_LOOPBACK_PORT
from sparkeks.plan.runner import PROJECT_ROOT


class _AnyPathOk(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _another_suite_on(port: int) -> Iterator[None]:
    """Answer 200 on `port` for as long as the block runs; if something already holds the port (a suite
    running beside this one), that is the situation under test as it is."""
    try:
        server = http.server.HTTPServer(("127.0.0.1", port), _AnyPathOk)
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        yield
        return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_the_login_probe_tests_pass_while_another_suite_holds_sparks_loopback_port():
    with _another_suite_on(SPARK_LOOPBACK_PORT):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_history_login.py", "-k", "loopback_probe"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout
