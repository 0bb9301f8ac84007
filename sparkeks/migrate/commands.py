"""`sparkeks migrate`: move YARN jobs over, from their spark-submit lines or their event logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


class _Usage(Exception):
    def __init__(self, lines: list[str]):
        self.lines = lines


def _dump(spec: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=False, width=120)


def _target(args: argparse.Namespace):
    from sparkeks.config.loader import ConfigError
    from sparkeks.migrate.submit import Target
    from sparkeks.plan.runner import PlanError, load_stack
    from sparkeks.versions import NEWEST_SPARK, SPARK_RUNTIMES

    try:
        config = load_stack(args.stack)  # of the project the CLI works on (--project-dir, else the one we are in)
    except (PlanError, ConfigError) as err:
        lines = err.lines if isinstance(err, PlanError) else err.problems
        raise _Usage([f"--stack: {args.stack}: {lines[0]}", *lines[1:]]) from None
    teams = [t.name for t in config.teams]
    if args.team not in teams:
        raise _Usage([f"--team: {args.team}: no such team in stack {args.stack}; teams: {', '.join(teams) or 'none'}"])
    version = args.spark_version or NEWEST_SPARK
    if version not in SPARK_RUNTIMES:
        raise _Usage([f"--spark-version: {version}: no pinned image; supported Spark lines: {', '.join(SPARK_RUNTIMES)}"])
    target = Target(args.stack, args.team, version, config.spark.memory_overhead_factor, config.spark.non_jvm_memory_overhead_factor)
    return target, config


def _validated(spec: dict[str, Any], where: str) -> None:
    from pydantic import ValidationError

    from sparkeks.config.errors import problem_lines
    from sparkeks.jobs.spec import JobSpec

    try:
        JobSpec.model_validate(spec)
    except ValidationError as err:
        raise _Usage(problem_lines(where, err, JobSpec)) from None


def run_submit(args: argparse.Namespace) -> int:
    from sparkeks.migrate.submit import MigrateError, migrate_command, split_lines

    try:
        target, _ = _target(args)
        if args.file and args.command_line:
            raise _Usage(["give either --file or a command line after --, not both"])
        if args.file:
            path = Path(args.file)
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError) as err:
                raise _Usage([f"{path}: cannot read: {getattr(err, 'strerror', None) or err}"]) from None
            try:
                lines = split_lines(text)
            except MigrateError as err:
                raise _Usage([f"{path}: {p}" for p in err.problems]) from None
            if not lines:
                raise _Usage([f"{path}: no spark-submit command lines in it"])
            sources = [(f"{path}:{n}", words) for n, words in lines]
        else:
            words = [w for w in args.command_line if w != "--"]
            if not words:
                raise _Usage(["no command line: give one after --, or --file FILE"])
            sources = [("command line", words)]
        migrations, problems = [], []
        for where, words in sources:
            try:
                migration = migrate_command(words, target)
                _validated(migration.spec, where)
                migrations.append((where, migration))
            except MigrateError as err:
                problems.extend(f"{where}: {p}" for p in err.problems)
            except _Usage as err:
                problems.extend(err.lines)
        names = [m.spec["name"] for _, m in migrations]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"name {name}: more than one command line gives this name; set distinct --name values")
        if problems:
            raise _Usage(problems)
    except _Usage as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return EXIT_USAGE

    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for where, migration in migrations:
            (out / f"{migration.spec['name']}.yaml").write_text(_dump(migration.spec))
            print(f"wrote {out / (migration.spec['name'] + '.yaml')} (from {where})", file=sys.stderr)
    else:
        print("---\n".join(_dump(m.spec) for _, m in migrations), end="")
    for where, migration in migrations:
        for note in migration.notes:
            print(f"{where}: {note}", file=sys.stderr)
    return 0


def run_event_log(args: argparse.Namespace) -> int:
    from sparkeks.migrate.eventlog import EventLogError, read_event_log
    from sparkeks.migrate.recommend import recommend, report_lines
    from sparkeks.spark.sizing import SizingError

    try:
        target, config = _target(args)
        try:
            app = read_event_log(Path(args.path))
        except EventLogError as err:
            raise _Usage([str(err)]) from None
        pool = config.karpenter.pools.pool(args.pool)
        try:
            result = recommend(app, target, pool.instance_types(), observability=config.observability.enabled, main_file=args.main_file)
        except SizingError as err:
            raise _Usage([f"{args.path}: {err}"]) from None
        _validated(result.spec, str(args.path))
    except _Usage as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    text = _dump(result.spec)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    print(*report_lines(result), sep="\n", file=sys.stderr)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack the job will run on (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--team", required=True, help="team (namespace) that owns the job; replaces the YARN queue")
    parser.add_argument("--spark-version", help="Spark line of the image, e.g. 3.5 (default: the newest pinned)")
    parser.add_argument("--project-dir", metavar="DIR", help=argparse.SUPPRESS)


def register(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser("migrate", help="move YARN jobs over: spark-submit lines and event logs to job specs", description="Migration from YARN.")
    sub = migrate.add_subparsers(dest="migrate_command", required=True, metavar="<migrate command>")

    submit = sub.add_parser(
        "submit",
        help="spark-submit command lines -> job specs",
        description=(
            "Turn a spark-submit command line (after --) or a file of them (one per line, \\ continues a line, # comments) "
            "into job specs for TEAM on STACK: executors, cores, memory, driver, --conf, --class, --jars, --py-files, "
            "--files, --packages and the application with its arguments. Settings the platform derives the same way "
            "(memory overhead, parallelism) are checked and dropped; YARN-only ones (queue, spark.yarn.*) are mapped to "
            "their equivalent or reported as having none. Prints the specs (YAML) and one note per decision on stderr. "
            "Unreadable or foreign input: one line each, exit 2."
        ),
    )
    _common(submit)
    submit.add_argument("--file", help="file of spark-submit command lines")
    submit.add_argument("--out-dir", metavar="DIR", help="write one <name>.yaml per job here instead of standard output")
    submit.add_argument("command_line", nargs=argparse.REMAINDER, help="-- spark-submit ...")
    submit.set_defaults(func=run_submit)

    event_log = sub.add_parser(
        "event-log",
        help="a Spark event log -> a right-sized job spec",
        description=(
            "Read a Spark event log (a plain file, one compressed with lz4, snappy or zstd as Spark writes them, or a "
            "rolling eventlog_v2_* directory, as the YARN History Server stores them) and recommend a job spec sized by "
            "what the job used: peak JVM heap, off-heap and Python memory per executor, task time per core, GC time, "
            "spill, shuffle and executors over time. Prints the spec and a report of observed vs requested. "
            "Unreadable or foreign input: one line, exit 2."
        ),
    )
    _common(event_log)
    event_log.add_argument("path", help="event log file or rolling event log directory")
    event_log.add_argument("--pool", choices=("executor", "executorNvme"), default="executor", help="executor pool to size for")
    event_log.add_argument("--main-file", help="application file (s3a://...) when the log does not name one, or to replace a local path")
    event_log.add_argument("--out", metavar="FILE", help="write the spec here instead of standard output")
    event_log.set_defaults(func=run_event_log)
