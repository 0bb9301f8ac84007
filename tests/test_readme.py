"""The README's config reference and commands match the code."""

from __future__ import annotations

import re

from sparkeks.config.reference import reference_table
from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_config_reference_table_is_generated_from_the_model():
    match = re.search(r"<!-- config-reference:start -->\n(.*?)<!-- config-reference:end -->", README, re.S)
    assert match, "README lost its config reference markers"
    assert match.group(1) == reference_table(), "run `make reference` and paste the table into the README"


def test_every_config_key_has_a_description():
    for row in reference_table().splitlines()[2:]:
        assert row.rstrip(" |").split("|")[-1].strip() not in ("", "None"), row


def test_readme_commands_are_make_targets():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", README, re.M):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert "\nmake test\n" in (PROJECT_ROOT / ".ci" / "run").read_text()
