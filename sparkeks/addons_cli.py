"""`python -m sparkeks addons ...`: the add-on builds a plan configures, and their configuration checked
against the schemas EKS publishes for those builds (see sparkeks/addon_schemas.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sparkeks.addon_schemas import AddonCheckError, configurations, fetch_command, problems


def _plan_dir(args: argparse.Namespace) -> Path:
    from sparkeks.project import find_project

    return Path(args.plan) if args.plan else find_project(args.project) / "build" / "plan" / args.stack


def _list(args: argparse.Namespace) -> int:
    try:
        found = configurations(_plan_dir(args))
    except AddonCheckError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return 2
    for configuration in found:
        if args.fetch_into:
            print(fetch_command(configuration, args.fetch_into))
        else:
            print(f"{configuration.addon} {configuration.version} {'configured' if configuration.values else 'defaults'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        lines = problems(_plan_dir(args), Path(args.schemas))
    except AddonCheckError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return 2
    for line in lines:
        print(line, file=sys.stderr)
    if not lines:
        print(f"every add-on configuration of {args.stack} is valid for its pinned build", file=sys.stderr)
    return 1 if lines else 0


def register(commands: argparse._SubParsersAction) -> None:
    addons = commands.add_parser(
        "addons", help="EKS add-on builds of a plan and their configuration checked against EKS's schemas", description=__doc__
    )
    sub = addons.add_subparsers(dest="addons_command", required=True, metavar="<addons command>")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("stack", help="stack whose offline plan to read (run `plan` first)")
    common.add_argument("--plan", metavar="DIR", help="plan directory (default: build/plan/<stack>)")
    common.add_argument("--project", metavar="DIR", help="project directory (default: found upward from here)")

    listing = sub.add_parser(
        "list",
        parents=[common],
        help="the add-on builds the plan installs",
        description="One line per add-on: name, pinned build, and whether the platform configures it. With --fetch-into, "
        "print instead the AWS CLI command that saves each build's configuration schema into DIR.",
    )
    listing.add_argument("--fetch-into", metavar="DIR", help="print the `aws eks describe-addon-configuration` commands")
    listing.set_defaults(func=_list)

    check = sub.add_parser(
        "check",
        parents=[common],
        help="validate the plan's add-on configuration against the fetched schemas",
        description="Validate each add-on's configurationValues in the plan against <addon>@<build>.json in --schemas "
        "(the configurationSchema EKS returns). One line per problem; exit 1 when any, 2 when the plan is missing.",
    )
    check.add_argument("--schemas", required=True, metavar="DIR", help="folder of fetched schemas")
    check.set_defaults(func=_check)
