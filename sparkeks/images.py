"""The platform's Spark images: one per Spark line, built from `images/Dockerfile`, pinned in `images/pins.json`.

`sparkeks/versions.py` says *what* goes into each image (the official Spark image, hadoop-aws, the AWS SDK,
Dataflint). `images/pins.json` says *which bytes*: the digest of the official image, the SHA-256 of each
jar, and the digest of the platform image built from them. The images workflow fills in what is missing
and opens a pull request, so every pin is reviewed like any other change; nothing here is guessed.

Jobs and the History Server reference the platform image by digest only. A line whose image was never
built has no digest: jobs of that line are refused and the History Server waits (see `platform_image`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparkeks.versions import SPARK_RUNTIMES, MavenJar, SparkRuntime

# The project's files (sparkeks/project.py): the reviewed pins and the build definition of every line.
PINS_FILE = "images/pins.json"
DOCKERFILE = "images/Dockerfile"
# Another pins file (tests; trying images built elsewhere). Deployments use the reviewed images/pins.json.
PINS_ENV = "SPARK_EKS_IMAGE_PINS"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# ECR keeps this many images per repository; older ones expire (running pods keep theirs until restarted).
KEEP_IMAGES = 30


class PinsError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LinePins:
    base_digest: str | None = None
    jars: dict[str, str | None] = field(default_factory=dict)
    image_digest: str | None = None
    built_from: str | None = None
    """`build_inputs` of the build that produced `image_digest`: tells a current image from a stale one."""

    def to_json(self, runtime: SparkRuntime) -> dict[str, Any]:
        return {
            "base": {"image": runtime.base_image, "digest": self.base_digest},
            "jars": {coordinate: self.jars.get(coordinate) for coordinate in runtime.jars},
            "image": {"digest": self.image_digest, "builtFrom": self.built_from},
        }


def pins_path() -> Path:
    from sparkeks.project import project_file

    override = os.environ.get(PINS_ENV)
    return Path(override) if override else project_file(PINS_FILE)


def _check(label: str, value: Any, pattern: re.Pattern[str], what: str) -> list[str]:
    if value is None or (isinstance(value, str) and pattern.match(value)):
        return []
    return [f"{label}: {json.dumps(value)}: must be {what} or null (not pinned yet)"]


def parse_pins(data: Any, label: str) -> dict[str, LinePins]:
    """Validate the pins file: known lines only, each pin null or well-formed, the base image and jars
    exactly the ones versions.py names for the line (a stale entry is a problem, not silently ignored)."""
    if not isinstance(data, dict):
        raise PinsError([f"{label}: must be a mapping of Spark line to pins"])
    problems: list[str] = []
    pins: dict[str, LinePins] = {}
    for line, entry in data.items():
        at = f"{label}: {line}"
        runtime = SPARK_RUNTIMES.get(line)
        if runtime is None:
            problems.append(f"{at}: not a supported Spark line; supported: {', '.join(SPARK_RUNTIMES)}")
            continue
        if not isinstance(entry, dict) or set(entry) != {"base", "jars", "image"}:
            problems.append(f"{at}: must have exactly the keys base, jars, image")
            continue
        base, jars, image = entry["base"], entry["jars"], entry["image"]
        if not isinstance(base, dict) or base.get("image") != runtime.base_image:
            problems.append(f"{at}.base.image: {json.dumps(base.get('image') if isinstance(base, dict) else base)}: versions.py pins {runtime.base_image}")
            continue
        problems += _check(f"{at}.base.digest", base.get("digest"), DIGEST, "sha256:<64 hex>")
        if not isinstance(jars, dict) or list(jars) != list(runtime.jars):
            problems.append(f"{at}.jars: must list exactly {', '.join(runtime.jars)} (versions.py), in that order")
            continue
        for coordinate, sha in jars.items():
            problems += _check(f"{at}.jars.{coordinate}", sha, SHA256, "64 lowercase hex (SHA-256)")
        if not isinstance(image, dict) or set(image) != {"digest", "builtFrom"}:
            problems.append(f"{at}.image: must have exactly the keys digest, builtFrom")
            continue
        problems += _check(f"{at}.image.digest", image["digest"], DIGEST, "sha256:<64 hex>")
        problems += _check(f"{at}.image.builtFrom", image["builtFrom"], SHA256, "64 lowercase hex")
        if (image["digest"] is None) != (image["builtFrom"] is None):
            problems.append(f"{at}.image: digest and builtFrom are pinned together")
        pins[line] = LinePins(base.get("digest"), dict(jars), image["digest"], image["builtFrom"])
    missing = [line for line in SPARK_RUNTIMES if line not in data]
    if missing:
        problems.append(f"{label}: no entry for Spark line {', '.join(missing)}; run `python -m sparkeks images sync`")
    if problems:
        raise PinsError(problems)
    return pins


_cache: dict[Path, dict[str, LinePins]] = {}


def load_pins(path: Path | None = None) -> dict[str, LinePins]:
    path = path or pins_path()
    if path not in _cache:
        try:
            data = json.loads(path.read_text())
        except OSError as err:
            raise PinsError([f"{path}: cannot read: {err.strerror}"]) from None
        except json.JSONDecodeError as err:
            raise PinsError([f"{path}: not valid JSON: {err.msg} (line {err.lineno})"]) from None
        _cache[path] = parse_pins(data, str(path))
    return _cache[path]


def write_pins(pins: dict[str, LinePins], path: Path | None = None) -> None:
    path = path or pins_path()
    data = {line: pins.get(line, LinePins()).to_json(runtime) for line, runtime in SPARK_RUNTIMES.items()}
    path.write_text(json.dumps(data, indent=2) + "\n")
    _cache.pop(path, None)


def repository_name(cluster_name: str, line: str) -> str:
    """The ECR repository of a line's image in a stack's account and region."""
    return f"{cluster_name}/spark-{line}"


def registry_host(account_id: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account_id}.dkr.ecr.{region}.{suffix}"


def platform_image(line: str, *, account_id: str, region: str, cluster_name: str, pins: dict[str, LinePins] | None = None) -> str | None:
    """`<registry>/<cluster>/spark-<line>@sha256:...`, or None while the line's image was never built.

    A digest built from older inputs (a jar bumped since) is still the last reviewed image and is used
    until the workflow's next build replaces it; `sparkeks images status` shows which lines are stale.
    """
    digest = (pins if pins is not None else load_pins())[line].image_digest
    if digest is None:
        return None
    return f"{registry_host(account_id, region)}/{repository_name(cluster_name, line)}@{digest}"


def jar_args(line: str, pins: dict[str, LinePins]) -> list[str]:
    """`<url>#<sha256>` per jar, the Dockerfile's PLATFORM_JARS; refuses while a checksum is unpinned."""
    runtime = SPARK_RUNTIMES[line]
    unpinned = [c for c in runtime.jars if pins[line].jars.get(c) is None]
    if unpinned:
        raise PinsError([f"images/pins.json: {line}.jars: no SHA-256 pinned for {', '.join(unpinned)}; the images workflow pins them"])
    return [f"{MavenJar(c).url}#{pins[line].jars[c]}" for c in runtime.jars]


def build_args(line: str, pins: dict[str, LinePins]) -> dict[str, str]:
    """Every build argument of `images/Dockerfile` for a line: the base image by digest and the jars."""
    runtime = SPARK_RUNTIMES[line]
    digest = pins[line].base_digest
    if digest is None:
        raise PinsError([f"images/pins.json: {line}.base.digest: {runtime.base_image} has no pinned digest; the images workflow pins it"])
    return {
        "BASE_IMAGE": f"{runtime.base_image}@{digest}",
        "PLATFORM_JARS": " ".join(jar_args(line, pins)),
        "SPARK_VERSION": runtime.spark_version,
    }


def build_inputs(line: str, pins: dict[str, LinePins], dockerfile: Path | None = None) -> str:
    """Hash of everything a build of the line reads: the Dockerfile (the project's) and its build arguments."""
    from sparkeks.project import project_file

    digest = hashlib.sha256((dockerfile or project_file(DOCKERFILE)).read_bytes())
    for key, value in sorted(build_args(line, pins).items()):
        digest.update(f"\0{key}={value}".encode())
    return digest.hexdigest()


def status(pins: dict[str, LinePins]) -> dict[str, str]:
    """Per line: `unpinned` (base or jars missing), `unbuilt`, `stale` (built from other inputs) or `current`."""
    out = {}
    for line in SPARK_RUNTIMES:
        try:
            inputs = build_inputs(line, pins)
        except PinsError:
            out[line] = "unpinned"
            continue
        entry = pins[line]
        out[line] = "unbuilt" if entry.image_digest is None else ("current" if entry.built_from == inputs else "stale")
    return out
