"""`python -m sparkeks images ...`: what the images workflow reads and writes, and what a reviewer checks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sparkeks import images
from sparkeks.versions import SPARK_RUNTIMES, MavenJar


def _fail(lines: list[str]) -> int:
    print("\n".join(lines), file=sys.stderr)
    return 2


def _status(args: argparse.Namespace) -> int:
    pins = images.load_pins()
    for line, state in images.status(pins).items():
        entry = pins[line]
        print(f"{line}  {state:<8}  {SPARK_RUNTIMES[line].base_image}  image {entry.image_digest or '-'}")
    return 0


def _build_args(args: argparse.Namespace) -> int:
    pins = images.load_pins()
    try:
        values = images.build_args(args.line, pins)
        values["BUILD_INPUTS"] = images.build_inputs(args.line, pins)
    except images.PinsError as err:
        return _fail(err.problems)
    for key, value in values.items():
        print(f"{key}={value}")
    return 0


def _unpinned(args: argparse.Namespace) -> int:
    """One line per missing pin: `base <line> <image>` or `jar <line> <coordinate> <url>`."""
    pins = images.load_pins()
    for line, runtime in SPARK_RUNTIMES.items():
        if pins[line].base_digest is None:
            print(f"base {line} {runtime.base_image}")
        for coordinate in runtime.jars:
            if pins[line].jars.get(coordinate) is None:
                print(f"jar {line} {coordinate} {MavenJar(coordinate).url}")
    return 0


def _to_build(args: argparse.Namespace) -> int:
    """`lines=[...]` (GitHub Actions output syntax): lines whose image is missing or built from older inputs."""
    states = images.status(images.load_pins())
    print("lines=" + json.dumps([line for line, state in states.items() if state in ("unbuilt", "stale")]))
    return 0


def _pin(args: argparse.Namespace) -> int:
    pins = dict(images.load_pins())
    entry = pins[args.line]
    jars = dict(entry.jars)
    problems = []
    for item in args.jar or []:
        coordinate, _, sha = item.partition("=")
        if coordinate not in jars:
            problems.append(f"--jar {item}: {coordinate} is not a jar of Spark {args.line}; jars: {', '.join(jars)}")
        elif not images.SHA256.match(sha):
            problems.append(f"--jar {item}: the SHA-256 must be 64 lowercase hex")
        else:
            jars[coordinate] = sha
    if args.base is not None and not images.DIGEST.match(args.base):
        problems.append(f"--base {args.base}: must be sha256:<64 hex>")
    if args.image is not None and not images.DIGEST.match(args.image):
        problems.append(f"--image {args.image}: must be sha256:<64 hex>")
    if problems:
        return _fail(problems)
    entry = images.LinePins(args.base or entry.base_digest, jars, entry.image_digest, entry.built_from)
    pins[args.line] = entry
    if args.image is not None:
        # The image records what it was built from, so a later pin change shows it as stale.
        if args.built_from is None:
            return _fail(["--image needs --built-from (the BUILD_INPUTS the image was built with)"])
        pins[args.line] = images.LinePins(entry.base_digest, jars, args.image, args.built_from)
    images.write_pins(pins)
    return 0


def _targets(args: argparse.Namespace) -> int:
    """`targets=[...]`: per stack, the account, region and repositories the workflow pushes to."""
    from sparkeks.plan.runner import PlanError, load_stack

    out, problems = [], []
    for path in sorted(Path(args.project_dir).glob("stacks/Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        try:
            config = load_stack(stack, Path(args.project_dir))
        except PlanError as err:
            problems.extend(err.lines)
            continue
        if config.known_account_id is None:
            problems.append(f"{path}: aws:allowedAccountIds: the images workflow needs the stack's account to push to its registry")
            continue
        cluster = config.resolved_cluster_name(stack)
        out.append(
            {
                "stack": stack,
                "account": config.known_account_id,
                "region": config.region,
                "registry": images.registry_host(config.known_account_id, config.region),
                "repositories": {line: images.repository_name(cluster, line) for line in SPARK_RUNTIMES},
            }
        )
    if problems:
        return _fail(problems)
    print("targets=" + json.dumps(out, separators=(",", ":")))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "images",
        help="the platform's Spark images: pins, build arguments, registries",
        description="Read and update images/pins.json, the one place the Spark images' digests and jar checksums are pinned.",
    )
    sub = parser.add_subparsers(dest="images_command", required=True, metavar="<images command>")
    sub.add_parser("status", help="per line: unpinned, unbuilt, stale or current").set_defaults(func=_status)
    build = sub.add_parser("build-args", help="KEY=VALUE build arguments of images/Dockerfile for a line")
    build.add_argument("line", choices=list(SPARK_RUNTIMES))
    build.set_defaults(func=_build_args)
    sub.add_parser("unpinned", help="base images and jars without a pinned digest or checksum").set_defaults(func=_unpinned)
    sub.add_parser("to-build", help="lines=[...] whose image is missing or stale").set_defaults(func=_to_build)
    pin = sub.add_parser("pin", help="record a verified digest or checksum in images/pins.json")
    pin.add_argument("line", choices=list(SPARK_RUNTIMES))
    pin.add_argument("--base", metavar="DIGEST", help="digest of the line's official Spark image")
    pin.add_argument("--jar", action="append", metavar="COORDINATE=SHA256", help="SHA-256 of a jar, verified against Maven Central's SHA-1")
    pin.add_argument("--image", metavar="DIGEST", help="digest of the platform image the workflow built and pushed")
    pin.add_argument("--built-from", metavar="HASH", help="BUILD_INPUTS of that build (from build-args)")
    pin.set_defaults(func=_pin)
    targets = sub.add_parser("targets", help="targets=[...]: each stack's account, region and repositories")
    targets.add_argument("--project-dir", default=".", help=argparse.SUPPRESS)
    targets.set_defaults(func=_targets)
