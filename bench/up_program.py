"""The program run of `pulumi up`, as the Python language host starts it, timed: for bench/bench_up.py.

The language host (pulumi-language-python) starts the SDK's exec shim, `pulumi-language-python-exec`, with
the monitor and engine addresses, project, root directory, stack, working directory, dry-run flag, parallelism
and organization as arguments and the stack's config as JSON in `PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS`.
That shim is not in the SDK's wheel, so this script does what it does (upstream sdk/python/cmd, read for
this): set the config from those variables, configure `pulumi.runtime.Settings` with the arguments, change to
the working directory, give a new event loop a default thread pool of 4 x parallel workers, silence asyncio's
logger, then `run_in_stack(runpy.run_path(PROGRAM))` with PROGRAM `.` (the project directory, whose
`__main__.py` runs with the directory on sys.path), mapping a RunError to exit 1 and any other failure to 32.

The one addition is `--timings FILE`: wall and CPU seconds of that run (from the first RPC to the last,
imports of the program included, the SDK's own import and the settings before it not) and the process's
peak RSS, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import runpy
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pulumi
import pulumi.runtime

EXIT_AFTER_USER_MESSAGE = 32  # the shim's code for "an error was shown to the user"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("project", "root_directory", "stack", "parallel", "dry_run", "pwd", "monitor", "engine", "organization"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--timings", type=Path, help="write the run's wall/CPU seconds and peak RSS here (JSON)")
    parser.add_argument("PROGRAM")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
    run_settings = pulumi.runtime.Settings(
        monitor=args.monitor,
        engine=args.engine,
        project=args.project,
        stack=args.stack,
        parallel=int(args.parallel),
        dry_run=args.dry_run == "true",
        organization=args.organization,
        root_directory=args.root_directory,
    )
    pulumi.runtime.configure(run_settings)
    sys.argv = [args.PROGRAM]
    if args.pwd is not None:
        os.chdir(args.pwd)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=max(run_settings.parallel, 1) * 4)
    loop.set_default_executor(executor)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    exit_code = 1
    collections_before = sum(s["collections"] for s in gc.get_stats())
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(args.PROGRAM, run_name="__main__")))
        exit_code = 0
    except pulumi.RunError as err:
        pulumi.log.error(str(err))
    except Exception:  # noqa: BLE001 - reported to the engine, as the shim does
        pulumi.log.error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        exit_code = EXIT_AFTER_USER_MESSAGE
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        executor.shutdown(wait=True)
        loop.close()
    if args.timings:
        args.timings.write_text(
            json.dumps(
                {
                    "wall": wall,
                    "cpu": cpu,
                    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "collections": sum(s["collections"] for s in gc.get_stats()) - collections_before,
                    "gc_enabled_at_end": gc.isenabled(),
                }
            )
        )
    sys.stdout.flush()
    sys.stderr.flush()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
