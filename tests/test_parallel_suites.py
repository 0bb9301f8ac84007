"""Two test suites at once (two worktrees, or CI beside a developer) share the machine's loopback ports.

A test that listens on a fixed port then fails with "address in use", or worse passes or fails by
talking to the other suite's server. Here another suite holds the History Server's loopback port (and
answers 200 on it, as a live Spark would) while the login's probe tests run; below, the helpers the
tests' real servers use to listen on a port of their own (tests/local_servers.py).
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.history_server.manifests import SPARK_LOOPBACK_PORT
from tests.conftest import PROJECT_ROOT
from tests.local_servers import closed_port, logged_port


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


# --- the helpers the local servers use ---------------------------------------------------------------

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def _server(tmp_path: Path, script: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "server.log"
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-c", script], stderr=out), log


def test_the_port_a_server_logs_is_read_back(tmp_path):
    server, log = _server(tmp_path, "import sys, time; print('starting', file=sys.stderr, flush=True); time.sleep(0.5); "
                          "print('listening on 127.0.0.1:43121', file=sys.stderr, flush=True); time.sleep(30)")
    try:
        assert logged_port(server, log, LISTENING, what="the fake server", timeout=20) == 43121
    finally:
        server.kill()
        server.wait()


def test_a_server_that_exits_before_saying_its_port_is_reported_with_its_log(tmp_path):
    server, log = _server(tmp_path, "import sys; print('bind: address already in use', file=sys.stderr); sys.exit(3)")
    with pytest.raises(AssertionError) as failure:
        logged_port(server, log, LISTENING, what="the fake server", timeout=20)
    assert str(failure.value) == "the fake server never logged the port it listens on (exited with 3); its log ends:\nbind: address already in use\n"


def test_a_closed_port_refuses_connections_and_cannot_be_taken_while_held():
    with closed_port() as port:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        with socket.socket() as other, pytest.raises(OSError) as taken:
            other.bind(("127.0.0.1", port))
        assert taken.value.errno == errno.EADDRINUSE
