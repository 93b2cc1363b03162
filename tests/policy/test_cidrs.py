"""The pack's one coverage rule for CIDR sets (`guardrails._cidrs`): a set is public when
its entries together cover at least a /8 of public IPv4 (or a /16 of global IPv6)."""

from __future__ import annotations

import importlib

import pytest
from policy_helpers import guardrails

pytestmark = pytest.mark.policy

guardrails()
cidrs = importlib.import_module("guardrails._cidrs")


@pytest.mark.parametrize("entries", [
    ["0.0.0.0/0"],
    ["0.0.0.1/0"],  # host bits set: still the whole internet
    [" 0.0.0.0/0 "],
    ["0.0.0.0/1", "128.0.0.0/1"],
    [f"{16 * i}.0.0.0/4" for i in range(16)],
    [f"{16 * i}.0.0.0/4" for i in range(1, 15)],  # the public /4s only
    ["16.0.0.0/4"],
    ["3.0.0.0/8"],  # exactly the threshold
    ["3.0.0.0/9", "3.128.0.0/9"],  # a /8 in two halves
    ["::/0"],
    ["2000::/3"],
    ["2600::/16"],
    ["203.0.113.0/24", "::/0"],  # one wide entry among narrow ones
    ["::ffff:0.0.0.0/96"],  # IPv4 spelt as IPv6
    ["garbage", "0.0.0.0/0"],
])
def test_sets_that_cover_the_internet_or_nearly_are_public(entries):
    assert cidrs.covers_public(entries)


@pytest.mark.parametrize("entries", [
    [],
    ["198.51.100.0/24"],  # one corporate /24
    ["203.0.113.0/24", "198.51.100.7/32", "192.0.2.0/24"],
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],  # private only
    ["127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"],  # reserved only
    ["3.0.0.0/9"],  # half the threshold
    ["3.0.0.0/9", "3.0.0.0/10", "3.64.0.0/10"],  # overlaps counted once
    ["fc00::/7", "fe80::/10", "2001:db8::/32"],
    ["2600:1f00::/24"],
    ["garbage", "", "*", "999.0.0.0/8", "10.0.0.0/33"],  # not CIDRs: ignored
])
def test_narrow_private_or_garbage_sets_are_not_public(entries):
    assert not cidrs.covers_public(entries)


def test_the_threshold_is_one_slash_8_of_public_ipv4():
    assert cidrs.PUBLIC_IPV4_THRESHOLD == 2**24
    assert cidrs.PUBLIC_IPV6_THRESHOLD == 2**112
    below = cidrs.coverage(["3.0.0.0/8"]).ipv4 - 1
    assert below < cidrs.PUBLIC_IPV4_THRESHOLD <= cidrs.coverage(["3.0.0.0/8"]).ipv4


def test_coverage_counts_public_addresses_once():
    whole = cidrs.coverage(["0.0.0.0/0"])
    assert whole == cidrs.coverage(["0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "1.0.0.0/8"])
    assert whole.ipv4 == 2**32 - sum(n.num_addresses for n in cidrs.NOT_PUBLIC_IPV4)
    assert cidrs.coverage(["10.0.0.0/7"]).ipv4 == 2**24  # 11.0.0.0/8 is public
    assert cidrs.coverage(["::/0"]).ipv6 == cidrs.coverage(["2000::/3"]).ipv6


def test_messages_say_how_much_of_the_internet():
    assert cidrs.coverage(["0.0.0.0/0"]).describe() == "100% of the public IPv4 internet"
    assert cidrs.coverage(["198.51.100.0/24"]).describe() == "no public addresses"
    assert cidrs.coverage(["1.2.3.0/24"]).describe() == "256 public IPv4 address(es)"
