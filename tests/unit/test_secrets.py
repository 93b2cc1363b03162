"""No secret ever appears in plaintext in a plan, in JSON or as text.

Every `random` resource answers with a known, unique planted value (`PLANTED-…`), and a
domain's StackReference answers with a planted kubeconfig. The mocks do not mark them
secret (the mock monitor ignores `additionalSecretOutputs`), so this is stricter than the
real engine: each value must be made secret by the code that handles it (Output.secret,
or an input the provider SDK wraps, like a Secret's `stringData`). The planted values are
shown to reach their consumers, and a deliberate leak is shown to be caught.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from dataplatform.plan import engine
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.plan.render import to_json, to_text
from dataplatform.program import build, load
from foundation import credentials
from foundation.config.loader import STACKS_DIR, available_stacks
from foundation.config.secrets import offline_config

pytestmark = pytest.mark.unit

PLANTED = "PLANTED-"
PLANTED_KUBECONFIG = f"{PLANTED}platform-kubeconfig"
RANDOM_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomString:RandomString": ("result",),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
}
APPS = {app: {"enabled": True} for app in ("airflow", "airbyte", "metabase")}


class PlantingMocks(PlatformMocks):
    """PlatformMocks whose random results are planted; notes which resources received them."""

    def __init__(self, stack_outputs=None):
        super().__init__(stack_outputs)
        self.planted: set[str] = set()
        self.carriers: list[str] = []  # "type name" of resources given a planted value

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        # Inputs arrive here unwrapped: a planted value shows up whether secret or not.
        if PLANTED in json.dumps(args.inputs, default=str):
            self.carriers.append(f"{args.typ} {args.name}")
        id_, state = super().new_resource(args)
        for output in RANDOM_OUTPUTS.get(args.typ, ()):
            state[output] = f"{PLANTED}{output}-{args.name}"
            self.planted.add(state[output])
        return id_, state


class OutputsMonitor(engine.RecordingMonitor):
    """RecordingMonitor that also keeps every component's registered outputs (masked)."""

    def __init__(self, mocks: PlantingMocks, listener=None):
        super().__init__(mocks, listener)
        mocks.monitor = self
        self.component_outputs: dict[str, Any] = {}

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] != "pulumi:pulumi:Stack":  # the stack's are in the plan
            self.component_outputs[request.urn] = engine._struct(request.outputs)
        return super().RegisterResourceOutputs(request)


def planted_plan(stack: str, stacks_dir: Path, monkeypatch) -> tuple[engine.Plan, PlantingMocks]:
    """`engine.plan_stack` with planted mocks; a platform's kubeconfig output is planted."""
    loaded = load(stack, stacks_dir)
    cfg = loaded.cfg
    references = {}
    if cfg.platform is not None:
        ref, _ = planted_plan(cfg.platform.stack, stacks_dir, monkeypatch)
        outputs = {**ref.raw_outputs, "kubeconfig": PLANTED_KUBECONFIG}
        references[engine.fq_stack(cfg.platform.organization, cfg.platform.stack)] = (
            outputs, ref.secret_outputs)
    mocks = PlantingMocks(references)
    monkeypatch.setattr(engine, "RecordingMonitor", OutputsMonitor)
    # the config the program reads, config secrets as the offline plan's placeholders
    plan = engine.run_program(stack, lambda: build(loaded), mocks,
                              config=offline_config(cfg))
    if cfg.platform is not None:
        mocks.planted.add(PLANTED_KUBECONFIG)
    return plan, mocks


def leaks(plan: engine.Plan, mocks: PlantingMocks) -> list[str]:
    """Every place a planted value shows in plaintext: JSON, text, component outputs."""
    rendered = {"json": to_json(plan), "text": to_text(plan),
                "component outputs": json.dumps(mocks.monitor.component_outputs)}
    return [f"{value} in the {where}" for value in sorted(mocks.planted)
            for where, text in rendered.items() if value in text]


def with_apps(stacks, stack: str, **extra) -> str:
    cfg = {**stacks.shipped(stack), "apps": APPS, **extra}
    stacks.write(f"{stack}-apps", cfg)
    return f"{stack}-apps"


def variants(stacks) -> dict[str, Path]:
    """Every shipped stack, and domains whose apps get per-app database credentials."""
    out = {name: STACKS_DIR for name in available_stacks()}
    for stack, extra in (("local", {}), ("aws-finance", {}),
                         ("gcp-marketing", {"database": {"mode": "managed"}})):
        out[with_apps(stacks, stack, **extra)] = stacks.path
    return out


STACKS = [*available_stacks(), "local-apps", "aws-finance-apps", "gcp-marketing-apps"]


@pytest.mark.parametrize("stack", STACKS)
def test_planted_secrets_never_show_in_the_plan(stack, stacks, monkeypatch):
    plan, mocks = planted_plan(stack, variants(stacks)[stack], monkeypatch)
    assert leaks(plan, mocks) == []
    assert engine.SECRET in to_json(plan), "nothing is masked: the check would be vacuous"
    if plan.outputs.get("kubeconfig") is not None or stack.endswith("-platform"):
        assert plan.outputs["kubeconfig"] == engine.SECRET
        raw = plan.raw_outputs["kubeconfig"]
        assert raw and raw not in to_json(plan) and json.dumps(raw) not in to_json(plan)
    kubeconfigs = {urn: outputs["kubeconfig"] for urn, outputs
                   in mocks.monitor.component_outputs.items() if outputs.get("kubeconfig")}
    assert set(kubeconfigs.values()) <= {engine.SECRET}, kubeconfigs
    assert kubeconfigs or not stack.endswith("-platform"), "no cluster output its kubeconfig"


@pytest.mark.parametrize("stack", STACKS)
def test_no_planned_input_holds_a_credential_in_clear(stack, stacks, monkeypatch):
    """The loader's own detector, run over what the plan hands the engine (Helm values
    included): anything it finds that is not masked would be a credential in clear."""
    plan, _ = planted_plan(stack, variants(stacks)[stack], monkeypatch)
    found = [f"{r.type} {r.name}: {'.'.join(map(str, f.path))}: {f.what}"
             for r in plan.resources
             for f in credentials.find(r.inputs, ignore=[engine.SECRET])]
    assert found == []


def test_the_detector_would_see_a_leaked_credential(stacks, monkeypatch):
    """Not vacuous: a planted value under a credential key in a Helm release is found."""
    plan, _ = planted_plan("local-apps", variants(stacks)["local-apps"], monkeypatch)
    release = next(r for r in plan.resources if r.type.startswith("kubernetes:helm.sh"))
    leaked = {**release.inputs, "values": {"auth": {"password": "PLANTED-leak"}}}
    assert credentials.find(leaked, ignore=[engine.SECRET])


@pytest.mark.parametrize("stack,min_randoms", [
    ("local", 2), ("local-apps", 5), ("aws-finance-apps", 4), ("gcp-marketing-apps", 3)])
def test_planted_values_reach_their_consumers(stack, min_randoms, stacks, monkeypatch):
    """The check is not vacuous: the planted passwords are in resources' real inputs."""
    plan, mocks = planted_plan(stack, variants(stacks)[stack], monkeypatch)
    randoms = [r for r in plan.resources if r.type in RANDOM_OUTPUTS]
    assert len(randoms) >= min_randoms
    # Planted values read PLANTED-<output>-<resource name> (result, base64, hex…).
    assert {r.name for r in randoms} <= {v.split("-", 2)[2] for v in mocks.planted}
    assert any(c.startswith("kubernetes:core/v1:Secret ") for c in mocks.carriers), mocks.carriers
    for carrier in mocks.carriers:
        typ, name = carrier.split(" ")
        masked = json.dumps(plan.get(typ, name).inputs)
        assert engine.SECRET in masked, f"{carrier} got a planted value, nothing masked"


def test_domain_provider_gets_the_platform_kubeconfig_as_a_secret(stacks, monkeypatch):
    plan, mocks = planted_plan("aws-finance", STACKS_DIR, monkeypatch)
    providers = plan.by_type("pulumi:providers:kubernetes")
    assert [p.inputs["kubeconfig"] for p in providers] == [engine.SECRET]
    assert any(c.startswith("pulumi:providers:kubernetes ") for c in mocks.carriers)
    assert leaks(plan, mocks) == []


def test_a_plaintext_leak_is_caught(monkeypatch):
    """A RandomString (whose result is not secret, even for the real engine) used as a
    password in a ConfigMap and a stack output is found; in a Secret it is masked."""
    def program():
        password = random.RandomString("leaky", length=16)
        k8s.core.v1.ConfigMap("leaky", data={"password": password.result})
        k8s.core.v1.Secret("fine", string_data={"password": password.result})
        return {"password": password.result}

    mocks = PlantingMocks()
    monkeypatch.setattr(engine, "RecordingMonitor", OutputsMonitor)
    plan = engine.run_program("leak", program, mocks)
    assert mocks.planted == {f"{PLANTED}result-leaky"}
    assert leaks(plan, mocks) == [f"{PLANTED}result-leaky in the json",
                                  f"{PLANTED}result-leaky in the text"]  # text: the output
    assert plan.get("kubernetes:core/v1:ConfigMap", "leaky").inputs["data"]["password"] == \
        f"{PLANTED}result-leaky"
    assert plan.get("kubernetes:core/v1:Secret", "fine").inputs["stringData"] == engine.SECRET
