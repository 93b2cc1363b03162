"""The layers import only downward, with no circle (dataplatform/layers.py)."""

from __future__ import annotations

import pytest

from dataplatform.layers import cycles, import_graph, layer_violations

pytestmark = pytest.mark.unit


def test_the_project_has_no_import_circle_and_no_upward_import():
    graph = import_graph()
    assert len(graph.modules) > 100
    assert cycles(graph) == []
    assert layer_violations(graph) == []


def write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checks_catch_a_circle_an_upward_import_and_a_stack_config_in_a_component(tmp_path):
    write(tmp_path, {
        "foundation/__init__.py": "",
        "foundation/config/__init__.py": "",
        "foundation/config/stack.py": "from foundation.config.a import X\n",
        "foundation/config/a.py": "from foundation.config import stack\nX = 1\n",
        "foundation/naming.py": "def f():\n    from components.thing import T\n",
        "components/__init__.py": "",
        "components/thing.py": "from foundation.config.stack import StackConfig\nT = 1\n",
        "dataplatform/__init__.py": "",
        "dataplatform/cli.py": "from components.thing import T\nfrom foundation.naming import f\n",
        "policies/guardrails/__init__.py": "from foundation.naming import f\n",
    })
    graph = import_graph(tmp_path)
    assert cycles(graph) == [["foundation.config.a", "foundation.config.stack"]]
    assert layer_violations(graph) == [
        "components.thing -> foundation.config.stack: components take Args, not the stack "
        "config",
        "foundation.naming -> components.thing: foundation may not import components",
        "policies.guardrails -> foundation.naming: the policy pack stands alone",
    ]


def test_imports_for_the_type_checker_only_are_left_out(tmp_path):
    write(tmp_path, {
        "foundation/__init__.py": "",
        "foundation/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from foundation.b import B\n",
        "foundation/b.py": "from foundation.a import A\n",
        "components/__init__.py": "", "dataplatform/__init__.py": "",
        "policies/guardrails/__init__.py": "",
    })
    assert cycles(import_graph(tmp_path)) == []
