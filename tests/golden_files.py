"""Golden files: a diff of one readable YAML file tells what a change did.

`assert_golden("values/airflow-local", data)` compares `data` with
`tests/golden/values/airflow-local.yaml`; `UPDATE_GOLDEN=1 pytest` rewrites the files,
and the diff is then reviewed like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.yaml"
    text = yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=100)
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.is_file():
        if not os.environ.get("UPDATE_GOLDEN") and os.environ.get("CI"):
            raise AssertionError(f"golden file {path} is missing (run UPDATE_GOLDEN=1 pytest)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    expected = path.read_text()
    assert text == expected, (f"{path.relative_to(GOLDEN.parent.parent)} differs; if the change "
                              "is intended, run UPDATE_GOLDEN=1 pytest and review the diff")
