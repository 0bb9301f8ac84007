"""A real Prometheus on loopback, scraping one local "pod" the way the platform's PodMonitors make the
Prometheus operator scrape Spark drivers.

What the operator generates for a PodMonitor endpoint, reproduced here as far as it applies outside
Kubernetes: the pod selector and port-name keep rules, the namespace/container/pod/job/endpoint target
labels, then the PodMonitor's own relabelings (spark_app_id, spark_app_name, spark_role) unchanged.
What differs: the target comes from a static config whose labels carry the __meta_kubernetes_* values
Kubernetes service discovery would give the driver pod (so the namespace selector becomes a keep rule
on the namespace meta label), and the scrape interval is seconds instead of the PodMonitor's 30s so a
test sees several samples quickly.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.local_servers import logged_port

SCRAPE_INTERVAL = "2s"
# Prometheus stops itself after this long even if the test process dies without cleaning up.
LIFETIME_SECONDS = 600
# Its web listener's own log line: started on port 0, the port it chose is read here.
LISTENING = re.compile(r'msg="Listening on" address=127\.0\.0\.1:(\d+)')


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _sanitize(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


@dataclass(frozen=True)
class DriverPod:
    """What Kubernetes service discovery would say about a Spark driver pod."""

    namespace: str
    name: str
    labels: dict[str, str]
    container: str
    port_name: str
    address: str

    def meta_labels(self) -> dict[str, str]:
        meta = {
            "__meta_kubernetes_namespace": self.namespace,
            "__meta_kubernetes_pod_name": self.name,
            "__meta_kubernetes_pod_container_name": self.container,
            "__meta_kubernetes_pod_container_port_name": self.port_name,
        }
        for key, value in self.labels.items():
            meta[f"__meta_kubernetes_pod_label_{_sanitize(key)}"] = value
            meta[f"__meta_kubernetes_pod_labelpresent_{_sanitize(key)}"] = "true"
        return meta


def scrape_configs(monitors: list[dict[str, Any]], pod: DriverPod) -> list[dict[str, Any]]:
    """One scrape job per PodMonitor endpoint, relabelled as the operator would."""
    jobs = []
    for monitor in monitors:
        meta, spec = monitor["metadata"], monitor["spec"]
        selector = spec["selector"]["matchLabels"]
        namespaces = spec["namespaceSelector"]["matchNames"]
        for index, endpoint in enumerate(spec["podMetricsEndpoints"]):
            selector_rules = [
                {
                    "action": "keep",
                    "source_labels": [
                        f"__meta_kubernetes_pod_label_{_sanitize(k)}",
                        f"__meta_kubernetes_pod_labelpresent_{_sanitize(k)}",
                    ],
                    "regex": f"({v});true",
                }
                for k, v in sorted(selector.items())
            ]
            operator_rules = [
                {"action": "keep", "source_labels": ["__meta_kubernetes_namespace"], "regex": "|".join(namespaces)},
                *selector_rules,
                {"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": endpoint["port"]},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                {"target_label": "job", "replacement": f"{meta['namespace']}/{meta['name']}"},
                {"target_label": "endpoint", "replacement": endpoint["port"]},
            ]
            own_rules = [{_snake(k): v for k, v in rule.items()} for rule in endpoint.get("relabelings", [])]
            jobs.append(
                {
                    "job_name": f"podMonitor/{meta['namespace']}/{meta['name']}/{index}",
                    "metrics_path": endpoint["path"],
                    "scrape_interval": SCRAPE_INTERVAL,
                    "static_configs": [{"targets": [pod.address], "labels": pod.meta_labels()}],
                    "relabel_configs": [*operator_rules, *own_rules],
                }
            )
    return jobs


class LocalPrometheus:
    def __init__(self, binary: str, directory: Path, jobs: list[dict[str, Any]]):
        config = directory / "prometheus.yml"
        config.write_text(
            yaml.safe_dump({"global": {"scrape_interval": SCRAPE_INTERVAL}, "scrape_configs": jobs}, sort_keys=False)
        )
        self.log = directory / "prometheus.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    "timeout",
                    str(LIFETIME_SECONDS),
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    "--web.listen-address=127.0.0.1:0",  # it picks a free port: suites side by side never meet
                    "--storage.tsdb.retention.time=1h",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            port = logged_port(self.process, self.log, LISTENING, what="prometheus", timeout=60)
        except AssertionError:
            self.stop()
            raise
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def _get(self, path: str, **params: str) -> Any:
        url = f"{self.base}/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                self._get("status/buildinfo")
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("prometheus did not come up")

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self._get("query", query=expr)["result"]

    def label_values(self, label: str, match: str) -> list[str]:
        return self._get(f"label/{label}/values", **{"match[]": match})

    def targets(self) -> list[dict[str, Any]]:
        return self._get("targets")["activeTargets"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
