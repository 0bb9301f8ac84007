"""`python -m sparkeks versions`: every pin with its newest release, end of life and advisories."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

EXIT_USAGE = 2


def _versions(args: argparse.Namespace) -> int:
    from sparkeks.version_policy import SUPPORT_FILE, SupportFileError, evaluate, markdown_table

    try:
        on = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"--date: {args.date!r} is not a date like 2027-03-31", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.support_file) if args.support_file else SUPPORT_FILE
    try:
        report = evaluate(on, path)
    except (OSError, SupportFileError) as err:
        print(f"{path}: {err.strerror}" if isinstance(err, OSError) else str(err), file=sys.stderr)
        return EXIT_USAGE
    print(markdown_table(report), end="")
    if not args.check:
        return 0
    for failure in report.failures:
        print(f"unsupported: {failure}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} pin(s) out of policy on {report.on.isoformat()}: upgrade, or add a dated waiver to {path.name}", file=sys.stderr)
        return 1
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    versions = commands.add_parser(
        "versions",
        help="pinned versions: newest releases, end of life, advisories",
        description=(
            "Print every version the platform pins (sparkeks/versions.py) with the newest known release, the "
            "end-of-life date where upstream publishes one and the advisories that affect the pin, from "
            "sparkeks/support.yaml. With --check, exit 1 when a pin is past its end of life or carries an "
            "advisory that no unexpired waiver accepts."
        ),
    )
    versions.add_argument("--check", action="store_true", help="exit 1 when a pin is out of policy")
    versions.add_argument("--date", metavar="YYYY-MM-DD", help="evaluate on this day instead of today (what breaks next month?)")
    versions.add_argument("--support-file", metavar="FILE", help=argparse.SUPPRESS)
    versions.set_defaults(func=_versions)
