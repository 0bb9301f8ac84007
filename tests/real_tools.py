"""Upstream command-line tools the tests run for real (promtool, amtool, prometheus, Java).

`.ci/run` and `make tools` install them. Locally a missing tool skips its tests with the install line;
in CI (CI=true) it fails them, so a check that should have run never passes silently.
"""

from __future__ import annotations

import os
import shutil

import pytest

from sparkeks.doctor import APT_PACKAGES


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} not found: apt-get install -y {APT_PACKAGES[tool]} (or `make tools`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run this check")
    pytest.skip(message)
