"""YAML data files of the repository (values, profiles, the chart lock, monitoring content).

libyaml's C loader when PyYAML has it (about ten times faster than the pure-Python one,
and the values files are read on every plan); the same safe subset of YAML either way.
Stack files are not read here: `config/loader.py` keeps its own loader, with depth and
size limits for hostile input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def loads(text: str | bytes) -> Any:
    """Parse one YAML document with the safe loader."""
    return yaml.load(text, Loader=SafeLoader)


def read(path: Path) -> Any:
    """Parse the YAML file `path` (UTF-8)."""
    return loads(Path(path).read_text(encoding="utf-8"))
