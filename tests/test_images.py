"""The Spark images: one Dockerfile, lint-clean; its jars exactly the pinned ones; pins well-formed and
reviewed; one ECR repository per line; jobs and servers never reference anything but a digest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from sparkeks import images
from sparkeks.versions import NEWEST_SPARK, POD_IDENTITY_MIN_SDK, SPARK_RUNTIMES, MavenJar
from tests.conftest import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "images" / "Dockerfile"
SHIPPED_PINS = PROJECT_ROOT / "images" / "pins.json"


def _hadolint() -> str:
    path = shutil.which("hadolint") or str(PROJECT_ROOT / ".venv" / "bin" / "hadolint")
    if not os.path.exists(path):
        pytest.fail("hadolint not installed (pip install -r requirements-dev.txt): the Dockerfile lint cannot be skipped")
    return path


def test_the_dockerfile_is_hadolint_clean():
    result = subprocess.run([_hadolint(), "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM apache/spark:latest\nRUN apt-get install -y curl\n")
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_the_dockerfile_takes_base_and_jars_only_from_build_arguments():
    text = DOCKERFILE.read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert [line for line in instructions if line.startswith("FROM")] == ["FROM ${BASE_IMAGE} AS jars", "FROM ${BASE_IMAGE}"]
    assert {m for m in re.findall(r"^ARG (\w+)", text, re.M)} == {"BASE_IMAGE", "PLATFORM_JARS", "SPARK_VERSION"}
    # No version, URL or checksum typed into the Dockerfile: versions.py and pins.json are the one source.
    body = "\n".join(instructions)
    assert not re.search(r"https?://|[0-9a-f]{64}|\d+\.\d+\.\d+", body)
    # Every jar is checked against its pinned SHA-256 before it reaches the runtime stage.
    assert 'sha256sum --check --strict' in body
    assert "COPY --from=jars" in body and "/opt/spark/jars/" in body
    # Non-root in the end, the upstream image's spark user.
    assert instructions[-1] == "USER 185"


def test_build_arguments_are_exactly_the_pinned_jars_of_each_line():
    built = images.load_pins()  # the test pins: every line fully pinned
    for line, runtime in SPARK_RUNTIMES.items():
        args = images.build_args(line, built)
        assert args["BASE_IMAGE"] == f"{runtime.base_image}@{built[line].base_digest}"
        assert args["SPARK_VERSION"] == runtime.spark_version
        entries = args["PLATFORM_JARS"].split(" ")
        assert entries == [f"{MavenJar(c).url}#{built[line].jars[c]}" for c in runtime.jars]
        coordinates = list(runtime.jars)
        assert coordinates[:2] == list(runtime.s3a) and coordinates[2] == runtime.dataflint


def test_each_line_gets_hadoop_aws_of_its_hadoop_an_sdk_for_pod_identity_and_dataflint_of_its_scala():
    for runtime in SPARK_RUNTIMES.values():
        assert runtime.s3a[0] == f"org.apache.hadoop:hadoop-aws:{runtime.hadoop}"
        assert runtime.s3a[1].endswith(f":{runtime.sdk_version}")
        assert tuple(int(p) for p in runtime.sdk_version.split(".")) >= POD_IDENTITY_MIN_SDK[runtime.sdk_major]
        assert runtime.dataflint.split(":")[1].endswith(f"_{runtime.scala}")
        assert runtime.base_image == f"apache/spark:{runtime.spark_version}-scala{runtime.scala}-java{runtime.java}-python3-ubuntu"


def test_the_shipped_pins_file_is_well_formed_and_lists_every_jar():
    shipped = images.load_pins(SHIPPED_PINS)
    assert set(shipped) == set(SPARK_RUNTIMES)
    for line, runtime in SPARK_RUNTIMES.items():
        assert list(shipped[line].jars) == list(runtime.jars)
    # Pinned where independent public build files agree; the rest is left to the images workflow.
    assert shipped["3.5"].jars["org.apache.hadoop:hadoop-aws:3.3.4"] == "53f9ae03c681a30a50aa17524bd9790ab596b28481858e54efd989a826ed3a4a"
    # apache/spark:4.1.3 (the same image as the -scala2.13-java21-python3-ubuntu tag in spark-docker's tag map).
    assert shipped["4.1"].base_digest == "sha256:bf9d035a7c32a8ca46aa58d6348182ffd7d2dff6409206ecfbb3915ff1fef211"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["4.2"]["image"].update(digest="sha256:abc", builtFrom="2" * 64), '4.2.image.digest: "sha256:abc": must be sha256:<64 hex> or null (not pinned yet)'),
        (lambda d: d["4.1"]["jars"].update({"io.dataflint:dataflint-spark4_2.13:0.9.8": "ABC"}), 'must be 64 lowercase hex (SHA-256) or null'),
        (lambda d: d["4.0"]["base"].update(image="apache/spark:latest"), '4.0.base.image: "apache/spark:latest": versions.py pins apache/spark:4.0.4-scala2.13-java17-python3-ubuntu'),
        (lambda d: d["3.5"]["jars"].pop("io.dataflint:spark_2.12:0.9.8"), "3.5.jars: must list exactly"),
        (lambda d: d.pop("4.2"), "no entry for Spark line 4.2"),
        (lambda d: d["4.2"]["image"].update(digest="sha256:" + "1" * 64), "4.2.image: digest and builtFrom are pinned together"),
    ],
)
def test_malformed_pins_are_refused_with_one_line(change, expected):
    data = json.loads(SHIPPED_PINS.read_text())
    change(data)
    with pytest.raises(images.PinsError) as err:
        images.parse_pins(data, "images/pins.json")
    [line] = err.value.problems
    assert line.startswith("images/pins.json: ") and expected in line


def test_an_unpinned_jar_or_base_stops_the_build_arguments():
    shipped = images.load_pins(SHIPPED_PINS)
    with pytest.raises(images.PinsError) as err:
        images.build_args("4.2", shipped)
    assert err.value.problems == [
        "images/pins.json: 4.2.base.digest: apache/spark:4.2.0-scala2.13-java21-python3-ubuntu has no pinned digest; the images workflow pins it"
    ]


def test_status_tells_unbuilt_stale_and_current_apart(tmp_path):
    built = images.load_pins()
    line = NEWEST_SPARK
    current = images.build_inputs(line, built)
    pins = {**built, line: images.LinePins(built[line].base_digest, dict(built[line].jars), "sha256:" + "ab" * 32, current)}
    pins["4.1"] = images.LinePins(built["4.1"].base_digest, dict(built["4.1"].jars))
    states = images.status(pins)
    assert (states[line], states["4.1"], states["4.0"]) == ("current", "unbuilt", "stale")


def test_pin_cli_records_a_verified_value_and_refuses_a_malformed_one(tmp_path):
    path = tmp_path / "pins.json"
    path.write_text(SHIPPED_PINS.read_text())
    env = {**os.environ, images.PINS_ENV: str(path)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sparkeks", "images", *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT)

    ok = run("pin", "4.2", "--jar", f"org.apache.hadoop:hadoop-aws:3.5.0={'e' * 64}", "--base", "sha256:" + "f" * 64)
    assert ok.returncode == 0, ok.stderr
    pinned = images.load_pins(path)["4.2"]
    assert (pinned.jars["org.apache.hadoop:hadoop-aws:3.5.0"], pinned.base_digest) == ("e" * 64, "sha256:" + "f" * 64)
    bad = run("pin", "4.2", "--jar", "org.apache.hadoop:hadoop-aws:3.4.1=" + "e" * 64)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        f"--jar org.apache.hadoop:hadoop-aws:3.4.1={'e' * 64}: org.apache.hadoop:hadoop-aws:3.4.1 is not a jar of Spark 4.2; "
        "jars: org.apache.hadoop:hadoop-aws:3.5.0, software.amazon.awssdk:bundle:2.35.4, io.dataflint:dataflint-spark4_2.13:0.9.8, "
            "org.apache.celeborn:celeborn-client-spark-4-shaded_2.13:0.7.0"
    ]


def test_one_immutable_scanned_encrypted_repository_per_line_keeping_the_newest(prod, dev):
    repos = {r["inputs"]["name"]: r for r in prod.of_type("aws:ecr/repository:Repository")}
    assert sorted(repos) == [f"spark-prod/spark-{line}" for line in SPARK_RUNTIMES]
    for repo in repos.values():
        inputs = repo["inputs"]
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
        assert inputs["forceDelete"] is False and repo["options"]["protect"] is True
    dev_repo = dev.of_type("aws:ecr/repository:Repository")[0]
    assert dev_repo["inputs"]["forceDelete"] is True and not dev_repo["options"].get("protect")
    for policy in prod.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        [rule] = json.loads(policy["inputs"]["policy"])["rules"]
        assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": images.KEEP_IMAGES}
        assert rule["action"] == {"type": "expire"}


def test_the_workflow_builds_with_exactly_the_cli_build_arguments():
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "images.yml").read_text())
    build = workflow["jobs"]["build"]
    push = next(s for s in build["steps"] if s.get("id") == "push")
    args = dict(line.strip().split("=", 1) for line in push["with"]["build-args"].splitlines() if line.strip())
    assert {k: v.strip() for k, v in args.items()} == {k: f"${{{{ steps.args.outputs.{k} }}}}" for k in ("BASE_IMAGE", "PLATFORM_JARS", "SPARK_VERSION")}
    assert push["with"]["sbom"] is True and push["with"]["provenance"] == "mode=max"
    assert build["permissions"] == {"contents": "read", "id-token": "write"}
    text = (PROJECT_ROOT / ".github" / "workflows" / "images.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert "sha1sum --check --strict" in text  # a jar's SHA-256 is recorded only after Maven Central's SHA-1 matched
