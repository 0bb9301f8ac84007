"""Read a Spark event log as the YARN History Server stores it, and sum up what the job really used.

Formats: a single file (plain JSON lines, or compressed with Spark's lz4, lzf, snappy or zstd codec:
each has its own framing, decoded here), and rolling logs (`eventlog_v2_<app>/events_<n>_<app>[.codec]`,
read in index order). The codec comes from the file name, as Spark's own reader takes it.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CODECS = ("lz4", "lzf", "snappy", "zstd")
_ROLLING_DIR = "eventlog_v2_"
_ROLLING_FILE = re.compile(r"^events_(?P<index>[0-9]+)_")
_SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_LZ4_MAGIC = b"LZ4Block"


class EventLogError(Exception):
    pass


# --- codecs -------------------------------------------------------------------------------------------


def _zstd(data: bytes) -> bytes:
    import cramjam

    return bytes(cramjam.zstd.decompress(data))


def _lz4(data: bytes) -> bytes:
    """lz4-java's block stream: per block 'LZ4Block', a token, compressed and original lengths, a checksum."""
    import cramjam

    out, i = bytearray(), 0
    while i < len(data):
        if data[i : i + 8] != _LZ4_MAGIC:
            raise ValueError("not an LZ4Block stream")
        token = data[i + 8]
        compressed, original, _checksum = struct.unpack_from("<iii", data, i + 9)
        i += 21
        chunk = data[i : i + compressed]
        i += compressed
        if original == 0:
            continue
        method = token & 0xF0
        out += chunk if method == 0x10 else bytes(cramjam.lz4.decompress_block(chunk, output_len=original))
    return bytes(out)


def _snappy(data: bytes) -> bytes:
    """snappy-java's stream: a 16-byte header, then chunks of a big-endian length and raw snappy data."""
    import cramjam

    if not data.startswith(_SNAPPY_MAGIC):
        raise ValueError("no snappy-java stream header")
    out, i = bytearray(), 16
    while i < len(data):
        (length,) = struct.unpack_from(">i", data, i)
        i += 4
        out += bytes(cramjam.snappy.decompress_raw(data[i : i + length]))
        i += length
    return bytes(out)


def _lzf_chunk(data: bytes, size: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            out += data[i : i + ctrl + 1]
            i += ctrl + 1
            continue
        length = ctrl >> 5
        if length == 7:
            length += data[i]
            i += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        for _ in range(length + 2):
            out.append(out[ref])
            ref += 1
    if len(out) != size:
        raise ValueError("LZF chunk decodes to the wrong length")
    return bytes(out)


def _lzf(data: bytes) -> bytes:
    """compress-lzf's stream: chunks of 'ZV', a type byte, lengths, and LZF data (or stored bytes)."""
    out, i = bytearray(), 0
    while i < len(data):
        if data[i : i + 2] != b"ZV":
            raise ValueError("not an LZF chunk stream")
        kind = data[i + 2]
        (length,) = struct.unpack_from(">H", data, i + 3)
        if kind == 0:
            out += data[i + 5 : i + 5 + length]
            i += 5 + length
        elif kind == 1:
            (original,) = struct.unpack_from(">H", data, i + 5)
            out += _lzf_chunk(data[i + 7 : i + 7 + length], original)
            i += 7 + length
        else:
            raise ValueError(f"unknown LZF chunk type {kind}")
    return bytes(out)


_DECODERS = {"zstd": _zstd, "lz4": _lz4, "snappy": _snappy, "lzf": _lzf}


def codec_of(path: Path) -> str | None:
    """The codec Spark names in the file's extension (after dropping `.inprogress`), or None for plain."""
    name = path.name.removesuffix(".inprogress")
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in CODECS:
        return suffix
    return None


def _decoded(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise EventLogError(f"{path}: cannot read: {err.strerror}") from None
    codec = codec_of(path)
    if codec is not None:
        try:
            raw = _DECODERS[codec](raw)
        except ImportError:
            raise EventLogError(f"{path}: reading {codec} event logs needs the cramjam package (pip install -r requirements.txt)") from None
        except Exception as err:  # noqa: BLE001 - any decoder failure means the file is not what its name says
            raise EventLogError(f"{path}: not a {codec}-compressed Spark event log ({err})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        hint = "; compressed event logs end in .lz4, .lzf, .snappy or .zstd" if codec is None else ""
        raise EventLogError(f"{path}: not a Spark event log (not UTF-8 JSON lines{hint})") from None


def event_files(path: Path) -> list[Path]:
    """The files of one application's event log, in order."""
    if not path.exists():
        raise EventLogError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    if path.name.startswith(_ROLLING_DIR):
        files = [(int(m["index"]), p) for p in path.iterdir() if (m := _ROLLING_FILE.match(p.name)) and p.is_file()]
        if not files:
            raise EventLogError(f"{path}: a rolling event log directory without events_<n>_* files")
        return [p for _, p in sorted(files)]
    logs = [p for p in sorted(path.iterdir()) if not p.name.startswith(".") and (p.is_file() or p.name.startswith(_ROLLING_DIR))]
    if len(logs) == 1:
        return event_files(logs[0])
    if not logs:
        raise EventLogError(f"{path}: an empty directory; give an event log file or an eventlog_v2_* directory")
    raise EventLogError(f"{path}: holds {len(logs)} event logs; give one application's file or eventlog_v2_* directory")


def events(path: Path) -> Iterator[dict[str, Any]]:
    files = event_files(path)
    first = True
    for file in files:
        for number, line in enumerate(_decoded(file).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                if first:
                    raise EventLogError(f"{file}: not a Spark event log (line 1 is not JSON)") from None
                # Spark writes whole lines; a cut last line of an in-progress log is skipped.
                continue
            if first and not (isinstance(event, dict) and "Event" in event):
                raise EventLogError(f"{file}: not a Spark event log (line 1 has no \"Event\")")
            first = False
            if isinstance(event, dict):
                yield event
    if first:
        raise EventLogError(f"{path}: an empty event log")


# --- what the job used ---------------------------------------------------------------------------------


@dataclass
class ExecutorUse:
    executor_id: str
    cores: int = 0
    added_ms: int | None = None
    removed_ms: int | None = None
    peak: dict[str, int] = field(default_factory=dict)
    """Peak of each executor metric (JVMHeapMemory, ProcessTreePythonRSSMemory, ...), in bytes or ms."""
    run_ms: int = 0
    gc_ms: int = 0
    tasks: int = 0
    unified_max: int = 0
    """Bytes of on-heap storage + execution memory its block manager reported (0: not in the log)."""


@dataclass
class ApplicationUse:
    """What one application asked for and what it used, from its event log."""

    app_id: str = ""
    app_name: str = ""
    spark_version: str = ""
    start_ms: int | None = None
    end_ms: int | None = None
    properties: dict[str, str] = field(default_factory=dict)
    command: str = ""
    executors: dict[str, ExecutorUse] = field(default_factory=dict)
    task_intervals: list[tuple[int, int, str]] = field(default_factory=list)
    memory_spilled: int = 0
    disk_spilled: int = 0
    shuffle_read: int = 0
    shuffle_write: int = 0
    input_bytes: int = 0
    failed_tasks: int = 0
    cached_memory: dict[int, int] = field(default_factory=dict)
    """RDD id -> bytes cached in memory (largest seen)."""
    cached_disk: dict[int, int] = field(default_factory=dict)
    partially_cached: set[int] = field(default_factory=set)

    def executor(self, executor_id: str) -> ExecutorUse:
        return self.executors.setdefault(executor_id, ExecutorUse(executor_id))


def _props(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(k): str(v) for k, v in (p for p in value if isinstance(p, list) and len(p) == 2)}
    return {}


def _peaks(target: ExecutorUse, metrics: Any) -> None:
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            if isinstance(value, int) and value > target.peak.get(key, -1):
                target.peak[key] = value


def read_event_log(path: Path) -> ApplicationUse:
    app = ApplicationUse()
    for event in events(path):
        kind = event.get("Event")
        if kind == "SparkListenerLogStart":
            app.spark_version = str(event.get("Spark Version", ""))
        elif kind == "SparkListenerApplicationStart":
            app.app_id = str(event.get("App ID", ""))
            app.app_name = str(event.get("App Name", ""))
            app.start_ms = event.get("Timestamp")
        elif kind == "SparkListenerApplicationEnd":
            app.end_ms = event.get("Timestamp")
        elif kind == "SparkListenerEnvironmentUpdate":
            app.properties = _props(event.get("Spark Properties"))
            app.command = _props(event.get("System Properties")).get("sun.java.command", "")
        elif kind == "SparkListenerExecutorAdded":
            executor = app.executor(str(event.get("Executor ID")))
            executor.added_ms = event.get("Timestamp")
            executor.cores = int((event.get("Executor Info") or {}).get("Total Cores", 0))
        elif kind == "SparkListenerExecutorRemoved":
            app.executor(str(event.get("Executor ID"))).removed_ms = event.get("Timestamp")
        elif kind == "SparkListenerBlockManagerAdded":
            executor_id = str((event.get("Block Manager ID") or {}).get("Executor ID"))
            if executor_id != "driver":
                app.executor(executor_id).unified_max = int(event.get("Maximum Onheap Memory") or event.get("Maximum Memory") or 0)
        elif kind == "SparkListenerStageExecutorMetrics":
            _peaks(app.executor(str(event.get("Executor ID"))), event.get("Executor Metrics"))
        elif kind == "SparkListenerTaskEnd":
            _task_end(app, event)
        elif kind == "SparkListenerStageCompleted":
            for rdd in (event.get("Stage Info") or {}).get("RDD Info") or []:
                _rdd(app, rdd)
    if not app.app_id:
        raise EventLogError(f"{path}: a Spark event log without an application start; is it complete?")
    return app


def _task_end(app: ApplicationUse, event: dict[str, Any]) -> None:
    info = event.get("Task Info") or {}
    executor_id = str(info.get("Executor ID"))
    if executor_id == "driver":
        return
    executor = app.executor(executor_id)
    metrics = event.get("Task Metrics") or {}
    executor.tasks += 1
    executor.run_ms += int(metrics.get("Executor Run Time", 0))
    executor.gc_ms += int(metrics.get("JVM GC Time", 0))
    _peaks(executor, event.get("Task Executor Metrics"))
    if info.get("Failed"):
        app.failed_tasks += 1
    # The task held its core from launch through deserialisation and running; "Finish Time" is later,
    # when the driver had fetched the result, by which time the core already runs the next task.
    launch = info.get("Launch Time")
    if isinstance(launch, int):
        busy = int(metrics.get("Executor Deserialize Time", 0)) + int(metrics.get("Executor Run Time", 0))
        app.task_intervals.append((launch, launch + max(busy, 1), executor_id))
    app.memory_spilled += int(metrics.get("Memory Bytes Spilled", 0))
    app.disk_spilled += int(metrics.get("Disk Bytes Spilled", 0))
    read = metrics.get("Shuffle Read Metrics") or {}
    app.shuffle_read += int(read.get("Remote Bytes Read", 0)) + int(read.get("Local Bytes Read", 0))
    app.shuffle_write += int((metrics.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0))
    app.input_bytes += int((metrics.get("Input Metrics") or {}).get("Bytes Read", 0))


def _rdd(app: ApplicationUse, rdd: dict[str, Any]) -> None:
    rdd_id = rdd.get("RDD ID")
    if not isinstance(rdd_id, int):
        return
    memory, disk = int(rdd.get("Memory Size", 0)), int(rdd.get("Disk Size", 0))
    cached, partitions = int(rdd.get("Number of Cached Partitions", 0)), int(rdd.get("Number of Partitions", 0))
    if memory or disk:
        app.cached_memory[rdd_id] = max(app.cached_memory.get(rdd_id, 0), memory)
        app.cached_disk[rdd_id] = max(app.cached_disk.get(rdd_id, 0), disk)
    level = rdd.get("Storage Level") or {}
    if (level.get("Use Memory") or level.get("Use Disk")) and partitions and cached < partitions:
        app.partially_cached.add(rdd_id)
