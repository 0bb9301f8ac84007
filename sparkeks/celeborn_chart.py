"""Unpack the pinned Apache Celeborn Helm chart into the project, for `pulumi up` of stacks with
`spark.shuffle.service: celeborn` (`make celeborn-chart` in a checkout, `sparkeks celeborn-chart` anywhere).

Celeborn publishes no Helm repository: the chart ships inside the release's source archive. This fetches the
archive from the Apache archive, checks it against the SHA-512 Apache publishes beside it, and unpacks
`charts/celeborn` to `sparkeks.versions.CELEBORN_CHART_DIR` in the project (the path the Celeborn release
names, relative to the project where Pulumi runs), refusing a chart whose version is not the pin.

    sparkeks celeborn-chart [--project-dir DIR]
    sparkeks celeborn-chart --archive apache-celeborn-0.7.0-source.tgz --sha512 <file>   # an offline copy
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import shutil
import sys
from pathlib import Path

from sparkeks import versions

CHART_PREFIX = "charts/celeborn/"


class ChartError(Exception):
    pass


def published_sha512(text: str, archive_name: str) -> str:
    """The hex digest from an Apache `.sha512` file (`<hex>  <name>`, or gpg's `<name>: <hex in groups>`)."""
    body = text.replace(archive_name, " ").replace(":", " ")
    digits = "".join(re.findall(r"[0-9a-fA-F]+", body)).lower()
    if len(digits) != 128:
        raise ChartError(f"{archive_name}.sha512: no SHA-512 digest found")
    return digits


def unpack_chart(archive: bytes, expected_sha512: str, target: Path) -> Path:
    """Check the archive, then write its `charts/celeborn` to `target` (replacing what is there)."""
    actual = hashlib.sha512(archive).hexdigest()
    if actual != expected_sha512:
        raise ChartError(f"archive SHA-512 {actual[:16]}... does not match the published {expected_sha512[:16]}...")
    import tarfile  # here: the CLI registers this command on every run

    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    found = False
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            _, _, inner = member.name.partition("/")  # drop the archive's top folder
            if not inner.startswith(CHART_PREFIX) or not (member.isfile() or member.isdir()):
                continue
            relative = Path(inner[len(CHART_PREFIX):])
            if relative.is_absolute() or ".." in relative.parts:
                raise ChartError(f"unsafe path in archive: {member.name}")
            found = True
            destination = staging / relative
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            destination.write_bytes(source.read())
    if not found:
        raise ChartError(f"the archive has no {CHART_PREFIX}")
    chart = (staging / "Chart.yaml").read_text()
    version = re.search(r"^version:\s*(\S+)", chart, re.M)
    app_version = re.search(r"^appVersion:\s*(\S+)", chart, re.M)
    pinned = (versions.CELEBORN_CHART_VERSION, versions.CELEBORN_VERSION)
    if (version and version[1], app_version and app_version[1].strip("\"'")) != pinned:
        shutil.rmtree(staging)
        raise ChartError(f"chart is {version and version[1]} (Celeborn {app_version and app_version[1]}), the pin is {pinned[0]} (Celeborn {pinned[1]})")
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    return target


def _read(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - a fixed https URL
        return response.read()


def _chart(args: argparse.Namespace) -> int:
    from sparkeks.cli import project_dir

    url = versions.CELEBORN_RELEASE_URL
    name = url.rsplit("/", 1)[-1]
    target = project_dir(args) / versions.CELEBORN_CHART_DIR
    try:
        archive = args.archive.read_bytes() if args.archive else _read(url)
        checksum = args.sha512.read_text() if args.sha512 else _read(f"{url}.sha512").decode()
        unpack_chart(archive, published_sha512(checksum, name), target)
    except (ChartError, OSError) as err:
        print(f"sparkeks celeborn-chart: {err}", file=sys.stderr)
        return 2
    print(f"Celeborn chart {versions.CELEBORN_CHART_VERSION} (Celeborn {versions.CELEBORN_VERSION}) in {target}")
    return 0


def register(commands: argparse._SubParsersAction, project: argparse.ArgumentParser) -> None:
    chart = commands.add_parser(
        "celeborn-chart",
        parents=[project],
        help="unpack the pinned Celeborn chart into the project (pulumi up of a stack with Celeborn needs it)",
        description=__doc__.splitlines()[0] + " Fetches Apache's release archive and its published SHA-512 unless given both.",
    )
    chart.add_argument("--archive", type=Path, metavar="FILE", help="a local copy of the release's source archive")
    chart.add_argument("--sha512", type=Path, metavar="FILE", help="the .sha512 file published beside it")
    chart.set_defaults(func=_chart)
