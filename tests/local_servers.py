"""Loopback ports for the servers tests start, safe when two suites run on one machine at once.

A server is given port 0, so the kernel picks a port nobody holds, and the test reads back the port the
server says it bound. Probing a free port and handing its number over leaves a window in which another
process takes it; Spark then quietly moves to the next port and the test talks to whoever holds the one
it asked for.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def logged_port(process: subprocess.Popen, log: Path, pattern: re.Pattern[str], *, what: str, timeout: float = 120) -> int:
    """The port `process` logs in `log` once it listens: group 1 of the first match of `pattern`."""
    deadline = time.monotonic() + timeout
    while True:
        exited = process.poll() is not None  # before reading, so an exited server's log is read whole
        text = log.read_text(errors="replace") if log.exists() else ""
        match = pattern.search(text)
        if match:
            return int(match.group(1))
        if exited or time.monotonic() > deadline:
            state = f"exited with {process.returncode}" if exited else f"still silent after {timeout:.0f}s"
            raise AssertionError(f"{what} never logged the port it listens on ({state}); its log ends:\n{text[-3000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port on which nothing listens, held (bound, never listening) for the block: a connection
    to it is refused, and no other process can start listening on it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]
