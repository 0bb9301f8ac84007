"""The tree passes the linter the project pins (ruff in requirements-dev.txt, its rules in pyproject.toml):
unused or undefined names, imports out of order or below code, syntax older than the Python we support."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing_in_the_tree():
    done = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\nrun `make lint FIX=1` for the fixable ones"


def test_the_linter_reads_the_projects_rules_and_would_fail_a_finding(tmp_path):
    # The check above can fail: the same rules report an unused import and imports out of order.
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nimport os\n\nprint(os.sep)\n")
    done = _ruff("check", "--no-cache", "--output-format", "concise", "--config", str(PROJECT_ROOT / "pyproject.toml"), str(bad))
    assert done.returncode == 1
    codes = sorted({line.split()[1] for line in done.stdout.splitlines() if line.startswith(str(bad))})
    assert codes == ["F401", "I001"]
