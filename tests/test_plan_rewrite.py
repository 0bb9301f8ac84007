"""Writing a plan over the previous plan of the same stack (what every `plan` after the first does).

Files whose bytes would not change are left alone (same inode, same modification time), changed ones are
rewritten, and files of objects the plan no longer has are removed: the directory ends up exactly as a
fresh write would leave it. Deleting and re-creating every file made each write wait on the filesystem's
journal (bench/bench_plan.py), and unchanged files keeping their times lets tools see what changed.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path

import pytest

from sparkeks.plan.writer import write_plan


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _stamps(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def _age(root: Path) -> None:
    """Move every file's modification time an hour back, so a rewrite cannot keep the same time by chance."""
    for p in root.rglob("*"):
        if p.is_file():
            st = p.stat()
            os.utime(p, ns=(st.st_atime_ns - 3_600_000_000_000, st.st_mtime_ns - 3_600_000_000_000))


def _with_resources(plan, resources):
    return dataclasses.replace(plan, resources=resources)


def _index(plan, kind: str, name: str) -> int:
    return next(
        i
        for i, r in enumerate(plan.resources)
        if r["type"].startswith("kubernetes:") and r["inputs"].get("kind") == kind and (r["inputs"].get("metadata") or {}).get("name") == name
    )


def test_planning_again_leaves_every_unchanged_file_untouched(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    _age(tmp_path)
    before = _stamps(tmp_path)
    write_plan(prod.plan, tmp_path)
    after = _stamps(tmp_path)
    manifests = [name for name in before if name.startswith("manifests/")]
    assert len(manifests) > 40
    assert {name: after[name] for name in manifests} == {name: before[name] for name in manifests}
    assert all(after[name] == before[name] for name in before if name.startswith("helm/"))


def test_a_changed_object_is_rewritten_and_a_removed_one_deleted_as_a_fresh_write_would(prod, tmp_path):
    write_plan(prod.plan, tmp_path / "rewritten")
    _age(tmp_path / "rewritten")
    before = _stamps(tmp_path / "rewritten")

    resources = copy.deepcopy(prod.plan.resources)
    changed = _index(prod.plan, "StorageClass", "gp3")
    resources[changed]["inputs"].setdefault("metadata", {}).setdefault("labels", {})["changed-by"] = "test"
    removed = _index(prod.plan, "PriorityClass", next(
        r["inputs"]["metadata"]["name"] for r in prod.plan.resources if r["type"].startswith("kubernetes:") and r["inputs"].get("kind") == "PriorityClass"
    ))
    removed_file = "manifests/priorityclass." + resources[removed]["inputs"]["metadata"]["name"] + ".yaml"
    del resources[removed]
    second = _with_resources(prod.plan, resources)

    write_plan(second, tmp_path / "rewritten")
    write_plan(second, tmp_path / "fresh")
    assert _tree(tmp_path / "rewritten") == _tree(tmp_path / "fresh")

    after = _stamps(tmp_path / "rewritten")
    assert removed_file in before and removed_file not in after
    assert after["manifests/storageclass.gp3.yaml"][1] != before["manifests/storageclass.gp3.yaml"][1]
    assert b"changed-by: test" in (tmp_path / "rewritten" / "manifests" / "storageclass.gp3.yaml").read_bytes()
    unchanged = [n for n in before if n.startswith("manifests/") and n not in (removed_file, "manifests/storageclass.gp3.yaml")]
    assert len(unchanged) > 40
    assert all(after[n] == before[n] for n in unchanged)


def test_a_file_edited_by_hand_is_put_back_and_a_stray_file_removed(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    fresh = _tree(tmp_path)
    (tmp_path / "manifests" / "storageclass.gp3.yaml").write_text("edited: by hand\n")
    (tmp_path / "manifests" / "notes.txt").write_text("not part of any plan\n")
    (tmp_path / "helm" / "old-release.yaml").write_text("release: gone\n")
    write_plan(prod.plan, tmp_path)
    assert _tree(tmp_path) == fresh


def test_files_outside_the_plan_directories_are_kept(prod, tmp_path):
    # Only what a plan writes is removed, so a mistyped --out cannot wipe unrelated files.
    (tmp_path / "README.txt").write_text("mine\n")
    write_plan(prod.plan, tmp_path)
    write_plan(prod.plan, tmp_path)
    assert (tmp_path / "README.txt").read_text() == "mine\n"


def test_two_objects_that_would_share_a_file_fail_before_anything_is_written(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    before = _tree(tmp_path)
    resources = copy.deepcopy(prod.plan.resources)
    twin = copy.deepcopy(resources[_index(prod.plan, "StorageClass", "gp3")])
    twin["name"] = "another-gp3"
    resources.append(twin)
    with pytest.raises(ValueError, match=r"^two Kubernetes objects would both be written to manifests/storageclass\.gp3\.yaml$"):
        write_plan(_with_resources(prod.plan, resources), tmp_path)
    assert _tree(tmp_path) == before


def test_a_symlink_in_the_plan_is_replaced_never_written_through(prod, tmp_path):
    write_plan(prod.plan, tmp_path / "plan")
    outside = tmp_path / "outside.yaml"
    outside.write_text("someone else's file\n")
    target = tmp_path / "plan" / "manifests" / "storageclass.gp3.yaml"
    expected = target.read_bytes()
    target.unlink()
    target.symlink_to(outside)
    write_plan(prod.plan, tmp_path / "plan")
    assert outside.read_text() == "someone else's file\n"
    assert not target.is_symlink() and target.read_bytes() == expected


def test_a_plan_without_a_cost_estimate_leaves_no_earlier_estimate_behind(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    assert (tmp_path / "cost.md").is_file()
    write_plan(dataclasses.replace(prod.plan, config=None), tmp_path)
    assert not (tmp_path / "cost.md").exists()
