"""Command-line entry point: `python -m sparkeks <command>`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def _plan(args: argparse.Namespace) -> int:
    from sparkeks.plan.runner import PROJECT_ROOT, PlanError, run_plan
    from sparkeks.plan.writer import summary_of, write_plan

    project_dir = Path(args.project_dir).resolve() if args.project_dir else PROJECT_ROOT
    out_dir = Path(args.out) if args.out else project_dir / "build" / "plan" / args.stack
    try:
        plan = run_plan(args.stack, project_dir)
    except PlanError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return err.exit_code
    write_plan(plan, out_dir)
    if not args.quiet:
        print(summary_of(plan), end="")
    print(f"wrote {len(plan.resources)} resources to {out_dir}", file=sys.stderr)
    return 0


def _job(args: argparse.Namespace) -> int:
    import os

    from sparkeks.jobs.render import JobError, render_spec_file
    from sparkeks.plan.runner import PROJECT_ROOT
    from sparkeks.plan.writer import to_yaml

    project_dir = Path(args.project_dir).resolve() if args.project_dir else PROJECT_ROOT
    account = args.account_id or os.environ.get("SPARK_EKS_ACCOUNT_ID")
    try:
        job = render_spec_file(Path(args.spec), project_dir=project_dir, account_id=account)
    except JobError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    text = to_yaml(job.application)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    executor = job.application["spec"]["executor"]
    per_node = ", ".join(f"{t} {n}" for t, n in job.executors_per_node.items())
    print(
        f"executor: {executor['cores']} cores ({executor['coreRequest']} requested), "
        f"{executor['memory']} + {executor['memoryOverhead']} overhead; executors per node: {per_node}",
        file=sys.stderr,
    )
    return 0


def _config_reference(args: argparse.Namespace) -> int:
    from sparkeks.config.reference import reference_table

    print(reference_table(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sparkeks",
        description="Tools for the spark-on-eks Pulumi project.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    plan = commands.add_parser(
        "plan",
        help="show what a stack would deploy, offline",
        description=(
            "Run the real Pulumi program for STACK under mocks, against a simulated AWS account: no AWS "
            "credentials, no Pulumi CLI, no network. Reads stacks/Pulumi.STACK.yaml and writes "
            "inventory.json (every resource with its inputs and options), manifests/ (one YAML file per "
            "Kubernetes object), helm/ (one file per Helm release with merged values) and summary.md. "
            "Secret values are written as \"[secret]\". Invalid config prints one line per problem and "
            "exits 2."
        ),
    )
    plan.add_argument("stack", help="stack name, e.g. dev or prod (stacks/Pulumi.<stack>.yaml)")
    plan.add_argument("--out", metavar="DIR", help="output directory (default: build/plan/<stack>)")
    plan.add_argument("--project-dir", metavar="DIR", help=argparse.SUPPRESS)
    plan.add_argument("-q", "--quiet", action="store_true", help="do not print the summary")
    plan.set_defaults(func=_plan)

    job = commands.add_parser(
        "job",
        help="turn a short job spec into a complete SparkApplication",
        description=(
            "Read a job spec (name, stack, team, Spark line, main file/class, executor count/cores/memory, pool, "
            "optional zone) and print a SparkApplication with the platform's defaults: memory overhead, "
            "parallelism, CPU requests that pack onto the pool's nodes, event logs to the team's prefix, "
            "metrics, Dataflint, S3A with Pod Identity, decommissioning with S3 fallback storage, and node "
            "placement. Specs that cannot run print one line per problem and exit 2."
        ),
    )
    job.add_argument("spec", help="job spec YAML file (see examples/)")
    job.add_argument("--out", metavar="FILE", help="write the SparkApplication here instead of standard output")
    job.add_argument(
        "--account-id", metavar="ID", help="AWS account of the stack, when its config does not pin one (also SPARK_EKS_ACCOUNT_ID)"
    )
    job.add_argument("--project-dir", metavar="DIR", help=argparse.SUPPRESS)
    job.set_defaults(func=_job)

    ref = commands.add_parser(
        "config-reference",
        help="print the stack config reference table (Markdown)",
        description="Print every stack config key with its type, default and meaning, as the README shows it.",
    )
    ref.set_defaults(func=_config_reference)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
