"""Realistic outputs for the Pulumi mock engine: ARNs, endpoints, kubeconfigs.

A resource's mock state is its inputs plus what the cloud would add. Each area keeps its
table in its own module (`_mocks_<area>.py` in this package, all discovered): `OUTPUTS`
maps a type token to a function of (inputs, name) returning the added outputs, and
`CALLS` maps an invoke token to a function of its args; `PREFIX_OUTPUTS` maps a token
prefix (`kubernetes:`) to a fallback.
Unlisted types echo their inputs, with `id` = name.

What the tables add and the program did not know is *offline-only*: an ARN with the mock
account, an endpoint built from a hash, an IP. `PlatformMocks.offline` keeps those values
(`offline_value` says which qualify), so the text plan can mark every output that holds
one and nobody mistakes it for a real identifier.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

import pulumi

OutputFn = Callable[[dict[str, Any], str], dict[str, Any]]
CallFn = Callable[[dict[str, Any]], dict[str, Any]]

ACCOUNT_ID = "123456789012"
GCP_PROJECT = "acme-data-prod"
_KNOWN_MAX = 512  # longer inputs (scripts, dashboards) hold no ids a mock reuses
_SEGMENTS = re.compile(r"[/:@.]")
_ENTROPY = re.compile(r"(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{6,}")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")


def strings(value: Any) -> Iterator[str]:
    """Every string leaf of a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)


def segments(value: str) -> list[str]:
    """The parts of an identifier between `/ : @ .` (an ARN's, a URL's, an email's)."""
    return _SEGMENTS.split(value)


def offline_value(value: str, known: set[str]) -> bool:
    """Whether a string a mock table made is offline-only: it holds what no input gave,
    a made-up account id, hash, uuid or IP address. `known` holds the segments of every
    input seen so far (names, the configured project and region, ids the program passed
    on): a GCP network id or a service account email built from them is what the cloud
    will give too, and is not marked."""
    if value in known:
        return False
    if any(ip not in known for ip in _IPV4.findall(value)):
        return True
    return any(s not in known and (ACCOUNT_ID in s or _ENTROPY.search(s))
               for s in segments(value))


@cache  # the tables are read-only: one discovery per process
def _tables() -> tuple[dict[str, OutputFn], dict[str, OutputFn], dict[str, CallFn]]:
    outputs: dict[str, OutputFn] = {}
    prefixes: dict[str, OutputFn] = {}
    calls: dict[str, CallFn] = {}
    package = importlib.import_module("dataplatform.plan")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_mocks_"):
            continue
        mod = importlib.import_module(f"dataplatform.plan.{info.name}")
        outputs.update(getattr(mod, "OUTPUTS", {}))
        prefixes.update(getattr(mod, "PREFIX_OUTPUTS", {}))
        calls.update(getattr(mod, "CALLS", {}))
    return outputs, prefixes, calls


class PlatformMocks(pulumi.runtime.Mocks):
    """Mocks for the offline plan.

    `stack_outputs` maps a fully qualified stack name to the outputs a StackReference
    to it returns (the offline plan of that stack), with the names of its secret outputs.
    """

    def __init__(self, stack_outputs: dict[str, tuple[dict[str, Any], list[str]]] | None = None,
                 offline: Iterable[str] = ()):
        self.stack_outputs = stack_outputs or {}
        self.outputs, self.prefixes, self.calls = _tables()
        self.offline: set[str] = set(offline)
        """Offline-only values made so far (with those of the referenced stacks' plans)."""
        self._known: set[str] = set()
        self._made_segments: set[str] = {ACCOUNT_ID}
        """Segments of offline values: an input passing one on does not make it known."""

    def _made(self, given: dict[str, Any], added: dict[str, Any], name: str = "") -> None:
        """Note what a table `added` to what the program `given`: its offline-only values."""
        known, made = self._known, self._made_segments
        for value in strings(given):
            if len(value) <= _KNOWN_MAX and value not in known and value not in self.offline:
                known.add(value)
                known.update(s for s in segments(value) if s not in made)
        known.add(name)
        for value in strings(added):
            if offline_value(value, known):
                self.offline.add(value)
                made.update(s for s in segments(value) if s not in known)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.typ == "pulumi:pulumi:StackReference":
            ref = args.inputs["name"]
            if ref not in self.stack_outputs:
                raise KeyError(f"no offline plan for referenced stack '{ref}'")
            outputs, secret_names = self.stack_outputs[ref]
            return ref, {"name": ref, "outputs": outputs, "secretOutputNames": secret_names}
        state = dict(args.inputs)
        fn = self.outputs.get(args.typ) or next(
            (f for p, f in self.prefixes.items() if args.typ.startswith(p)), None)
        if fn is not None:
            added = fn(dict(args.inputs), args.name)
            self._made(args.inputs, added, args.name)
            state.update(added)
        return state.pop("id", None) or args.name, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        fn = self.calls.get(args.token)
        if fn is None:
            return {}, []
        result = fn(dict(args.args))
        self._made(args.args, result)
        return result, []
