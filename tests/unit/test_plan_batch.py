"""`dataplatform plan` over several stacks: one process, per-stack output, the worst exit
code, referenced platform plans computed once, and worker processes that change nothing."""

from __future__ import annotations

import json

import pytest

from dataplatform import affected, cli
from dataplatform.plan import batch, engine, planner

pytestmark = pytest.mark.unit


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_batch_prints_each_stack_under_its_header_in_the_order_asked(capsys):
    code, out, err = _run(capsys, "local-extra", "local", "--no-policy")
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("=== ")]
    assert headers == ["=== local-extra (exit 0) ===", "=== local (exit 0) ==="]
    assert out.count("Plan of stack 'local-extra'") == 1
    # Each stack's messages on stderr, prefixed with the stack that wrote them.
    assert err and all(line.startswith(("[local-extra] ", "[local] "))
                       for line in err.splitlines())


def test_one_named_stack_prints_exactly_as_before(capsys):
    code, out, _ = _run(capsys, "local", "--no-policy", "--json")
    assert code == 0
    assert json.loads(out)["stack"] == "local"  # the plan itself, not a batch document


def test_the_batch_exit_code_is_the_worst_of_its_stacks(capsys, stacks):
    stacks.write("broken", {**stacks.shipped("local"), "customer": "Not A Name"})
    code, out, err = _run(capsys, "local", "broken", "--no-policy", "--json",
                          "--stacks-dir", str(stacks.path))
    assert code == cli.EXIT_CONFIG
    doc = json.loads(out)
    assert doc["exit"] == cli.EXIT_CONFIG
    by_stack = {o["stack"]: o for o in doc["stacks"]}
    assert by_stack["local"]["exit"] == 0 and by_stack["local"]["plan"]["resources"]
    assert by_stack["broken"]["exit"] == 2 and by_stack["broken"]["plan"] is None
    assert "dataplatform:customer" in "\n".join(by_stack["broken"]["messages"])
    assert any(line.startswith("[broken] ") for line in err.splitlines())


@pytest.mark.parametrize("codes,worst", [((0, 0), 0), ((0, 1), 1), ((1, 2, 0), 2)])
def test_print_outcomes_returns_the_worst_code(capsys, codes, worst):
    outcomes = [planner.Outcome(f"s{i}", c, out="plan") for i, c in enumerate(codes)]
    assert batch.print_outcomes(iter(outcomes), batch=True, as_json=False) == worst


def test_a_referenced_platform_is_planned_once_per_batch(capsys, monkeypatch):
    ran = []
    real = engine.run_program

    def counting(stack, *args, **kwargs):
        ran.append(stack)
        return real(stack, *args, **kwargs)

    monkeypatch.setattr(engine, "run_program", counting)
    code, _, _ = _run(capsys, "aws-platform", "aws-finance", "--no-policy", "--jobs", "1")
    assert code == 0
    assert ran == ["aws-platform", "aws-finance"]  # not the platform a second time


def test_workers_plan_the_same_as_one_process(capsys, stacks, tmp_path):
    """The pool path (spawned workers, a pack each) against the in-process path."""
    stacks.write("local-extra-2", stacks.shipped("local-extra"))
    args = ("local-extra", "local-extra-2", "--json", "--stacks-dir", str(stacks.path))
    one = _run(capsys, *args, "--jobs", "1")
    two = _run(capsys, *args, "--jobs", "2")
    assert one[0] == two[0] == 0
    assert json.loads(one[1]) == json.loads(two[1])
    # Each worker consults its own pack: a policy the pack does not have is refused there.
    bad = tmp_path / "bad.json"
    bad.write_text('{"no-such-policy": "advisory"}')
    refused = _run(capsys, *args, "--jobs", "2", "--policy-config", str(bad))
    assert refused[0] == cli.EXIT_CONFIG
    outcomes = json.loads(refused[1])["stacks"]
    assert [o["exit"] for o in outcomes] == [2, 2]
    assert all("unknown policy 'no-such-policy'" in "\n".join(o["messages"]) for o in outcomes)


def test_affected_plans_the_stacks_a_change_touches(capsys, monkeypatch):
    seen = {}

    def fake(repo, base, head):
        seen.update(base=base, head=head)
        return affected.Affected(stacks=[affected.StackInfo("local", None, {})],
                                 removed=["gone"])

    monkeypatch.setattr(affected, "affected_stacks", fake)
    code, out, err = _run(capsys, "--affected", "main", "--no-policy")
    assert code == 0 and seen == {"base": "main", "head": "HEAD"}
    assert out.startswith("=== local (exit 0) ===")
    assert "removed (not planned): gone" in err


def test_nothing_affected_is_a_clean_exit(capsys, monkeypatch):
    monkeypatch.setattr(affected, "affected_stacks", lambda *a: affected.Affected())
    code, out, err = _run(capsys, "--affected", "main")
    assert code == 0 and out == ""
    assert "no stack is affected" in err


@pytest.mark.parametrize("args", [[], ["local", "--all"], ["--all", "--affected", "main"]])
def test_the_selection_is_one_of_names_all_or_affected(capsys, args):
    code, out, err = _run(capsys, *args)
    assert code == cli.EXIT_CONFIG and out == ""
    assert err.strip() == "plan: name the stacks, or give --all or --affected BASE (one of them)"


def test_workers_are_used_only_when_each_gets_several_stacks(monkeypatch):
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 2)
    assert batch.workers_for(1) == 1
    assert batch.workers_for(batch.STACKS_PER_WORKER * 2 - 1) == 1
    assert batch.workers_for(batch.STACKS_PER_WORKER * 2) == 2
    assert batch.workers_for(50) == 2
    assert batch.workers_for(3, jobs=8) == 3

