"""`python -m sparkeks teams import|report`: registered by sparkeks/cli.py, implemented here."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2


def _project_dir(args: argparse.Namespace) -> Path:
    from sparkeks.cli import project_dir

    return project_dir(args)


def _import(args: argparse.Namespace) -> int:
    from sparkeks.config.base import _QUANTITY
    from sparkeks.config.loader import ConfigError, load_stack_config
    from sparkeks.plan.runner import PlanError, load_stack, read_stack
    from sparkeks.teams.importer import import_queues, total_from
    from sparkeks.teams.queues import queue_tree
    from sparkeks.teams.xmlfile import ImportProblems
    from sparkeks.teams.yarn import Exact

    problems = []
    if (args.total_cpu is None) != (args.total_memory is None):
        problems.append("--total-cpu and --total-memory go together: give both or neither")
    if args.total_cpu is not None and args.total_cpu <= 0:
        problems.append(f"--total-cpu: {args.total_cpu}: must be a positive number of vCPUs")
    if args.total_memory is not None and (not _QUANTITY.match(args.total_memory) or args.total_memory.startswith("0")):
        problems.append(f"--total-memory: {args.total_memory}: must be a memory quantity like 4000Gi (Ki, Mi, Gi or Ti)")
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    project_dir = _project_dir(args)
    total = total_from(args.total_cpu, args.total_memory)
    if args.stack and total is None:
        try:
            # The stack file's own capacity: a DR standby scales what is imported when it deploys.
            capacity = queue_tree(load_stack(args.stack, project_dir), scale=1.0).capacity
        except (PlanError, ConfigError) as err:
            for line in err.lines if isinstance(err, PlanError) else err.problems:
                print(f"--stack {args.stack}: {line}", file=sys.stderr)
            return EXIT_USAGE
        from fractions import Fraction

        total = Exact(Fraction(capacity.cpu), Fraction(capacity.memory_mib))
    try:
        result = import_queues(Path(args.file), total)
    except ImportProblems as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    if args.stack:
        stack_input = read_stack(args.stack, project_dir)
        raw = {k: v for k, v in stack_input.config.items() if k not in ("spark-on-eks:orgs", "spark-on-eks:teams")}
        for key, value in result.block().items():
            raw[key] = json.dumps(value)
        try:
            load_stack_config(args.stack, raw, stack_input.secret_keys)
        except ConfigError as err:
            print(f"the imported teams do not fit stack {args.stack}:", file=sys.stderr)
            for line in err.problems:
                print(line, file=sys.stderr)
            return EXIT_USAGE
    print(result.text(), end="")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sparkeks.config.loader import ConfigError
    from sparkeks.plan.runner import PlanError, load_stack
    from sparkeks.teams.report import markdown_report

    try:
        config = load_stack(args.stack, _project_dir(args))
    except (PlanError, ConfigError) as err:
        for line in err.lines if isinstance(err, PlanError) else err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    print(markdown_report(args.stack, config), end="")
    return 0


def register(commands: argparse._SubParsersAction, project: argparse.ArgumentParser) -> None:
    """`project` is the CLI's shared `--project` option."""
    teams = commands.add_parser(
        "teams", help="team queues: import YARN queues, report a stack's queues", description="Team queue tools."
    )
    sub = teams.add_subparsers(dest="teams_command", required=True, metavar="<teams command>")
    imp = sub.add_parser(
        "import",
        parents=[project],
        help="turn a YARN capacity-scheduler.xml or fair-scheduler.xml into orgs and teams",
        description=(
            "Read a Hadoop CapacityScheduler (capacity-scheduler.xml) or Fair Scheduler (fair-scheduler.xml) config and "
            "print the spark-on-eks:orgs and spark-on-eks:teams of a stack file, followed by a report (as YAML comments) of "
            "what maps one-to-one, what is approximated and what has no equivalent, each with its queue path. Percentages "
            "become absolute amounts of --total-cpu/--total-memory, or of the Spark pool limits of --stack (which the "
            "result must also fit). Malformed XML, unknown properties and capacities that do not add up print one line "
            "each and exit 2."
        ),
    )
    imp.add_argument("file", help="capacity-scheduler.xml or fair-scheduler.xml")
    imp.add_argument("--total-cpu", type=int, metavar="N", help="vCPUs that 100%% of the YARN cluster becomes")
    imp.add_argument("--total-memory", metavar="M", help="memory that 100%% of the YARN cluster becomes, e.g. 4000Gi")
    imp.add_argument(
        "--stack", help="stack whose Spark pool limits are 100%% (unless --total-* is given) and which the teams must fit"
    )
    imp.set_defaults(func=_import)
    rep = sub.add_parser(
        "report",
        parents=[project],
        help="a stack's team queues as a Markdown table",
        description=(
            "Per organisation and team: guaranteed share, max, what it can burst to when every other team is idle, "
            "and warnings (guarantees that leave no room to lend, teams with no guarantee)."
        ),
    )
    rep.add_argument("stack", help="stack name, e.g. prod")
    rep.set_defaults(func=_report)
