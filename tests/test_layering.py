"""Imports point down: `components/` builds on `sparkeks/`, never the reverse.

`sparkeks` is the CLI, the config model and the offline tooling; it must import (and run its checks)
without the Pulumi program's packages. An upward import also hides a shared constant inside one
component where the next reader will copy it instead of finding it. The check reads the source with
`ast`, so it also sees imports inside functions and module names given to `importlib` as strings.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPPER_PACKAGE = "components"
# Calls that import the module named by their first argument.
IMPORTING_CALLS = {"import_module", "__import__", "run_module"}


def _is_upper(module: str | None) -> bool:
    return module is not None and module.split(".", 1)[0] == UPPER_PACKAGE


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def upward_imports(source: str, filename: str) -> list[str]:
    """One `file:line: ...` entry per import of `components` in `source`, in line order."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if _is_upper(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_upper(node.module):
            found.append((node.lineno, f"from {node.module} import {', '.join(a.name for a in node.names)}"))
        elif isinstance(node, ast.Call) and _called_name(node) in IMPORTING_CALLS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and _is_upper(first.value):
                found.append((node.lineno, f"{_called_name(node)}({first.value!r})"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def test_no_module_of_sparkeks_imports_the_components():
    problems = []
    for path in sorted((ROOT / "sparkeks").rglob("*.py")):
        problems += upward_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert problems == [], "sparkeks/ must not import components/ (move what both need into sparkeks/):\n" + "\n".join(
        problems
    )


def test_the_check_finds_every_way_of_importing_the_components():
    source = textwrap.dedent(
        """
        import components
        import os, components.network.layout as layout
        from components.karpenter.nodes import POOL_NAMES
        from components import network


        def lazy():
            from components.network.layout import plan_subnets
            import importlib
            importlib.import_module("components.spark.teams")
            __import__("components")


        class Late:
            def method(self):
                from importlib import import_module
                return import_module("components.cluster")
        """
    )
    assert upward_imports(source, "sparkeks/example.py") == [
        "sparkeks/example.py:2: import components",
        "sparkeks/example.py:3: import components.network.layout",
        "sparkeks/example.py:4: from components.karpenter.nodes import POOL_NAMES",
        "sparkeks/example.py:5: from components import network",
        "sparkeks/example.py:9: from components.network.layout import plan_subnets",
        "sparkeks/example.py:11: import_module('components.spark.teams')",
        "sparkeks/example.py:12: __import__('components')",
        "sparkeks/example.py:18: import_module('components.cluster')",
    ]


def test_the_check_leaves_look_alikes_alone():
    source = textwrap.dedent(
        """
        import componentsx
        from sparkeks import components
        from .components import layout
        from . import components as parts
        PROGRAM_PATHS = ("components/", "sparkeks/")
        components = {"a": 1}
        components.get("a")
        importlib.import_module("sparkeks.components")
        importlib.import_module(name)
        """
    )
    assert upward_imports(source, "sparkeks/example.py") == []
