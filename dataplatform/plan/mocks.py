"""Realistic outputs for the Pulumi mock engine: ARNs, endpoints, kubeconfigs.

A resource's mock state is its inputs plus what the cloud would add. Each area keeps its
table in its own module (`_mocks_<area>.py` in this package, all discovered): `OUTPUTS`
maps a type token to a function of (inputs, name) returning the added outputs, and
`CALLS` maps an invoke token to a function of its args; `PREFIX_OUTPUTS` maps a token
prefix (`kubernetes:`) to a fallback.
Unlisted types echo their inputs, with `id` = name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from typing import Any

import pulumi

OutputFn = Callable[[dict[str, Any], str], dict[str, Any]]
CallFn = Callable[[dict[str, Any]], dict[str, Any]]

ACCOUNT_ID = "123456789012"
GCP_PROJECT = "acme-data-prod"


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

    def __init__(self, stack_outputs: dict[str, tuple[dict[str, Any], list[str]]] | None = None):
        self.stack_outputs = stack_outputs or {}
        self.outputs, self.prefixes, self.calls = _tables()

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
            state.update(fn(dict(args.inputs), args.name))
        return state.pop("id", None) or args.name, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        fn = self.calls.get(args.token)
        return (fn(dict(args.args)) if fn else {}), []
