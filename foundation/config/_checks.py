"""Field validators shared by the config sections."""

from __future__ import annotations

import re

from pydantic import AfterValidator


def matching(regex: re.Pattern[str], what: str) -> AfterValidator:
    """Refuses a value `regex` does not match in full, with "'<value>' is not <what>"."""

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"'{value}' is not {what}")
        return value

    return AfterValidator(check)
