"""Run the program for one stack under the Pulumi SDK's mock engine, and record the graph.

A recording monitor sits where the engine's resource monitor would: it sees each
RegisterResource request exactly as the engine does (type, name, parent, inputs with
secrets still marked, protect, retainOnDelete, dependencies, provider) and the stack's
outputs. A StackReference to a stack that has a file in `stacks/` is answered with that
stack's own offline plan, so a new domain plans before its platform exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from dataplatform.plan.mocks import PlatformMocks
from foundation.config.loader import PROJECT, STACKS_DIR
from foundation.config.secrets import offline_config

if TYPE_CHECKING:
    from dataplatform.program import LoadedStack

PROGRAM_LOG = logging.getLogger("dataplatform.program")
"""Where the program's `pulumi.log` messages go under the mock engine: its warnings, and
its INFO notes (a dev stack without alert receivers), which the Pulumi CLI would show as
`info:` lines; the planner prints both with the stack's messages."""
PROGRAM_LOG.setLevel(logging.INFO)

SECRET = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class PlannedResource:
    """One resource as the engine would register it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    depends_on: list[str]
    provider: str | None
    aliases: list[str] = field(default_factory=list)
    """Former identities (`name=`, `type=`, `parent=` of each Pulumi alias) a deployed
    resource is moved from instead of replaced; printed only when there are some."""

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if not self.aliases:
            del out["aliases"]
        return out


@dataclass
class Plan:
    """The offline plan of one stack."""

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    policy: list[dict[str, str]] = field(default_factory=list)
    raw_outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    """Outputs with secret values kept, to answer StackReferences; never printed."""
    profile: str = ""
    """The stack's profile (its policy levels follow it); not part of the printed plan."""
    offline_values: frozenset[str] = field(default_factory=frozenset, repr=False)
    """Values only the mocks made (ARNs, ids, endpoints: `mocks.offline_value`), its own
    and its referenced stacks'; the text plan marks the outputs holding one."""

    @property
    def secret_outputs(self) -> list[str]:
        return sorted(k for k, v in self.outputs.items() if v == SECRET)

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
            "policy": self.policy,
        }

    def by_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> PlannedResource:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]


def _unwrap(value: Any, mask: bool = True) -> Any:
    """Plain JSON from a serialized property value: secrets masked, unknowns marked.

    `mask=False` keeps secret values (only for answering StackReferences in memory).
    """
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return SECRET if mask else _unwrap(value.get("value"), mask)
        if sig == rpc._special_output_value_sig:
            if value.get("secret") and mask:
                return SECRET
            return _unwrap(value.get("value"), mask)
        if sig == rpc._special_resource_sig:
            return value.get("urn")
        if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
            return {k: v for k, v in value.items() if k != rpc._special_sig_key}
        return {k: _unwrap(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, mask) for v in value]
    if value == rpc.UNKNOWN:
        return "[unknown]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Structs carry every number as a double
    return value


def _struct(struct, mask: bool = True) -> dict[str, Any]:
    return _unwrap(json_format.MessageToDict(struct, preserving_proto_field_name=True), mask)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that keeps each registration as the engine would receive it."""

    def __init__(self, mocks: pulumi.runtime.Mocks,
                 listener: Callable[[PlannedResource], None] | None = None):
        super().__init__(mocks)
        self.listener = listener
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.raw_stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the
        qualified type being the parent's qualified type, `$`, the resource's own type (the
        root Stack's type left out). MockMonitor keeps only the parent's last type, so the
        URNs a runbook passes to `pulumi up --replace` would not match a real stack's."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.additionalSecretOutputs:
            # The engine returns these outputs as secrets (RandomPassword.result, a Secret's
            # data…); MockMonitor does not, so mark them here as the engine would.
            state = json_format.MessageToDict(response.object)
            for key in request.additionalSecretOutputs:
                if key in state:
                    state[key] = {rpc._special_sig_key: rpc._special_secret_sig,
                                  "value": state[key]}
            response.object.Clear()
            response.object.update(state)
        if request.type != "pulumi:pulumi:Stack":
            self.record(PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                inputs=_struct(request.object),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                depends_on=sorted(set(request.dependencies)),
                provider=_provider_urn(request.provider),
                aliases=_aliases(request),
            ))
        return response

    def ReadResource(self, request):
        # Reads (StackReference, `.get()`) are part of the graph too, though not created.
        response = super().ReadResource(request)
        self.record(PlannedResource(
            urn=response.urn, type=request.type, name=request.name,
            parent=request.parent or None, custom=True, inputs=_struct(request.properties),
            protect=False, retain_on_delete=False,
            depends_on=sorted(set(request.dependencies)),
            provider=_provider_urn(request.provider)))
        return response

    def record(self, resource: PlannedResource) -> None:
        """Keep `resource`, and hand it to the listener (a policy check in flight)."""
        self.recorded.append(resource)
        if self.listener is not None:
            self.listener(resource)

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = _struct(request.outputs)
            self.raw_stack_outputs = _struct(request.outputs, mask=False)
        return super().RegisterResourceOutputs(request)


def _provider_urn(ref: str) -> str | None:
    """A provider reference is `<urn>::<id>`; keep the URN."""
    return ref.rsplit("::", 1)[0] if ref else None


def fq_stack(organization: str, stack: str) -> str:
    return f"{organization}/{PROJECT}/{stack}"


def plan_stack(stack: str, stacks_dir: Path = STACKS_DIR, _seen: tuple[str, ...] = (),
               cache: dict[str, Plan] | None = None) -> Plan:
    """Plan `stack` offline. Raises ConfigError for an invalid or unknown stack.

    `cache` keeps the plans of referenced platform stacks (and of platform stacks planned
    themselves) across calls on the same `stacks_dir`: a batch plans each platform once.
    """
    from dataplatform.program import load

    if cache is not None and stack in cache:
        return cache[stack]
    return plan_loaded(load(stack, stacks_dir), stacks_dir, _seen, cache)


def plan_loaded(loaded: LoadedStack, stacks_dir: Path = STACKS_DIR,
                _seen: tuple[str, ...] = (), cache: dict[str, Plan] | None = None,
                listener: Callable[[PlannedResource], None] | None = None) -> Plan:
    """Plan a stack whose file `load()` validated; `listener` sees each resource as the
    program registers it (the policy pack analyses it meanwhile, as under the engine)."""
    from dataplatform.program import build

    cfg, stack = loaded.cfg, loaded.name
    references: dict[str, tuple[dict[str, Any], list[str]]] = {}
    offline: frozenset[str] = frozenset()
    if cfg.platform is not None:
        if cfg.platform.stack in _seen:
            raise RuntimeError(f"stack reference cycle: {' -> '.join((*_seen, stack))}")
        ref = plan_stack(cfg.platform.stack, stacks_dir, (*_seen, stack), cache)
        references[fq_stack(cfg.platform.organization, cfg.platform.stack)] = (
            ref.raw_outputs, ref.secret_outputs)
        offline = ref.offline_values
    plan = run_program(stack, lambda: build(loaded), PlatformMocks(references, offline),
                       config=offline_config(cfg), listener=listener)
    plan.profile = cfg.profile
    if cache is not None and cfg.kind == "platform":
        cache[stack] = plan
    return plan


def run_program(stack: str, program, mocks: pulumi.runtime.Mocks,
                config: tuple[dict[str, str], list[str]] = ({}, []),
                listener: Callable[[PlannedResource], None] | None = None) -> Plan:
    """Run `program` (returning a dict of stack outputs) under `mocks`, and record it.

    `config` is the Pulumi config the program sees, with its secret keys (config secrets
    stand in as placeholders: the offline plan never decrypts).
    """
    monitor = RecordingMonitor(mocks, listener)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True,
                             monitor=monitor, organization="organization", logger=PROGRAM_LOG)
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config(*config)

    def main():
        outputs = program() or {}
        root = pulumi_settings.get_root_resource()
        assert isinstance(root, pulumi.ComponentResource)  # the Stack that set_mocks made
        root.register_outputs(outputs)

    _sync_await(run_pulumi_func(main))
    resources = sorted(monitor.recorded, key=lambda r: r.urn)
    plan = Plan(PROJECT, stack, resources, dict(sorted(monitor.stack_outputs.items())),
                raw_outputs=monitor.raw_stack_outputs,
                offline_values=frozenset(getattr(mocks, "offline", ())))
    pulumi_settings.ROOT.set(None)
    return plan


def _aliases(request: Any) -> list[str]:
    """The aliases our code gives a resource, as `key=value` pairs (name, type, parent).

    pulumi-kubernetes aliases every object to the other API versions of its kind; those
    say nothing about this program and are left out."""
    kind = request.type.rsplit(":", 1)[-1]
    out = []
    for alias in request.aliases:
        spec = {k: v for k, v in json_format.MessageToDict(alias).get("spec", {}).items() if v}
        if set(spec) == {"type"} and spec["type"].rsplit(":", 1)[-1] == kind:
            continue
        out.append(",".join(f"{k}={v}" for k, v in sorted(spec.items())))
    return out + [f"urn={u}" for u in request.aliasURNs]
