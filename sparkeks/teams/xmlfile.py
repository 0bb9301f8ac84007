"""Read a Hadoop scheduler XML file safely: no DTD, so no entity can be declared, expanded or fetched.

Hadoop's capacity-scheduler.xml and fair-scheduler.xml never need a DOCTYPE. Refusing one outright (with
expat, before ElementTree sees the text) closes entity expansion ("billion laughs") and external entities
without a new dependency.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat


class ImportProblems(Exception):
    """One line per problem: `<file>: <queue or property>: <value>: <what is wrong>`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused


def read_xml(path: Path) -> ET.Element:
    label = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImportProblems([f"{label}: cannot read: {err.strerror}"]) from None
    scanner = expat.ParserCreate()
    scanner.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    scanner.StartDoctypeDeclHandler = _refuse
    scanner.EntityDeclHandler = _refuse
    scanner.ExternalEntityRefHandler = _refuse
    try:
        scanner.Parse(data, True)
    except _Refused:
        line = scanner.CurrentLineNumber
        raise ImportProblems(
            [f"{label}: line {line}: a DOCTYPE or entity declaration: refused (scheduler files need none)"]
        ) from None
    except expat.ExpatError as err:
        raise ImportProblems(
            [f"{label}: line {err.lineno}, column {err.offset + 1}: not well-formed XML: {expat.ErrorString(err.code)}"]
        ) from None
    return ET.fromstring(data)
