"""Pinned versions: one place, no floating tags, a complete add-on set per Kubernetes minor."""

from __future__ import annotations

import json
import re

from sparkeks import versions
from tests.conftest import PROJECT_ROOT

ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
# An image tag or alias on latest, or a version setting of latest.
FLOATING = re.compile(r"[:@]latest\b|version[\"']?\s*[:=]\s*[\"']?latest")


def test_every_supported_minor_pins_all_five_addons():
    for minor, pins in versions.EKS_ADDON_VERSIONS.items():
        assert set(pins) == set(versions.EKS_ADDONS_BEFORE_NODES) | set(versions.EKS_ADDONS_AFTER_NODES)
        assert all(ADDON_VERSION.match(v) for v in pins.values()), pins
        assert pins["kube-proxy"].startswith(f"v{minor}."), "kube-proxy must match the control plane minor"


def test_default_version_is_supported():
    assert versions.DEFAULT_KUBERNETES_VERSION in versions.SUPPORTED_KUBERNETES_VERSIONS


def test_ebs_csi_driver_is_new_enough_for_pod_identity():
    for pins in versions.EKS_ADDON_VERSIONS.values():
        major, minor, _ = map(int, pins["aws-ebs-csi-driver"][1:].split("-")[0].split("."))
        assert (major, minor) >= (1, 26)


def test_nothing_shipped_floats_on_latest(dev, prod):
    shipped = [*PROJECT_ROOT.glob("helm-values/*.yaml"), *PROJECT_ROOT.glob("stacks/*.yaml"), PROJECT_ROOT / "sparkeks" / "versions.py"]
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in shipped if FLOATING.search(p.read_text())]
    assert offenders == []
    for view in (dev, prod):
        rendered = json.dumps([r["inputs"] for r in view.plan.resources])
        assert not FLOATING.search(rendered), view.plan.stack


def test_python_dependencies_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (PROJECT_ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.match(r"^[A-Za-z0-9_.-]+==[\w.]+$", line), line
