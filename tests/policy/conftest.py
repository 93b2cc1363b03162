"""One real policy pack process for the test session."""

from __future__ import annotations

import pytest

from dataplatform.plan.policy import PolicyPackClient


@pytest.fixture(scope="session")
def pack():
    """The pack in `policies/`, started once, stopped at the end of the session."""
    with PolicyPackClient() as client:
        yield client
