"""Kubernetes quantities (`250m`, `512Mi`, `1e3`) as plain numbers: the one parser of the
project (the loader's quota check, the rendered footprints, the chart checks)."""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(
    r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$")
_SUFFIXES = {**{s: Decimal(10) ** e for s, e in zip("numkMGTPE", (-9, -6, -3, *range(3, 19, 3)),
                                                   strict=True)},
             **{f"{s}i": Decimal(2) ** (10 * n) for n, s in enumerate("KMGTPE", start=1)}}


def parse_quantity(quantity: str | int | float) -> float:
    """A Kubernetes quantity as a plain number: CPU in cores, memory in bytes.

    `250m` -> 0.25, `2` -> 2.0, `512Mi` -> 536870912.0, `1G` -> 1e9, `1e3` -> 1000.0.
    """
    if isinstance(quantity, int | float) and not isinstance(quantity, bool):
        return float(quantity)
    match = _QUANTITY.match(quantity.strip()) if isinstance(quantity, str) else None
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    number, suffix = Decimal(match[1]), match[2] or ""
    if len(suffix) > 1 and suffix[0] in "eE":
        return float(number * Decimal(10) ** int(suffix[1:]))
    return float(number * _SUFFIXES.get(suffix, Decimal(1)))
