"""Command-line entry point: `python -m sparkeks <command>`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


class CliError(Exception):
    """A failure the user can fix: printed as one line, exit 2, nothing written."""


def project_dir(args: argparse.Namespace) -> Path:
    """The project a command works on: `--project`, else the nearest spark-on-eks Pulumi.yaml upward."""
    from sparkeks.project import find_project

    return find_project(getattr(args, "project", None))


def _writable_file(option: str, value: str) -> Path:
    """A file an option names, checked before any work: its directory exists and it is not a directory."""
    path = Path(value)
    if path.is_dir():
        raise CliError(f"{option} {value}: is a directory; name a file")
    if not path.parent.is_dir():
        raise CliError(f"{option} {value}: directory {path.parent} does not exist; create it first")
    return path


def _plan(args: argparse.Namespace) -> int:
    from sparkeks.gc_policy import program_gc

    # The run, its checks and the writing all hold the whole plan: no full collection in between either.
    with program_gc():
        return _plan_held(args)


def _plan_held(args: argparse.Namespace) -> int:
    from sparkeks.plan.runner import PlanError, run_plan
    from sparkeks.plan.writer import mark_failed, summary_of, write_plan

    project = project_dir(args)
    out_dir = Path(args.out) if args.out else project / "build" / "plan" / args.stack
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {args.out}: exists and is not a directory; a plan is a directory of files")
    try:
        plan = run_plan(args.stack, project)
    except PlanError as err:
        mark_failed(out_dir, err.lines)
        for line in err.lines:
            print(line, file=sys.stderr)
        return err.exit_code
    except BaseException:
        mark_failed(out_dir, ["the program stopped with an error (see the traceback)"])
        raise
    write_plan(plan, out_dir)
    if not args.quiet:
        print(summary_of(plan), end="")
    print(f"wrote {len(plan.resources)} resources to {out_dir}", file=sys.stderr)
    if args.policy:
        return _policy(out_dir / "inventory.json")
    return 0


def _policy(inventory: Path) -> int:
    from sparkeks.policy.offline import check_inventory, report

    violations = check_inventory(inventory)
    for line in report(violations):
        print(line, file=sys.stderr)
    return 1 if violations else 0


def _job(args: argparse.Namespace) -> int:
    import os

    from sparkeks.jobs.render import JobError, render_spec_file
    from sparkeks.plan.writer import to_yaml

    out = _writable_file("--out", args.out) if args.out else None
    project = project_dir(args)
    account = args.account_id or os.environ.get("SPARK_EKS_ACCOUNT_ID")
    try:
        job = render_spec_file(Path(args.spec), project_dir=project, account_id=account)
    except JobError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    text = to_yaml(job.application)
    if out:
        out.write_text(text)
    else:
        print(text, end="")
    for line in job.warnings:
        print(line, file=sys.stderr)
    from sparkeks.spark.commands import job_report

    print(*job_report(job.placement), sep="\n", file=sys.stderr)
    from sparkeks.cost.job import job_cost_lines

    print("\n".join(job_cost_lines(Path(args.spec), project, job)), file=sys.stderr)
    return 0


def _zones(text: str) -> list[str]:
    return [z.strip() for z in text.split(",") if z.strip()]


def _dr_init(args: argparse.Namespace) -> int:
    from sparkeks.dr import DrInitError, dr_init

    project = project_dir(args)
    try:
        stack = dr_init(
            args.primary,
            zones=_zones(args.zones),
            spark_zones=_zones(args.spark_zones) if args.spark_zones else None,
            region=args.region,
            name=args.name,
            cidr=args.cidr,
            project_dir=project,
        )
    except DrInitError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {stack.path.relative_to(project)}")
    for key in stack.secrets_to_set:
        print(f"set before `pulumi up -s {stack.name}`: pulumi config set --secret {key} -s {stack.name}")
    print(f"preview offline: python -m sparkeks plan {stack.name}")
    if not args.no_cost:
        from sparkeks.cost.dr import dr_comparison

        print("\n".join(dr_comparison(args.primary, stack.name, project)))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from sparkeks.plan.diff import PlanDiffError, diff_plans, markdown_report

    out = _writable_file("--out", args.out) if args.out else None
    try:
        diff = diff_plans(Path(args.base), Path(args.head))
    except PlanDiffError as err:
        raise CliError(str(err)) from None
    from sparkeks.cost.delta import cost_section

    extra = [section] if diff.anything and (section := cost_section(Path(args.base), Path(args.head))) else []
    report = markdown_report(diff, title=args.title, extra=extra)
    if out:
        out.write_text(report)
    else:
        print(report, end="")
    return 1 if args.exit_code and diff.anything else 0


def _changed_stacks(args: argparse.Namespace) -> int:
    import json

    from sparkeks.ci import GitError, changed_files, stack_files, stacks_to_preview

    project = project_dir(args)
    stacks = stack_files(project)
    try:
        changed = [] if args.all else changed_files(args.base, project, uncommitted=not args.committed)
    except GitError as err:
        raise CliError(str(err)) from None
    selected = sorted(stacks) if args.all else stacks_to_preview(changed, stacks)
    print(f"stacks={json.dumps(selected)}")
    return 0


def _config_reference(args: argparse.Namespace) -> int:
    from sparkeks.config.reference import reference_table

    print(reference_table(), end="")
    return 0


def _prices_check(args: argparse.Namespace) -> int:
    from datetime import date

    from sparkeks.cost.check import check_lines

    lines, fresh = check_lines(date.fromisoformat(args.today) if args.today else date.today(), args.max_age_days)
    print("\n".join(lines))
    return 0 if fresh else 1


def _prices_refresh(args: argparse.Namespace) -> int:
    from sparkeks.cost.refresh import run

    return run(args.region, args.out)


def _init(args: argparse.Namespace) -> int:
    from sparkeks.init_project import InitError, init_project, next_steps

    directory = Path(args.directory).absolute()
    try:
        written = init_project(directory)
    except InitError as err:
        raise CliError(str(err)) from None
    print(f"wrote {len(written)} files to {directory}")
    print(*next_steps(directory), sep="\n")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from sparkeks.doctor import run

    return run(project_dir(args))


def _project_option() -> argparse.ArgumentParser:
    """`--project DIR` for every command that reads the project (stacks/, Pulumi.yaml, the program)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--project",
        "--project-dir",
        dest="project",
        metavar="DIR",
        help="the spark-on-eks checkout (default: the nearest directory upward with its Pulumi.yaml)",
    )
    return parent


def build_parser(prog: str = "sparkeks") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Tools for the spark-on-eks Pulumi project. Run inside the checkout (any subdirectory) or pass --project.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    project = _project_option()

    plan = commands.add_parser(
        "plan",
        parents=[project],
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
    plan.add_argument("-q", "--quiet", action="store_true", help="do not print the summary")
    plan.add_argument(
        "--policy",
        action="store_true",
        help="check the plan against the platform's policy pack (policy/); exit 1 with one line per violation",
    )
    plan.set_defaults(func=_plan)

    job = commands.add_parser(
        "job",
        parents=[project],
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
    job.set_defaults(func=_job)

    from sparkeks.spark.commands import register as register_size

    register_size(commands)
    from sparkeks.migrate.commands import register as register_migrate

    register_migrate(commands)

    dr = commands.add_parser("dr", help="disaster recovery: derive a DR stack from a primary", description="Disaster-recovery tools.")
    dr_commands = dr.add_subparsers(dest="dr_command", required=True, metavar="<dr command>")
    init = dr_commands.add_parser(
        "init",
        parents=[project],
        help="write stacks/Pulumi.<primary>-dr.yaml",
        description=(
            "Derive a DR stack file from PRIMARY: same teams, Spark versions and pools, its network in ZONES, "
            "its Spark capacity in zones the primary's Spark capacity does not use, a tenth of the primary's pool "
            "limits on standby (one value to scale up), and replication of the primary's event logs. Its cluster, "
            "bucket and replica names derive from --name, its VPC block is the next free one. Refuses overlapping "
            "Spark zones, zones outside the region, an existing file, and a cluster name, bucket or VPC block another "
            "stack in stacks/ already uses, one line each, exit 2."
        ),
    )
    init.add_argument("primary", help="primary stack, e.g. prod")
    init.add_argument("--zones", required=True, metavar="Z1,Z2", help="zones the DR network spans (at least 2)")
    init.add_argument("--spark-zones", metavar="Z", help="zones for Spark capacity (default: all of --zones)")
    init.add_argument("--region", help="another region for the DR stack (default: the primary's)")
    init.add_argument(
        "--name", help="DR stack name (default: <primary>-dr); its cluster, bucket and replica names derive from it"
    )
    init.add_argument("--cidr", metavar="BLOCK", help="VPC block (default: the first one of the primary's size after it that no stack uses)")
    init.add_argument("--no-cost", action="store_true", help="skip the cost comparison (it plans both stacks offline)")
    init.set_defaults(func=_dr_init)

    diff = commands.add_parser(
        "diff",
        help="compare two offline plans (Markdown report)",
        description=(
            "Compare the offline plans in BASE and HEAD (directories written by `plan`): a one-line summary; access "
            "and exposure first (IAM and resource policies statement by statement, pod identities, security group "
            "rules, public endpoint CIDRs, RBAC, NetworkPolicies, secrets shown as changed, never their values); then "
            "resources added, removed and changed with every changed input path and its whole old and new value, "
            "Helm value changes, and added or removed Kubernetes objects."
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
        parents=[project],
        help="the stacks a change touches (for pull-request previews)",
        description="Print stacks=[...] (GitHub Actions output syntax): every stack when the program changed, else the "
        "stacks whose files changed and their DR stacks. A change is everything since the merge base with --base: "
        "commits, staged and unstaged edits and new untracked files.",
    )
    changed.add_argument("--base", default="origin/main", metavar="REF", help="git ref the change is compared with (default: %(default)s)")
    changed.add_argument("--committed", action="store_true", help="only committed changes (BASE...HEAD), not the working tree")
    changed.add_argument("--all", action="store_true", help="every stack")
    changed.set_defaults(func=_changed_stacks)

    price_tools = commands.add_parser("prices", help="the pinned price table behind the cost estimates", description="Price table tools.")
    price_commands = price_tools.add_subparsers(dest="prices_command", required=True, metavar="<prices command>")
    check = price_commands.add_parser(
        "check",
        help="say how old the price table is (exit 1 when older than the limit)",
        description="Print when the price table was last checked, each source with its date, and the gaps; exit 1 when the "
        "table is older than --max-age-days (default 180).",
    )
    check.add_argument("--max-age-days", type=int, default=180, metavar="N", help="age in days past which the check fails")
    check.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    check.set_defaults(func=_prices_check)
    refresh = price_commands.add_parser(
        "refresh",
        help="rewrite the per-region tables from the AWS Price List API (needs pricing:GetProducts)",
        description="Ask the AWS Price List Query API (through the AWS CLI, with the credentials it finds) for EC2, EMR and "
        "service prices in each region and write sparkeks/cost/price_tables/<region>.json.",
    )
    refresh.add_argument("--region", action="append", metavar="REGION", help="only this region (repeatable; default: every supported region)")
    refresh.add_argument("--out", metavar="DIR", help="write the tables here (default: sparkeks/cost/price_tables)")
    refresh.set_defaults(func=_prices_refresh)

    from sparkeks.teams.cli import register as register_teams

    register_teams(commands, project)

    ref = commands.add_parser(
        "config-reference",
        help="print the stack config reference table (Markdown)",
        description="Print every stack config key with its type, default and meaning, as the README shows it.",
    )
    ref.set_defaults(func=_config_reference)

    from sparkeks.celeborn_chart import register as register_celeborn_chart

    register_celeborn_chart(commands, project)

    init = commands.add_parser(
        "init",
        help="start a project in DIR (Pulumi.yaml, the program, Helm values, dashboards, images, a dev stack)",
        description="Write a new project into DIR: Pulumi.yaml, the program (__main__.py), helm-values/, dashboards/, "
        "images/ (the Spark image definition and pins) and stacks/Pulumi.dev.yaml as an example, the files of the checkout "
        "this package was built from. The code stays in the package. Refuses a directory already holding any of them "
        "(exit 2, nothing written).",
    )
    init.add_argument("directory", metavar="DIR", help="the new project's directory (created when missing)")
    init.set_defaults(func=_init)

    doctor = commands.add_parser(
        "doctor",
        parents=[project],
        help="check the prerequisites, one line each",
        description="One line per prerequisite and what to do when one is missing: for a checkout, those of its tools and "
        "tests (Python, Java, Node, the workflow linter, the Prometheus tools, the schemas); for a project without the "
        "code, what deploying it needs (Pulumi, the AWS CLI). Exit 1 when a required one is missing.",
    )
    doctor.set_defaults(func=_doctor)

    from sparkeks.images_cli import register as register_images

    register_images(commands)
    from sparkeks.versions_cli import register as register_versions

    register_versions(commands)
    from sparkeks.addons_cli import register as register_addons

    register_addons(commands)
    return parser


# Third-party modules the commands import; missing, they mean the wrong Python, not a bug.
_DEPENDENCIES = {"yaml", "pydantic", "pulumi", "pulumi_aws", "pulumi_kubernetes", "google", "grpc", "jsonschema_rs", "kubernetes_validate"}


def _named_project(args: argparse.Namespace) -> Path | None:
    """The project a command names (`--project`; some commands spell it `--project-dir`), checked."""
    from sparkeks.project import find_project

    explicit = getattr(args, "project", None) or getattr(args, "project_dir", None)
    return find_project(explicit) if explicit else None


def main(argv: list[str] | None = None, prog: str = "sparkeks") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        from sparkeks.project import ProjectFileMissing, ProjectNotFound, project_at

        try:
            # Project files (Helm values, dashboards, image pins) come from the named project, else the one we are in.
            with project_at(_named_project(args)):
                return args.func(args)
        except (CliError, ProjectNotFound) as err:
            print(f"{prog} {args.command}: {err}", file=sys.stderr)
            return EXIT_USAGE
        except ProjectFileMissing as err:
            for line in err.problems:
                print(f"{prog} {args.command}: {line}", file=sys.stderr)
            return EXIT_USAGE
    except OSError as err:
        # A file or directory the user named could not be read or written.
        where = f"{err.filename}: " if err.filename else ""
        print(f"{prog} {args.command}: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in _DEPENDENCIES:
            raise
        print(
            f"{prog} {args.command}: {sys.executable} has no module {err.name!r}: run with the project's virtualenv "
            "(make venv, then . .venv/bin/activate) or install the command with `pip install .`",
            file=sys.stderr,
        )
        return EXIT_USAGE
