"""Grafana dashboards of the project (dashboards/*.json) as ConfigMaps for Grafana's sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sparkeks.project import project_file

FOLDER = "Spark on EKS"


def dashboard_files() -> list[Path]:
    return sorted(project_file("dashboards/").glob("*.json"))


def dashboard_config_maps(namespace: str) -> list[dict[str, Any]]:
    maps = []
    for path in dashboard_files():
        # Parsed and re-dumped: a broken file fails the plan, not Grafana at runtime.
        content = json.dumps(json.loads(path.read_text()), indent=2, sort_keys=True)
        maps.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"dashboard-{path.stem}",
                    "namespace": namespace,
                    "labels": {"grafana_dashboard": "1"},
                    "annotations": {"grafana_folder": FOLDER},
                },
                "data": {path.name: content},
            }
        )
    return maps
