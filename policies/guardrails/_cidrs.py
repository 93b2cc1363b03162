"""CIDR sets judged by what they cover together, not one entry at a time.

An allow list is *public* when its entries, merged, reach at least `PUBLIC_IPV4_THRESHOLD`
public IPv4 addresses or `PUBLIC_IPV6_THRESHOLD` global unicast IPv6 addresses. Private
and reserved ranges (RFC 1918, CGNAT, loopback, link-local, documentation, multicast...)
do not count: an allow list of them exposes nothing to the internet. So `0.0.0.0/0`,
`0.0.0.0/1` + `128.0.0.0/1`, sixteen `/4`s, `0.0.0.1/0` (host bits set), `::/0` and
`2000::/3` are public; one corporate `/24`, or RFC 1918 only, is not. Entries that are not
CIDRs or addresses are ignored (the cloud API refuses them anyway).

Standard library only: the pack stands alone. `covers_public` is the one definition; the
stack config loader applies the same rule (a test holds the two together).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

def _span(net: Network) -> tuple[int, int]:
    """A network as its first and last address, as integers."""
    return int(net.network_address), int(net.broadcast_address)


PUBLIC_IPV4_THRESHOLD = 2**24
"""A /8 worth of public IPv4 addresses. No organisation needs that much of the internet
in an allow list: it is more than any one organisation's allocation bar a handful of
legacy /8 holders, so a set reaching it is the internet, or nearly all of it."""
PUBLIC_IPV6_THRESHOLD = 2**112
"""A /16 worth of global unicast IPv6 (2000::/3); an organisation's allocation is a /32
to /48, so a /16 is, again, far more than anyone's own network."""

NOT_PUBLIC_IPV4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
"""Private, shared, loopback, link-local, documentation, benchmark, multicast and reserved
IPv4 ranges (IANA special-purpose registry); 240.0.0.0/4 includes 255.255.255.255."""
GLOBAL_UNICAST_IPV6 = ipaddress.IPv6Network("2000::/3")
NOT_PUBLIC_IPV6 = tuple(ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "3fff::/20"))
"""The IPv6 documentation ranges inside 2000::/3."""
NOT_PUBLIC_IPV4_SPANS = tuple(_span(n) for n in NOT_PUBLIC_IPV4)
NOT_PUBLIC_IPV6_SPANS = tuple(_span(n) for n in NOT_PUBLIC_IPV6)
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
"""`::ffff:a.b.c.d`: IPv4 addresses spelt as IPv6, judged as the IPv4 they are."""


@dataclass(frozen=True)
class Coverage:
    """How many public addresses a CIDR set covers, per IP version."""

    ipv4: int
    ipv6: int

    @property
    def public(self) -> bool:
        return self.ipv4 >= PUBLIC_IPV4_THRESHOLD or self.ipv6 >= PUBLIC_IPV6_THRESHOLD

    def describe(self) -> str:
        """E.g. "100% of the public IPv4 internet", for messages."""
        parts = []
        for version, count in ((4, self.ipv4), (6, self.ipv6)):
            whole = PUBLIC_IPV4_TOTAL if version == 4 else PUBLIC_IPV6_TOTAL
            if count >= 2**16:
                share = 100 * count / whole
                shown = f"{share:.0f}%" if share >= 1 else f"{share:.2g}%"
                parts.append(f"{shown} of the public IPv{version} internet")
            elif count:
                parts.append(f"{count} public IPv{version} address(es)")
        return " and ".join(parts) or "no public addresses"


def parse(cidr: object) -> Network | None:
    """A CIDR (or a bare address) as a network, host bits dropped; None if it is not one."""
    try:
        net = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return None
    if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(IPV4_MAPPED):
        return ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
    return net


def _public_size(net: Network) -> int:
    """The public addresses of `net`: the addresses of its public space (all of IPv4,
    2000::/3 of IPv6) minus the reserved ranges there (which do not overlap each other)."""
    lo, hi = _span(net)
    if isinstance(net, ipaddress.IPv4Network):
        reserved = NOT_PUBLIC_IPV4_SPANS
    else:
        glo, ghi = _span(GLOBAL_UNICAST_IPV6)
        lo, hi = max(lo, glo), min(hi, ghi)
        reserved = NOT_PUBLIC_IPV6_SPANS
    if lo > hi:
        return 0
    return hi - lo + 1 - sum(max(0, min(hi, rhi) - max(lo, rlo) + 1) for rlo, rhi in reserved)


def coverage(cidrs: Iterable[object]) -> Coverage:
    """The public addresses the union of `cidrs` covers (overlaps counted once)."""
    nets = [n for n in (parse(c) for c in cidrs) if n is not None]
    v4 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv6Network))
    return Coverage(sum(_public_size(n) for n in v4), sum(_public_size(n) for n in v6))


PUBLIC_IPV4_TOTAL = coverage(["0.0.0.0/0"]).ipv4
PUBLIC_IPV6_TOTAL = coverage(["::/0"]).ipv6


def shown(cidrs: list[str], most: int = 6) -> str:
    """`cidrs` for a message: the first few, then how many more."""
    more = f" and {len(cidrs) - most} more" if len(cidrs) > most else ""
    return ", ".join(cidrs[:most]) + more


def covers_public(cidrs: Iterable[str]) -> bool:
    """Whether `cidrs` together cover the internet, or nearly all of it (see the thresholds)."""
    return coverage(cidrs).public
