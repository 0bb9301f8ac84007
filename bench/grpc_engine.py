"""A local stand-in for the Pulumi engine's gRPC side of `pulumi up`, for bench/bench_up.py.

Under `pulumi up` the program talks to the CLI over two gRPC services: the resource monitor (every
resource registration, invoke and stack output) and the engine (log messages, the root resource). This
process serves both on 127.0.0.1 with the SDK's own generated servicers, so the program's side of every
call (serialising inputs, the channel, the thread pool waiting on answers, deserialising outputs) is the
real one. The answers come from the offline plan's `PlanMonitor` over `SimulatedAws`, built as
sparkeks/plan/runner.py builds it, and the SDK's `MockEngine` for log messages.

What it does not stand for: the CLI's own work (state, diffs, the providers and AWS behind them). Every
answer comes at once, so the run measures the program's own cost, as if the engine and the providers took
no time. The stand-in is Python where the engine is Go; its collector is off (stand-in only) so its own
pauses do not show up as slower answers in either of the client's settings. It advertises the features
MockMonitor does: a real engine also offers output values, which the SDK uses only for remote components
and method calls, none of which this program makes.

Transforms and resource hooks need the engine to call back into the program; the stand-in does not, so it
refuses those RPCs (the SDK then fails loudly). The program registers none: its one stack transformation is
the SDK's in-process kind.

Usage: python bench/grpc_engine.py STACK [--project-dir DIR] [--record FILE]
Prints `listening 127.0.0.1:PORT`, serves until its stdin closes, then prints one JSON line: the RPCs it
served by method, the log messages by severity, how many resources were registered and its CPU seconds.
`--record` also writes the registrations (as the plan's inventory lists resources) to FILE.
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import json
import logging
import os
import resource
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from google.protobuf import empty_pb2  # noqa: E402
from pulumi.runtime import mocks, settings  # noqa: E402
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS  # noqa: E402
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc  # noqa: E402

# Methods answered by the monitor as MockMonitor (and PlanMonitor on top of it) implements them.
MONITOR_METHODS = (
    "GetDeploymentInfo",
    "Invoke",
    "ReadResource",
    "ExistsResource",
    "RegisterResource",
    "RegisterResourceOutputs",
    "RegisterPackage",
    "SignalAndWaitForShutdown",
)
SEVERITIES = {engine_pb2.DEBUG: "debug", engine_pb2.INFO: "info", engine_pb2.WARNING: "warning", engine_pb2.ERROR: "error"}


class CallLog:
    """What the stand-in was asked, counted across the server's threads."""

    def __init__(self) -> None:
        self.rpcs: Counter[str] = Counter()
        self.logs: Counter[str] = Counter()
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def call(self, method: str) -> None:
        with self._lock:
            self.rpcs[method] += 1

    def message(self, severity: str, text: str) -> None:
        with self._lock:
            self.logs[severity] += 1
            if severity == "error":
                self.errors.append(text)


def _in_context(base: contextvars.Context, log: CallLog, method: str, handler: Callable[[Any], Any]):
    """The SDK keeps project and stack in context variables, which the server's threads would not see:
    every call runs in a copy of the context the stand-in was configured in (a copy each, since one
    context cannot be entered by two threads at once)."""

    def serve(self, request, context):
        log.call(method)
        try:
            return base.copy().run(handler, request)
        except Exception as err:  # noqa: BLE001 - the program gets the error, as from the engine
            context.abort(grpc.StatusCode.UNKNOWN, f"{method}: {type(err).__name__}: {err}")

    serve.__name__ = method
    return serve


def monitor_servicer(monitor, base: contextvars.Context, log: CallLog) -> resource_pb2_grpc.ResourceMonitorServicer:
    methods = {name: _in_context(base, log, name, getattr(monitor, name)) for name in MONITOR_METHODS}

    def supports_feature(request):
        # MockMonitor answers with a plain object; the wire needs the message.
        return resource_pb2.SupportsFeatureResponse(hasSupport=monitor.SupportsFeature(request).hasSupport)

    methods["SupportsFeature"] = _in_context(base, log, "SupportsFeature", supports_feature)
    return type("PlanResourceMonitor", (resource_pb2_grpc.ResourceMonitorServicer,), methods)()


def engine_servicer(base: contextvars.Context, log: CallLog) -> engine_pb2_grpc.EngineServicer:
    logger = logging.getLogger("sparkeks.bench.engine")
    engine = mocks.MockEngine(logger)
    root = {"urn": ""}

    def log_message(request):
        log.message(SEVERITIES.get(request.severity, "info"), request.message)
        engine.Log(request)
        return empty_pb2.Empty()

    def get_root(request):
        return engine_pb2.GetRootResourceResponse(urn=root["urn"])

    def set_root(request):
        root["urn"] = request.urn
        return engine_pb2.SetRootResourceResponse()

    methods = {
        "Log": _in_context(base, log, "Log", log_message),
        "GetRootResource": _in_context(base, log, "GetRootResource", get_root),
        "SetRootResource": _in_context(base, log, "SetRootResource", set_root),
    }
    return type("PlanEngine", (engine_pb2_grpc.EngineServicer,), methods)()


def plan_monitor(stack: str, project_dir: Path):
    """The offline plan's monitor for `stack` (sparkeks.plan.runner.simulated_monitor)."""
    from sparkeks.plan.runner import read_stack, simulated_monitor

    stack_input = read_stack(stack, project_dir)
    monitor = simulated_monitor(stack_input, project_dir)
    # URNs name the project and stack (MockMonitor.make_urn reads them from the SDK's settings).
    settings.configure(
        settings.Settings(project=stack_input.project, stack=stack, organization="organization", root_directory=str(project_dir))
    )
    return monitor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--record", type=Path, help="write the registrations here (JSON) on shutdown")
    args = parser.parse_args()

    monitor = plan_monitor(args.stack, args.project_dir.resolve())
    gc.collect()
    gc.disable()  # the stand-in's own pauses are not the program's (see the module docstring)
    log = CallLog()
    base = contextvars.copy_context()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4 * (os.cpu_count() or 1)), options=_GRPC_CHANNEL_OPTIONS)
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor_servicer(monitor, base, log), server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine_servicer(base, log), server)
    port = server.add_insecure_port("127.0.0.1:0")  # a free port: several runs may share the machine
    server.start()
    print(f"listening 127.0.0.1:{port}", flush=True)

    sys.stdin.read()  # the caller closes it when the program has exited
    server.stop(grace=1).wait()
    if args.record:
        from sparkeks.plan.runner import registered_resources

        args.record.write_text(json.dumps(registered_resources(monitor)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "rpcs": dict(sorted(log.rpcs.items())),
        "logs": dict(sorted(log.logs.items())),
        "errors": log.errors,
        "registered": len(monitor.registrations),
        "cpu": usage.ru_utime + usage.ru_stime,  # the stand-in's whole life, its imports included
    }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
