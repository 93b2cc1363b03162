"""Whether a set of CIDRs, taken together, is the internet (or nearly all of it).

The definition lives in the policy pack (`policies/guardrails/_cidrs.py`), which must
stand alone (`pulumi policy publish` ships that folder only): the config model and the
cluster components load that very file, so the stack file and the pack judge an allow
list by one rule.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable

from foundation.layout import REPO_ROOT

_PATH = REPO_ROOT / "policies" / "guardrails" / "_cidrs.py"
_spec = importlib.util.spec_from_file_location("dataplatform_pack_cidrs", _PATH)
assert _spec is not None and _spec.loader is not None, _PATH
_pack = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _pack  # dataclasses look their module up by name
_spec.loader.exec_module(_pack)


def covers_public(cidrs: Iterable[str]) -> bool:
    """The pack's rule: the union reaches a /8 worth of public IPv4 (or a /16 of IPv6)."""
    return bool(_pack.covers_public(cidrs))


PUBLIC_MESSAGE = ("{cidrs} together cover the internet, or nearly all of it (a /8 worth of "
                  "public addresses or more): list the CIDRs of your CI runners and VPN")


def shown(cidrs: list[str]) -> str:
    return str(_pack.shown(cidrs))
