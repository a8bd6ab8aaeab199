"""IP addresses as 128-bit integers, in DuckDB SQL (a pure transform: no I/O, no per-address Python).

Every address becomes a UHUGEINT: IPv6 as itself, IPv4 as its IPv4-mapped IPv6 form
(`::ffff:a.b.c.d`), so one sorted range table and one join serve both families, and an IPv4
address written the mapped way is the same number. Text that is not a single well-formed address
(empty, `unknown`, a forwarded-for list, leading zeros in an octet, a hostname) is NULL.

`install_ip_macros(con)` defines, on a connection:
  ip_number(text)     UHUGEINT or NULL
  ip_text(number)     canonical text: dotted quad for IPv4, eight 4-digit groups for IPv6
  ip_is_public(text)  true for a well-formed, globally routable unicast address; false otherwise
"""

from __future__ import annotations

import ipaddress

import duckdb

IPV4_MAPPED = 0xFFFF << 32

# Not globally reachable (IANA special-purpose registries, RFC 6890 and successors): private,
# shared (CGNAT), loopback, link-local, documentation, benchmarking, multicast, reserved. An
# address in one of them says nothing about where a learner is.
IPV4_SPECIAL = {
    "0.0.0.0/8": "this network",
    "10.0.0.0/8": "private",
    "100.64.0.0/10": "shared address space",
    "127.0.0.0/8": "loopback",
    "169.254.0.0/16": "link-local",
    "172.16.0.0/12": "private",
    "192.0.0.0/24": "IETF protocol assignments",
    "192.0.2.0/24": "documentation",
    "192.88.99.0/24": "6to4 relay anycast",
    "192.168.0.0/16": "private",
    "198.18.0.0/15": "benchmarking",
    "198.51.100.0/24": "documentation",
    "203.0.113.0/24": "documentation",
    "224.0.0.0/4": "multicast",
    "240.0.0.0/4": "reserved",
}
# IPv6 outside 2000::/3 is not allocated for global unicast, except the IPv4-mapped block that
# carries the IPv4 space above: so everything below 2000:: but that block, and everything from
# 4000:: up (unique local fc00::/7, link-local fe80::/10 and multicast ff00::/8 included).
IPV6_SPECIAL = {
    ("::", "::fffe:ffff:ffff"): "reserved (below IPv4-mapped)",
    ("::1:0:0:0", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"): "reserved (outside 2000::/3)",
    "2001::/23": "IETF protocol assignments",
    "2001:db8::/32": "documentation",
    "3fff::/20": "documentation",
    ("4000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"): "reserved, unique local, link-local, multicast",
}


def _bounds(block: str | tuple[str, str]) -> tuple[int, int]:
    if isinstance(block, tuple):
        return int(ipaddress.IPv6Address(block[0])), int(ipaddress.IPv6Address(block[1]))
    network = ipaddress.ip_network(block)
    offset = IPV4_MAPPED if network.version == 4 else 0
    return offset + int(network.network_address), offset + int(network.broadcast_address)


def special_ranges() -> list[tuple[int, int, str]]:
    """(first, last, purpose) of every non-public block, as ip_number values."""
    return sorted(_bounds(block) + (purpose,) for block, purpose in (IPV4_SPECIAL | IPV6_SPECIAL).items())


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
_V4_OCTETS = ", ".join(f"((n >> {bits}::UHUGEINT) & 255::UHUGEINT)::INTEGER" for bits in (24, 16, 8, 0))
_V6_GROUPS = ", ".join(f"((n >> {bits}::UHUGEINT) & 65535::UHUGEINT)::INTEGER" for bits in range(112, -1, -16))


def _macros() -> list[str]:
    """Macros are expanded inline, so an argument used n times is computed n times: a value used
    more than once is bound once with `list_transform([value], lambda v: ...)[1]`. A lambda body
    uses only its own parameters (DuckDB 2.0.1 fails on a lambda that captures a macro argument
    when that argument is an aggregate with a FILTER)."""
    not_public = " OR ".join(f"(n BETWEEN {first}::UHUGEINT AND {last}::UHUGEINT)" for first, last, _ in special_ranges())
    return [
        # A dotted quad as a 32-bit number, NULL if it is not one.
        f"""ip_v4_number(s) AS list_transform([regexp_extract(s, '^{_IPV4}$', ['a', 'b', 'c', 'd'])],
              lambda o: try_cast(o.a AS UBIGINT) * 16777216 + try_cast(o.b AS UBIGINT) * 65536
                        + try_cast(o.c AS UBIGINT) * 256 + try_cast(o.d AS UBIGINT))[1]""",
        # An IPv6 text ending in a dotted quad, with the quad written as two hex groups instead.
        """ip_v6_plain(s) AS CASE WHEN NOT contains(s, '.') THEN s ELSE list_transform(
              [{'head': regexp_extract(s, '^(.*:)', 1), 'v4': ip_v4_number(regexp_extract(s, '([^:]*)$', 1))}],
              lambda x: x.head || printf('%x:%x', x.v4 // 65536, x.v4 % 65536))[1] END""",
        # Eight colon-separated groups (`::` expanded), or NULL if `::` is misused.
        """ip_v6_full(s) AS list_transform([ip_v6_plain(s)], lambda p: CASE
              WHEN NOT contains(p, '::') THEN p
              WHEN contains(p, ':::') OR length(p) - length(replace(p, '::', '')) > 2
                   OR len(list_filter(string_split(p, ':'), lambda g: g <> '')) > 7 THEN NULL
              ELSE list_transform([regexp_replace(regexp_replace(p, '^::', '0::'), '::$', '::0')],
                     lambda q: replace(q, '::', ':' || repeat('0:', 8 - (length(q) - length(replace(q, ':', ''))))))[1]
              END)[1]""",
        """ip_v6_number(s) AS list_transform([ip_v6_full(s)], lambda f:
              CASE WHEN regexp_full_match(f, '([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}')
              THEN list_reduce(list_transform(string_split(f, ':'), lambda g: ('0x' || g)::UHUGEINT), 
                  lambda a, b: (a << 16::UHUGEINT) | b) END)[1]""",
        # Whitespace around, and brackets or an IPv6 zone (`%eth0`), are tolerated; nothing else.
        f"""ip_number(ip) AS CASE
              WHEN contains(ip, ':') THEN ip_v6_number(lower(regexp_replace(trim(ip), '^\\[(.*)\\]$|%.*$', '\\1')))
              ELSE {IPV4_MAPPED}::UHUGEINT + ip_v4_number(trim(ip)) END""",
        f"""ip_text(n) AS CASE
              WHEN n >> 32::UHUGEINT = 65535 THEN printf('%d.%d.%d.%d', {_V4_OCTETS})
              ELSE printf('{":".join(["%04x"] * 8)}', {_V6_GROUPS}) END""",
        f"""ip_number_is_public(n) AS coalesce(NOT ({not_public}), false)""",
        """ip_is_public(ip) AS list_transform([ip_number(ip)], lambda n: ip_number_is_public(n))[1]""",
    ]


def ip_macros_sql() -> list[str]:
    """The statements defining the ip_* macros (temporary: each connection's own)."""
    return [f"CREATE OR REPLACE TEMP MACRO {macro}" for macro in _macros()]


def install_ip_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the ip_* macros on this connection (they live as long as it does)."""
    for statement in ip_macros_sql():
        con.execute(statement)
