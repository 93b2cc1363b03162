import pytest

from foundation.naming import LIMITS, Naming, fit, is_dns_label

pytestmark = pytest.mark.unit


def test_names_are_built_from_customer_domain_environment():
    n = Naming("acme", "marketing", "dev")
    assert n.base == "acme-marketing-dev"
    assert n.namespace() == "acme-marketing-dev"
    assert n.namespace("sandbox") == "acme-marketing-dev-sandbox"
    assert n.bucket("raw", "aws") == "acme-marketing-dev-raw"


def test_fit_keeps_short_names_and_cuts_long_ones_deterministically():
    assert fit("short", 30) == "short"
    long = "acme-marketing-analytics-dev-airflow-logs"
    cut = fit(long, LIMITS["gcp-service-account"])
    assert len(cut) == 30
    assert cut == fit(long, 30), "the same input must give the same name"
    assert cut != fit(long + "x", 30), "different inputs must not collide"
    assert is_dns_label(cut)


@pytest.mark.parametrize("value,ok", [
    ("acme", True), ("a1-b2", True), ("Acme", False), ("-acme", False),
    ("acme-", False), ("ac_me", False), ("a" * 63, True), ("a" * 64, False),
])
def test_dns_label(value, ok):
    assert is_dns_label(value) is ok
