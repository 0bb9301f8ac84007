"""Memory sizes in the form each consumer takes: JVM heap flags, Spark properties, Kubernetes quantities.

Users write sizes the way their old platform took them (`14 GB`, `2gb`, `1536MB`). Where the meaning is
unambiguous the size is normalised to the consumer's own form; where it is not (a bare number is MiB to
Spark but bytes to `-Xmx`) it is refused with the form to write.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(?P<number>[0-9]+)\s*(?P<unit>[kmgt](?:i?b|i)?)?\s*$", re.IGNORECASE)
_UNIT_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


class SizeError(ValueError):
    pass


def mib_text(mib: float) -> str:
    """For people: `240406m` reads as `234.8 GiB`, `512` as `512 MiB`."""
    if mib >= 1024 * 1024:
        tib = mib / 1024 / 1024
        return f"{tib:.0f} TiB" if tib == int(tib) else f"{tib:.1f} TiB"
    if mib >= 1024:
        gib = mib / 1024
        return f"{gib:.0f} GiB" if gib == int(gib) else f"{gib:.1f} GiB"
    return f"{mib:.0f} MiB"


def jvm_heap(value: object, *, floor_mib: int, who: str) -> str:
    """A heap size as `-Xmx` takes it (`2g`, `1536m`): whole MiB, an explicit unit, at least `floor_mib`."""
    match = _SIZE.match(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if match is None:
        raise SizeError("is not a JVM heap size; use a whole number with m or g, like 2g or 1536m")
    if match["unit"] is None:
        number = match["number"]
        raise SizeError(f"has no unit, and the JVM would read it as bytes (-Xmx{number}); write {number}m or {int(number) // 1024 or 1}g")
    mib = int(match["number"]) * _UNIT_MIB[match["unit"][0].lower()]
    if mib != int(mib):
        raise SizeError(f"is not a whole number of MiB; write it in m, like {max(int(mib), 1)}m")
    if mib < floor_mib:
        raise SizeError(f"is below the {floor_mib}m {who} needs")
    mib = int(mib)
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"
