"""The component contract, checked on every shipped stack's plan, and the aliases that keep
deployed stacks in place across renames.

- every component has a token `dataplatform:<area>:<Class>` naming a ComponentResource class
  of `components/` that registers exactly that token;
- every resource but the stack has a parent, and each child of one of our components is
  named `f"{parent}-<role>"` (renaming a parent then renames its children consistently,
  and Pulumi derives the children's aliases from the parent's);
- every resource a shipped stack had before a rename is still reached: by its URN, by an
  alias of its own, or by the alias its parent passes on (tests/golden/deployed/).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dataplatform.plan.engine import Plan
from foundation.config.loader import available_stacks

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SHIPPED = available_stacks()
TOKEN = re.compile(r"dataplatform:(?P<area>[a-z]+):(?P<cls>[A-Z][A-Za-z0-9]+)")
DEPLOYED = REPO / "tests" / "golden" / "deployed"


def component_tokens() -> dict[str, str]:
    """Token -> class name, read from the source: the first argument of each
    ComponentResource subclass's `super().__init__` call."""
    found: dict[str, str] = {}
    for path in (REPO / "components").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "__init__" and call.args
                        and isinstance(call.args[0], ast.Constant)
                        and str(call.args[0].value).startswith("dataplatform:")):
                    found[call.args[0].value] = node.name
    return found


def test_every_component_class_registers_its_own_class_name():
    tokens = component_tokens()
    assert len(tokens) >= 25
    bad = {t: c for t, c in tokens.items()
           if not (m := TOKEN.fullmatch(t)) or m["cls"] != c}
    assert not bad, f"tokens not of the form dataplatform:<area>:<Class>: {bad}"


@pytest.mark.parametrize("stack", SHIPPED)
def test_tokens_parents_and_child_names(shipped_plan, stack):
    plan: Plan = shipped_plan(stack)
    tokens, by_urn = component_tokens(), {r.urn: r for r in plan.resources}
    problems = []
    for r in plan.resources:
        if r.type.startswith("dataplatform:") and r.type not in tokens:
            problems.append(f"{r.name}: token {r.type} is no component of components/")
        if not r.parent:
            problems.append(f"{r.name} ({r.type}) has no parent")
            continue
        parent = by_urn.get(r.parent)
        if parent is None or not parent.type.startswith("dataplatform:"):
            continue  # the stack itself, or a provider-side component (helm.v4 Chart)
        role = r.name[len(parent.name) + 1:] if r.name.startswith(f"{parent.name}-") else ""
        if not role:
            problems.append(f"{r.name} ({r.type}) is not named f'{{parent}}-<role>' under "
                            f"{parent.name} ({parent.type})")
    assert not problems, "\n".join(problems)


def reachable(plan: Plan) -> set[str]:
    """URNs a deployed resource may have and still be found: current URNs, the URNs of
    `name=` aliases, and those Pulumi derives for children of an aliased parent (a child
    whose name starts with its parent's takes the parent's former name as prefix)."""
    def renamed(urn: str, name: str) -> str:
        return f"{urn.rsplit('::', 1)[0]}::{name}"

    former: dict[str, list[str]] = {}  # urn -> former names
    for r in plan.resources:
        former[r.urn] = [a.removeprefix("name=") for a in r.aliases if a.startswith("name=")]
    out, by_urn = {r.urn for r in plan.resources}, {r.urn: r for r in plan.resources}
    for r in plan.resources:
        out.update(renamed(r.urn, n) for n in former[r.urn])
        parent = by_urn.get(r.parent or "")
        if parent is not None and r.name.startswith(parent.name):
            out.update(renamed(r.urn, n + r.name[len(parent.name):])
                       for n in former[parent.urn])
    return out


@pytest.mark.parametrize("stack", SHIPPED)
def test_deployed_resources_are_reached_after_renames(shipped_plan, stack):
    """A stack deployed before a rename updates in place: no resource is replaced."""
    deployed = [u for u in (DEPLOYED / f"{stack}.urns").read_text().splitlines()
                if u and not u.startswith("#")]
    lost = sorted(set(deployed) - reachable(shipped_plan(stack)))
    assert not lost, f"{len(lost)} deployed resources would be replaced: {lost[:5]}"


def test_the_app_releases_carry_their_former_names(shipped_plan):
    """The HelmApps took their parent's own name before 0.2; each says so in an alias."""
    plan = shipped_plan("local")
    helm = {r.name: r.aliases for r in plan.resources if r.type == "dataplatform:apps:HelmApp"}
    assert helm["acme-marketing-dev-airflow-helm"] == ["name=acme-marketing-dev-airflow"]
    assert all(a == [f"name={n.removesuffix('-helm')}"] for n, a in helm.items()
               if n.endswith("-helm")), helm


def component_classes() -> list[tuple[Path, ast.ClassDef]]:
    out = []
    for path in sorted((REPO / "components").rglob("*.py")):
        out += [(path, c) for c in ast.parse(path.read_text()).body
                if isinstance(c, ast.ClassDef)
                and any("ComponentResource" in ast.unparse(b) for b in c.bases)]
    return out


def test_outputs_are_typed_attributes_registered_as_such():
    """Every `pulumi.Output` attribute a component declares is registered, and everything
    it registers is a declared attribute (a literal dict; the stacks' `exports` excepted)."""
    classes, problems = component_classes(), []
    assert len(classes) >= 25
    for path, cls in classes:
        declared = {s.target.id: ast.unparse(s.annotation) for s in cls.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
        calls = [n for n in ast.walk(cls) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == "register_outputs"]
        if len(calls) != 1:
            problems.append(f"{cls.name}: {len(calls)} register_outputs calls")
            continue
        arg = calls[0].args[0] if calls[0].args else None
        if not isinstance(arg, ast.Dict):
            continue  # `self.exports`: the stack outputs, checked by the plan tests
        registered = {k.value for k in arg.keys if isinstance(k, ast.Constant)}
        outputs = {n for n, a in declared.items() if "Output" in a}
        if outputs - registered or registered - set(declared):
            problems.append(f"{path.relative_to(REPO)}:{cls.name}: declared outputs not "
                            f"registered {sorted(outputs - registered)}, registered but not "
                            f"declared {sorted(registered - set(declared))}")
    assert not problems, "\n".join(problems)
