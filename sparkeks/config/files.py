"""Read the YAML files users write (stack files, job specs) more strictly than YAML itself does.

YAML keeps the last of two equal keys and drops the first without a word, and so do PyYAML and the Pulumi
CLI: a second `spark-on-eks:teams:` block pasted at the end of a stack file silently replaces the first.
Here every duplicate key is an error with its line. Timestamps stay the strings they were written as (the
Pulumi CLI hands them to the program as strings too), and tags without a JSON counterpart (`!!binary`,
`!!set`) are refused, so whatever loads can be passed on as JSON like the CLI passes config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class InputFileError(Exception):
    """A user file that cannot be read; `problems` holds one ready-to-print line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# libyaml's parser when PyYAML was built with it (it is ten times faster); the checks are the same.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader without the implicit timestamp type: `2024-01-01` stays a string."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_JSON_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map", "merge")}


def key_path(path: list[Any], *, under: str | None = None) -> str:
    """`["config", "spark-on-eks:network", "zones"]` -> `spark-on-eks:network.zones` (below `under`)."""
    from sparkeks.config.errors import dotted

    parts = path[1:] if under is not None and path[:1] == [under] else path
    return dotted(parts) or "(top level)"


def _walk(node: yaml.Node, path: list[Any], label: str, under: str | None, seen: set[int], problems: list[str]) -> None:
    if id(node) in seen:  # an alias: its node was checked where it was defined
        return
    seen.add(id(node))
    if node.tag not in _JSON_TAGS and not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        problems.append(
            f"{label}:{node.start_mark.line + 1}: {key_path(path, under=under)}: {node.tag.replace('tag:yaml.org,2002:', '!!')}: not a plain value; "
            "use strings, numbers, booleans, lists and mappings"
        )
        return
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, [*path, index], label, under, seen, problems)
    elif isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    f"{label}:{key_node.start_mark.line + 1}: {key_path(path, under=under)}: a key is a list or mapping; keys are plain words"
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                _walk(value_node, path, label, under, seen, problems)
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first:
                problems.append(
                    f"{label}:{line}: {key_path([*path, key], under=under)}: duplicate key, first set on line {first[key]}; "
                    "YAML would keep only the last and drop the first without a word: merge them into one"
                )
            else:
                first[key] = line
            _walk(value_node, [*path, key], label, under, seen, problems)


def parse_yaml(text: str, label: str, *, under: str | None = None) -> Any:
    """The one document in `text`; duplicate keys and non-JSON values are InputFileError lines.

    `under` names a top-level key that error paths start below (`config` in stack files).
    """
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        problems: list[str] = []
        _walk(node, [], label, under, set(), problems)
        if problems:
            raise InputFileError(problems)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        if mark is not None:
            line = mark.line + 1
        else:  # the reader's errors (characters YAML does not allow) carry a position only
            line = text.count("\n", 0, getattr(err, "position", 0) or 0) + 1
        where = f":{line}"
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputFileError([f"{label}{where}: not valid YAML: {reason}"]) from None
    except RecursionError:
        raise InputFileError([f"{label}: nested too deeply to read"]) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path, label: str, *, under: str | None = None) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputFileError([f"{label}: not UTF-8 text ({err.reason} at byte {err.start})"]) from None
    except OSError as err:
        raise InputFileError([f"{label}: cannot read: {err.strerror}"]) from None
    return parse_yaml(text, label, under=under)


def kind_of(value: Any) -> str:
    """How a YAML value reads to a user: `a list`, `a string`, `a number`."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else type(value).__name__
