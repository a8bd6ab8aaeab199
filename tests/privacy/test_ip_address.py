"""IP text → 128-bit numbers and public/non-public, in DuckDB, checked against Python's ipaddress."""

import ipaddress

import duckdb
import pytest

from idbx.privacy.ip_address import IPV4_MAPPED, install_ip_macros

WELL_FORMED = [
    "8.8.8.8",
    " 193.0.6.139 ",
    "0.0.0.0",
    "255.255.255.255",
    "::",
    "::1",
    "1::",
    "2001:db8::1",
    "2001:500:88:200::8",
    "2001:0DB8:0000:0000:0000:0000:0000:0001",
    "1:2:3:4:5:6:7:8",
    "::2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::",
    "::ffff:8.8.8.8",
    "::FFFF:190.3.4.7",
    "64:ff9b::8.8.8.8",
    "fe80::1",
    "ff02::1",
]
MALFORMED = [
    "",
    " ",
    "unknown",
    "localhost",
    "08.8.8.8",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.4, 10.0.0.1",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "12345::1",
    "g::1",
    "::1.2.3.4.5",
    "1:2:3:4:5:6:7:8::",
]


@pytest.fixture
def con():
    con = duckdb.connect()
    install_ip_macros(con)
    return con


def _expected(text: str) -> int:
    address = ipaddress.ip_address(text.strip())
    return int(address) + (IPV4_MAPPED if address.version == 4 else 0)


def test_numbers_match_python(con):
    got = dict(con.execute("SELECT s, ip_number(s) FROM unnest(?) t(s)", [WELL_FORMED]).fetchall())
    assert got == {text: _expected(text) for text in WELL_FORMED}


def test_ipv4_and_its_mapped_form_are_the_same_number(con):
    a, b = con.execute("SELECT ip_number('190.3.4.7'), ip_number('::ffff:190.3.4.7')").fetchall()[0]
    assert a == b == IPV4_MAPPED + int(ipaddress.IPv4Address("190.3.4.7"))


def test_malformed_text_is_null(con):
    got = con.execute("SELECT s, ip_number(s), ip_is_public(s) FROM unnest(?) t(s)", [MALFORMED + [None]]).fetchall()
    assert [(s, n, public) for s, n, public in got if n is not None or public] == []
    for text in MALFORMED:  # the oracle agrees these are not addresses
        with pytest.raises(ValueError):
            ipaddress.ip_address(text.strip())


def test_canonical_text_round_trips(con):
    rows = con.execute("SELECT s, ip_text(ip_number(s)) FROM unnest(?) t(s)", [WELL_FORMED]).fetchall()
    assert all(_expected(canonical) == _expected(text) for text, canonical in rows)
    assert dict(rows)["::FFFF:190.3.4.7"] == "190.3.4.7"
    assert dict(rows)["2001:db8::1"] == "2001:0db8:0000:0000:0000:0000:0000:0001"


@pytest.mark.parametrize(
    "text",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.10.1",
        "100.64.0.1",
        "0.1.2.3",
        "192.0.2.5",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",
        "3fff::1",
        "64:ff9b::8.8.8.8",
    ],
)
def test_special_purpose_addresses_are_not_public(con, text):
    assert con.execute("SELECT ip_is_public(?)", [text]).fetchall()[0][0] is False


@pytest.mark.parametrize(
    "text", ["8.8.8.8", "190.3.4.7", "1.1.1.1", "::ffff:8.8.8.8", "2001:4860:4860::8888", "2800:3f0::1", "2c0f:fb50:4003::1"]
)
def test_global_unicast_addresses_are_public(con, text):
    assert con.execute("SELECT ip_is_public(?)", [text]).fetchall()[0][0] is True
    assert ipaddress.ip_address(text).is_global
