"""The wheel carries the data files its code reads beside itself (support facts, instance and price tables).

Built offline from a copy of the checkout with the build backend already in this virtualenv, then read as
an installed package would be: from the unpacked wheel alone, away from the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sparkeks.cost import refresh
from tests.conftest import build_wheel, copy_of_the_project
from tests.test_price_list import FETCHED, WANTED, _fetch

# Where the prices workflow writes a region's table (sparkeks/cost/prices.py TABLES_DIR), relative to the checkout.
PRICE_TABLES = Path("sparkeks/cost/price_tables")
_CODE_SUFFIXES = (".py", ".pyc")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(checkout copy with a stand-in Price List table, the wheel built from it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    checkout = copy_of_the_project(tmp / "checkout")
    # No table is committed yet; one written by the refresh (from test answers) must ship like the others will.
    refresh.refresh(["us-west-2"], checkout / PRICE_TABLES, WANTED, _fetch(), FETCHED)
    wheel = build_wheel(checkout, tmp / "dist")
    return checkout, wheel


def _data_files(checkout: Path, packages: list[str]) -> set[str]:
    """Every file that is not code under the packaged top-level directories of the checkout."""
    found = set()
    for package in packages:
        for path in (checkout / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in _CODE_SUFFIXES:
                found.add(path.relative_to(checkout).as_posix())
    return found


def test_every_data_file_beside_the_code_is_in_the_wheel(built):
    checkout, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [top_level] = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        packages = archive.read(top_level).decode().split()
    assert sorted(packages) == ["components", "sparkeks"]
    data = _data_files(checkout, packages)
    # The walk finds the shipped data and the table the prices workflow would add (so it cannot pass empty).
    assert f"{PRICE_TABLES.as_posix()}/us-west-2.json" in data
    assert {"sparkeks/support.yaml", "sparkeks/cost/ec2_on_demand.json", "sparkeks/data/karpenter-instance-types.json"} <= data
    assert sorted(data - names) == []


def test_the_installed_package_reads_its_data_away_from_the_checkout(built, tmp_path):
    from sparkeks import nodes, version_policy
    from sparkeks.cost import prices

    _, wheel = built
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import json, sparkeks\n"
        "from sparkeks import nodes, version_policy\n"
        "from sparkeks.cost import prices\n"
        "print(json.dumps({'from': sparkeks.__file__, "
        "'karpenter': prices.ec2_on_demand('us-east-1', 'm7i.large'), "
        "'table': prices.service_price('us-west-2', 'eks.extended').usd, "
        "'support': str(version_policy.kubernetes_standard_support_ends('1.35')), "
        "'allocatable': nodes.allocatable('m7i.large')}))\n"
    )
    # No price-table override: the installed package must find its own tables. Dependencies come from this
    # interpreter's site-packages; -P keeps the working directory off the path.
    env = {k: v for k, v in os.environ.items() if k not in (prices.TABLES_ENV, "PYTHONPATH")}
    run = subprocess.run(
        [sys.executable, "-s", "-P", "-c", probe], capture_output=True, text=True, cwd=elsewhere, env={**env, "PYTHONPATH": str(site)}
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert Path(found.pop("from")).is_relative_to(site)
    assert found == {
        "karpenter": prices.ec2_on_demand("us-east-1", "m7i.large"),
        "table": 0.6003,  # the stand-in table's standard hour plus surcharge (test data)
        "support": str(version_policy.kubernetes_standard_support_ends("1.35")),
        "allocatable": list(nodes.allocatable("m7i.large")),
    }
