"""One program run of `pulumi up` against the local engine stand-in: start bench/grpc_engine.py, run
bench/up_program.py against it as the language host would, and collect both sides' accounts.

The stack's config reaches the program the way the CLI hands it over, as JSON in `PULUMI_CONFIG` (read
from the stack file by sparkeks.plan.runner.read_stack, so secure values are the offline plan's
placeholders). Parallelism is the CLI's default for `pulumi up`, four per CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sparkeks.plan.runner import read_stack  # noqa: E402

ORGANIZATION = "organization"  # what a self-managed backend reports


@dataclass
class UpRun:
    exit_code: int
    timings: dict[str, Any]
    """wall and cpu (seconds) of the program run, rss_mib (peak of the client), collections, gc_enabled_at_end"""
    process_wall: float
    """seconds from starting the program's process to its end: what the language host's Run call waits for
    (the SDK's import and the interpreter's exit included)"""
    engine: dict[str, Any]
    """what the stand-in served: rpcs by method, logs by severity, errors, registered"""
    output: str
    """the program's stdout and stderr"""

    @property
    def register_calls(self) -> int:
        return self.engine["rpcs"].get("RegisterResource", 0)

    def failure(self) -> str:
        """Why the run failed, for a message; empty when it did not."""
        if self.exit_code == 0 and not self.engine["errors"]:
            return ""
        return "\n".join([f"exit status {self.exit_code}", *self.engine["errors"], self.output.strip()]).strip()


def run_up(
    project_dir: Path, stack: str, env: dict[str, str] | None = None, record: Path | None = None, timeout: float = 900
) -> UpRun:
    """Run `stack`'s program once over gRPC; `env` is added to the program's environment (not the stand-in's).
    A program still running after `timeout` seconds is killed (subprocess.TimeoutExpired)."""
    project_dir = project_dir.resolve()
    stack_input = read_stack(stack, project_dir)
    server_cmd = [sys.executable, str(BENCH / "grpc_engine.py"), stack, "--project-dir", str(project_dir)]
    if record is not None:
        server_cmd += ["--record", str(record)]
    with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
        server_log = open(Path(tmp) / "engine.log", "w+")
        server = subprocess.Popen(server_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=server_log, text=True)
        try:
            first = server.stdout.readline()
            if not first.startswith("listening "):
                server.kill()
                server_log.seek(0)
                raise RuntimeError(f"the engine stand-in did not start: {first}{server_log.read()}")
            address = first.split()[1]
            timings = Path(tmp) / "timings.json"
            program_env = {
                **os.environ,
                **(env or {}),
                "PULUMI_CONFIG": json.dumps(stack_input.config),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(stack_input.secret_keys),
            }
            cmd = [
                sys.executable,
                str(BENCH / "up_program.py"),
                *("--monitor", address, "--engine", address),
                *("--project", stack_input.project, "--root_directory", str(project_dir), "--stack", stack),
                *("--pwd", str(project_dir), "--dry_run", "false", "--parallel", str(4 * (os.cpu_count() or 1))),
                *("--organization", ORGANIZATION, "--timings", str(timings)),
                ".",
            ]
            started = time.perf_counter()
            program = subprocess.run(
                cmd, env=program_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
            )
            process_wall = time.perf_counter() - started
            server.stdin.close()
            last = server.stdout.readline()
            server.wait(timeout=60)
            if not last:
                server_log.seek(0)
                stopped = f"the engine stand-in stopped without its report (exit status {server.returncode})"
                raise RuntimeError(f"{stopped}:\n{server_log.read()}")
            report = json.loads(last)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            server_log.close()
        measured = json.loads(timings.read_text()) if timings.is_file() else {}
    return UpRun(program.returncode, measured, process_wall, report, program.stdout)
