"""Evaluate the policy pack (`policies/`) on an offline plan, through the analyzer protocol.

The pack runs as the Pulumi CLI runs it: its own process (`python -u __main__.py` in
`policies/`), serving the Analyzer gRPC service on the port it prints. The client does
what the engine does: GetAnalyzerInfo, Configure (every policy's enforcement level and
properties), ConfigureStack, one Analyze per resource (inputs as a protobuf Struct, with
options and provider), then AnalyzeStack with the whole graph. Secrets stay masked:
"[secret]" travels as a secret value, "[unknown]" as the engine's unknown sentinel.

Config: the profile decides every policy's level (prod mandatory, dev advisory), then an
optional file in Pulumi's `--policy-pack-config` format overrides it:
`policies/config/<stack>.json`, or the file given with `dataplatform plan --policy-config`.
Under `pulumi preview` the pack derives the same defaults from the stack config, so the
same file passed as `--policy-pack-config` gives the same levels.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from dataplatform.plan.engine import SECRET, Plan, PlannedResource
from foundation.config.loader import PROJECT, STACKS_DIR
from foundation.layout import POLICY_CONFIG_DIR

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
CONFIG_DIR = POLICY_CONFIG_DIR
PROFILE_LEVEL = {"prod": "mandatory", "dev": "advisory"}
LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY,
          "disabled": proto.DISABLED, "remediate": proto.REMEDIATE}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
RETAIN_KEY = "__retainOnDelete"  # see policies/guardrails/_base.py
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown string
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
_ENGINE_ENV = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN",
               "PULUMI_ORGANIZATION")


class PolicyPackError(RuntimeError):
    """The pack did not start or failed to answer."""


class PolicyConfigError(ValueError):
    """An invalid policy config file (reported like a config error, exit code 2)."""


def _wire(value: Any) -> Any:
    """Plan values as the engine sends them: secrets marked, unknowns as sentinels."""
    if value == SECRET:
        return {**SECRET_SIG, "value": SECRET}
    if value == "[unknown]":
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(_wire(dict(props)))
    return s


class PolicyPackClient:
    """The pack's process and an Analyzer stub on it; use as a context manager."""

    def __init__(self, pack_dir: Path | None = None, *,
                 env: Mapping[str, str] | None = None, timeout: float = 60.0):
        self.pack_dir, self.timeout = Path(pack_dir or PACK_DIR), timeout
        self.env = {k: v for k, v in os.environ.items() if k not in _ENGINE_ENV}
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None
        self._stderr: Any = None
        self.info: Any = None
        self.stub: Any = None
        self.startup_seconds = 0.0
        self._t0 = 0.0

    def __enter__(self) -> PolicyPackClient:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the pack's process and return at once: it imports while the caller plans."""
        self._t0 = time.perf_counter()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "__main__.py"], cwd=self.pack_dir, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr)

    def connect(self) -> None:
        """Wait for the launched pack's port and open the Analyzer channel on it."""
        assert self.proc is not None and self.proc.stdout is not None  # launch() ran
        port = self._read_port()
        # Keep draining stdout, so a chatty policy never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 400 << 20),
                                          ("grpc.max_send_message_length", 400 << 20)])
        try:
            grpc.channel_ready_future(self.channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            raise PolicyPackError(f"no analyzer on port {port}: {self._errors()}") from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.startup_seconds = time.perf_counter() - self._t0

    def ready(self) -> None:
        """Connect, launching the pack first unless `launch()` already did."""
        if self.proc is None:
            self.launch()
        if self.stub is None:
            self.connect()

    def _read_port(self) -> int:
        deadline = time.monotonic() + self.timeout
        proc = self.proc
        assert proc is not None and proc.stdout is not None  # start() made it, stdout=PIPE
        out = proc.stdout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([out], [], [], 0.1)
            line = out.readline().decode().strip() if ready else ""
            if line.isdigit():
                return int(line)
            if line:
                raise PolicyPackError(f"the pack printed {line!r}, not a port: {self._errors()}")
            if ready or proc.poll() is not None:  # end of output: the pack exited
                code = proc.wait(timeout=self.timeout)
                raise PolicyPackError(f"the pack exited with code {code}: {self._errors()}")
        raise PolicyPackError(f"the pack printed no port within {self.timeout:.0f}s")

    def _errors(self) -> str:
        """The last line the pack wrote on stderr (a traceback ends with the error)."""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else "(no output)"

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise PolicyPackError(f"{method}: {exc.details()}") from None

    def stop(self) -> None:
        """Stop the pack (SIGTERM, then SIGKILL), close the channel, and forget both."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Closed after the server is gone: closing a live channel first waits ~0.2 s on
        # gRPC's shutdown of its calls.
        if self.channel is not None:
            self.channel.close()
        if self._stderr is not None:
            self._stderr.close()
        self.channel = self.proc = self._stderr = self.stub = None

    # -- the engine's side of the protocol -------------------------------------------

    @property
    def policies(self) -> list[str]:
        return [p.name for p in self.info.policies]

    def configure(self, stack: str, profile: str,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Configure every policy for `stack`; returns the config sent (Pulumi's format)."""
        config = effective_config(self.info, profile, overrides)
        request = proto.ConfigureAnalyzerRequest()
        for name, entry in config.items():
            props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            request.policyConfig[name].CopyFrom(proto.PolicyConfig(
                enforcementLevel=LEVELS[entry["enforcementLevel"]], properties=_struct(props)))
        self._call("Configure", request)
        self._call("ConfigureStack", proto.AnalyzerStackConfigureRequest(
            stack=stack, project=PROJECT, organization="organization", dry_run=True,
            config={"dataplatform:profile": profile}, tags={"pulumi:project": PROJECT}))
        return config

    def analyze(self, resources: Iterable[PlannedResource], stack: str) -> list[dict[str, str]]:
        """Analyze each resource, then the stack; findings as the plan records them."""
        return Analysis(self, stack).finish(resources)

    def _request(self, r: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> Any:
        return proto.AnalyzeRequest(type=r.type, name=r.name, urn=r.urn,
                                    properties=_struct(r.inputs), options=self._options(r),
                                    provider=self._provider(r, by_urn))

    @staticmethod
    def _options(r: PlannedResource) -> Any:
        options = proto.AnalyzerResourceOptions(protect=r.protect, parent=r.parent or "")
        if "retainOnDelete" in options.DESCRIPTOR.fields_by_name:  # a future protocol
            # Not in this SDK's protocol stubs: set only where the field exists.
            options.retainOnDelete = r.retain_on_delete  # type: ignore[attr-defined]
        return options

    @staticmethod
    def _provider(r: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> Any:
        p = by_urn.get(r.provider or "")
        if p is None:
            return None
        return proto.AnalyzerProviderResource(type=p.type, name=p.name, urn=p.urn,
                                              properties=_struct(p.inputs))

    def _resource(self, r: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> Any:
        props = dict(r.inputs)
        if "retainOnDelete" not in proto.AnalyzerResourceOptions.DESCRIPTOR.fields_by_name:
            props[RETAIN_KEY] = r.retain_on_delete
        return proto.AnalyzerResource(
            type=r.type, name=r.name, urn=r.urn, properties=_struct(props),
            options=self._options(r), provider=self._provider(r, by_urn),
            parent=r.parent or "", dependencies=r.depends_on)


class Analysis:
    """One stack's analysis in flight. Each resource goes to the pack as it is sent, the
    way the engine calls Analyze as each resource registers; `finish` sends the rest,
    then the whole graph (AnalyzeStack), and returns the findings, sorted."""

    def __init__(self, client: PolicyPackClient, stack: str):
        self.client, self.stack = client, stack
        self.by_urn: dict[str, PlannedResource] = {}
        self.calls: list[tuple[str, Any]] = []

    def send(self, r: PlannedResource) -> None:
        """Analyze `r` (its provider, registered before it, is known by then)."""
        self.by_urn[r.urn] = r
        self.calls.append((r.urn, self.client.stub.Analyze.future(
            self.client._request(r, self.by_urn), timeout=self.client.timeout)))

    def finish(self, resources: Iterable[PlannedResource]) -> list[dict[str, str]]:
        resources = list(resources)
        sent = set(self.by_urn)
        self.by_urn.update((r.urn, r) for r in resources)
        for r in resources:
            if r.urn not in sent:
                self.send(r)
        findings = []
        for urn, call in self.calls:
            try:
                findings += _findings(call.result(), urn)
            except grpc.RpcError as exc:
                raise PolicyPackError(f"Analyze {urn}: {exc.details()}") from None
        client = self.client
        stack_request = proto.AnalyzeStackRequest(resources=[
            client._resource(r, self.by_urn) for r in resources])
        stack_urn = (f"urn:pulumi:{self.stack}::{PROJECT}::pulumi:pulumi:Stack::"
                     f"{PROJECT}-{self.stack}")
        findings += _findings(client._call("AnalyzeStack", stack_request), stack_urn)
        unique = {tuple(sorted(f.items())): f for f in findings}
        return sorted(unique.values(), key=lambda f: (f["policy"], f["urn"], f["message"]))


def _findings(response: Any, default_urn: str) -> list[dict[str, str]]:
    out = []
    for d in response.diagnostics:
        message = d.message
        if d.description and message.startswith(d.description + "\n"):
            message = message[len(d.description) + 1:]  # the pack prefixes its description
        out.append({"policy": d.policyName, "level": LEVEL_NAMES[d.enforcementLevel],
                    "urn": d.urn or default_urn, "message": " ".join(message.split())})
    return out


def effective_config(info: Any, profile: str,
                     overrides: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Each policy's level and properties, reconciled as the Pulumi engine does.

    The profile's level for every policy (what the pack itself defaults to under the
    CLI), the schema's defaults, `profile` for the policies that take it; then
    `overrides`: `all` sets every level, a policy's entry is a level or an object of
    `enforcementLevel` and properties (merged key by key).
    """
    config: dict[str, dict[str, Any]] = {}
    for p in info.policies:
        schema = json_format.MessageToDict(p.configSchema.properties)
        entry = {"enforcementLevel": PROFILE_LEVEL[profile]}
        entry.update({k: v["default"] for k, v in schema.items() if "default" in v})
        if "profile" in schema:
            entry["profile"] = profile
        config[p.name] = entry
    overrides = dict(overrides or {})
    all_level = overrides.pop("all", None)
    if all_level is not None:
        for entry in config.values():
            entry["enforcementLevel"] = _level("all", all_level)
    for name, value in overrides.items():
        if name not in config:
            raise PolicyConfigError(f"unknown policy '{name}' (policies: {', '.join(config)})")
        if isinstance(value, str):
            config[name]["enforcementLevel"] = _level(name, value)
        elif isinstance(value, dict):
            if "enforcementLevel" in value:
                _level(name, value["enforcementLevel"])
            config[name].update(value)
        else:
            raise PolicyConfigError(f"{name}: expected a level or an object, got {value!r}")
    return config


def _level(key: str, value: Any) -> str:
    if value not in LEVELS:
        raise PolicyConfigError(f"{key}: '{value}' is not an enforcement level "
                                f"({', '.join(LEVELS)})")
    return value


def read_overrides(stack: str, path: Path | None = None) -> dict[str, Any]:
    """The stack's policy config file (explicit `path`, else `policies/config/<stack>.json`)."""
    if path is None:
        path = CONFIG_DIR / f"{stack}.json"
        if not path.is_file():
            return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyConfigError(f"{path}: cannot read policy config ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy names")
    return data


def evaluate(plan: Plan, profile: str, overrides: Mapping[str, Any] | None = None,
             pack: PolicyPackClient | None = None,
             extra: Iterable[PlannedResource] = ()) -> list[dict[str, str]]:
    """The pack's findings on `plan` (starts and stops a pack unless one is given).

    `extra`: chart-rendered objects, analyzed in the same pass (under Argo CD delivery the
    engine never sees them, so the offline plan hands them over itself).
    """
    if pack is None:
        with PolicyPackClient() as started:
            return evaluate(plan, profile, overrides, started, extra)
    pack.ready()
    pack.configure(plan.stack, profile, overrides)
    return pack.analyze([*plan.resources, *extra], plan.stack)


def check_plan(plan: Plan, stacks_dir: Path = STACKS_DIR, config_file: Path | None = None,
               pack: PolicyPackClient | None = None,
               extra: Iterable[PlannedResource] = ()) -> list[dict[str, str]]:
    """What `dataplatform plan` runs: the stack's profile and policy config, then the pack."""
    from foundation.config import load_stack_config

    overrides = read_overrides(plan.stack, config_file)
    try:
        # The plan knows its profile; the config is read again only for a bare Plan.
        profile = plan.profile or load_stack_config(plan.stack, stacks_dir).profile
        return evaluate(plan, profile, overrides, pack, extra)
    except PolicyConfigError as exc:
        raise PolicyConfigError(f"{config_file or CONFIG_DIR / f'{plan.stack}.json'}: "
                                f"{exc}") from None
