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


def _zones(text: str) -> list[str]:
    return [z.strip() for z in text.split(",") if z.strip()]


def _dr_init(args: argparse.Namespace) -> int:
    from sparkeks.dr import DrInitError, dr_init
    from sparkeks.plan.runner import PROJECT_ROOT

    project_dir = Path(args.project_dir).resolve() if args.project_dir else PROJECT_ROOT
    try:
        stack = dr_init(
            args.primary,
            zones=_zones(args.zones),
            spark_zones=_zones(args.spark_zones) if args.spark_zones else None,
            region=args.region,
            name=args.name,
            project_dir=project_dir,
        )
    except DrInitError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {stack.path.relative_to(project_dir)}")
    for key in stack.secrets_to_set:
        print(f"set before `pulumi up -s {stack.name}`: pulumi config set --secret {key} -s {stack.name}")
    print(f"preview offline: python -m sparkeks plan {stack.name}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from sparkeks.plan.diff import PlanDiffError, diff_plans, markdown_report

    try:
        diff = diff_plans(Path(args.base), Path(args.head))
    except PlanDiffError as err:
        print(str(err), file=sys.stderr)
        return EXIT_USAGE
    report = markdown_report(diff, title=args.title)
    if args.out:
        Path(args.out).write_text(report)
    else:
        print(report, end="")
    return 1 if args.exit_code and diff.anything else 0


def _changed_stacks(args: argparse.Namespace) -> int:
    import json

    from sparkeks.ci import changed_files, stack_files, stacks_to_preview
    from sparkeks.plan.runner import PROJECT_ROOT

    stacks = stack_files(PROJECT_ROOT)
    selected = sorted(stacks) if args.all else stacks_to_preview(changed_files(args.base, PROJECT_ROOT), stacks)
    print(f"stacks={json.dumps(selected)}")
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

    dr = commands.add_parser("dr", help="disaster recovery: derive a DR stack from a primary", description="Disaster-recovery tools.")
    dr_commands = dr.add_subparsers(dest="dr_command", required=True, metavar="<dr command>")
    init = dr_commands.add_parser(
        "init",
        help="write stacks/Pulumi.<primary>-dr.yaml",
        description=(
            "Derive a DR stack file from PRIMARY: same teams, Spark versions and pools, its network in ZONES, "
            "its Spark capacity in zones the primary's Spark capacity does not use, a tenth of the primary's pool "
            "limits on standby (one value to scale up), and replication of the primary's event logs. Refuses "
            "overlapping Spark zones, zones outside the region and an existing file, one line each, exit 2."
        ),
    )
    init.add_argument("primary", help="primary stack, e.g. prod")
    init.add_argument("--zones", required=True, metavar="Z1,Z2", help="zones the DR network spans (at least 2)")
    init.add_argument("--spark-zones", metavar="Z", help="zones for Spark capacity (default: all of --zones)")
    init.add_argument("--region", help="another region for the DR stack (default: the primary's)")
    init.add_argument("--name", help="DR stack name (default: <primary>-dr)")
    init.add_argument("--project-dir", metavar="DIR", help=argparse.SUPPRESS)
    init.set_defaults(func=_dr_init)

    diff = commands.add_parser(
        "diff",
        help="compare two offline plans (Markdown report)",
        description=(
            "Compare the offline plans in BASE and HEAD (directories written by `plan`): resources added, removed "
            "and changed with the changed input paths and old -> new values (secrets shown as changed, never their "
            "values), Kubernetes manifest and Helm value changes, and a one-line summary."
        ),
    )
    diff.add_argument("base", help="plan directory of the base (e.g. build/plan/prod from main)")
    diff.add_argument("head", help="plan directory of the change")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when anything changed")
    diff.add_argument("--title", help="heading of the report (default: the stack)")
    diff.add_argument("--out", metavar="FILE", help="write the report here instead of standard output")
    diff.set_defaults(func=_diff)

    changed = commands.add_parser(
        "changed-stacks",
        help="the stacks a change touches (for pull-request previews)",
        description="Print stacks=[...] (GitHub Actions output syntax): every stack when the program changed, else the "
        "stacks whose files changed and their DR stacks.",
    )
    changed.add_argument("--base", default="origin/main", help="git ref the change is compared with")
    changed.add_argument("--all", action="store_true", help="every stack")
    changed.set_defaults(func=_changed_stacks)

    ref = commands.add_parser(
        "config-reference",
        help="print the stack config reference table (Markdown)",
        description="Print every stack config key with its type, default and meaning, as the README shows it.",
    )
    ref.set_defaults(func=_config_reference)

    from sparkeks.images_cli import register as register_images

    register_images(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
