"""Country by IP: the pinned package's registry data, and an operator's MaxMind or DB-IP file."""

import gzip

import duckdb
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from idbx.errors import ConfigError
from idbx.privacy.geoip import (
    GEOIP_DB_ENV,
    PackageCountries,
    RangeCountries,
    country_by_ip,
    install_country_lookup,
    open_country_database,
)
from idbx.privacy.ip_address import install_ip_macros

# Addresses of the registries' own infrastructure and of long-standing holders: one or more per
# regional registry, in both families.
KNOWN = {
    "8.8.8.8": "US",  # ARIN
    "2001:4860:4860::8888": "US",
    "193.0.6.139": "NL",  # RIPE NCC
    "2001:67c:2e8:22::c100:68b": "NL",
    "200.160.2.3": "BR",  # LACNIC
    "2001:12ff::1": "BR",
    "187.141.0.1": "MX",
    "190.0.0.1": "CO",
    "2800:3f0::1": "AR",
    "202.12.29.1": "AU",  # APNIC
    "2001:dc0:2001:11::194": "AU",
    "196.216.2.1": "ZA",  # AFRINIC
    "2c0f:fb50:4003::1": "KE",
}
UNKNOWN = [
    "10.0.0.7",
    "192.168.1.20",
    "172.20.0.1",
    "127.0.0.1",
    "169.254.3.4",
    "100.64.1.1",
    "224.0.0.251",
    "240.1.2.3",
    "::1",
    "fe80::1%eth0",
    "fd00::1",
    "ff02::1",
    "2001:db8::7",
    "",
    "unknown",
    "999.1.1.1",
    "1.2.3",
    "190.3.4.7, 10.0.0.1",
    "::ffff:999.1.1.1",
]


def _lookup(ips, database=None):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS ip", [ips])
    return dict(country_by_ip(con, "SELECT ip FROM t", database).fetchall())


def test_package_knows_every_registry_in_both_families(monkeypatch):
    monkeypatch.delenv(GEOIP_DB_ENV, raising=False)
    assert isinstance(open_country_database(), PackageCountries)
    assert _lookup(list(KNOWN)) == KNOWN


def test_non_public_and_malformed_addresses_are_unknown(monkeypatch):
    monkeypatch.delenv(GEOIP_DB_ENV, raising=False)
    got = _lookup(UNKNOWN + ["8.8.8.8", None, "8.8.8.8"])
    assert got == {ip: None for ip in UNKNOWN} | {"8.8.8.8": "US"}  # one row per distinct address, NULL left out


def test_ipv4_mapped_addresses_resolve_like_ipv4():
    assert _lookup(["::ffff:200.160.2.3", "::FFFF:8.8.8.8"]) == {"::ffff:200.160.2.3": "BR", "::FFFF:8.8.8.8": "US"}


def _mmdb(path, networks):
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country", languages=["en"], description="test"
    )
    for cidrs, record in networks:
        writer.insert_network(IPSet(cidrs), record)
    writer.to_db_file(str(path))
    return path


def _country(code):
    return {"iso_code": code, "names": {"en": code}}


def test_maxmind_file_overrides_the_package(tmp_path, monkeypatch):
    path = _mmdb(
        tmp_path / "GeoLite2-Country.mmdb",
        [
            (["8.8.8.0/24"], {"country": _country("MX"), "registered_country": _country("US")}),
            (["190.3.0.0/16", "2800:3f0::/32"], {"country": _country("CO")}),
            (["193.0.0.0/21"], {"registered_country": _country("NL")}),  # no location: registered country
            (["41.0.0.0/11"], {"continent": {"code": "AF"}}),  # no country at all
            (["10.0.0.0/8", "fd00::/8"], {"country": _country("PE")}),  # private space stays unknown
        ],
    )
    monkeypatch.setenv(GEOIP_DB_ENV, str(path))
    database = open_country_database()
    assert isinstance(database, RangeCountries) and "GeoLite2-Country" in database.description
    got = _lookup(
        [
            "8.8.8.8",
            "8.8.9.1",
            "190.3.4.7",
            "2800:3f0:4001::1",
            "193.0.6.139",
            "41.1.1.1",
            "10.1.1.1",
            "fd00::5",
            "::ffff:190.3.255.255",
        ],
        database,
    )
    assert got == {
        "8.8.8.8": "MX",
        "8.8.9.1": None,
        "190.3.4.7": "CO",
        "2800:3f0:4001::1": "CO",
        "193.0.6.139": "NL",
        "41.1.1.1": None,
        "10.1.1.1": None,
        "fd00::5": None,
        "::ffff:190.3.255.255": "CO",
    }


def test_range_csv_overrides_the_package(tmp_path):
    rows = [
        "1.0.0.0,1.0.0.255,AU",
        "190.3.0.0,190.3.255.255,CO",
        "2800:3f0::,2800:3f0:ffff:ffff:ffff:ffff:ffff:ffff,AR",
        "200.0.0.0,200.0.0.255,ZZ",
        '"8.8.8.0","8.8.8.255","us"',
    ]
    path = tmp_path / "dbip-country-lite-2026-11.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    database = open_country_database(path)
    assert "5 ranges" in database.description
    got = _lookup(["1.0.0.1", "1.0.1.1", "190.3.4.7", "2800:3f0::9", "200.0.0.1", "8.8.8.8", "0.0.0.1"], database)
    assert got == {
        "1.0.0.1": "AU",
        "1.0.1.1": None,
        "190.3.4.7": "CO",
        "2800:3f0::9": "AR",
        "200.0.0.1": None,
        "8.8.8.8": "US",
        "0.0.0.1": None,
    }


def test_a_bad_range_row_is_named(tmp_path):
    path = tmp_path / "ranges.csv"
    path.write_text("1.0.0.0,1.0.0.255,AU\n1.0.1.0,not-an-ip,CN\n")
    with pytest.raises(ConfigError, match=r"ranges.csv, line 2: not a range"):
        open_country_database(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("country.mmdb", b"not a database", "not a readable MaxMind DB"),
        ("country.dat", b"x", "not a country database"),
        ("ranges.csv", b"1.0.0.0,1.0.0.255\n", "not a first,last,country CSV"),
    ],
)
def test_unusable_files_are_refused_with_their_name(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as error:
        open_country_database(path)
    assert str(path) in str(error.value)


def test_missing_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(GEOIP_DB_ENV, str(tmp_path / "nope.mmdb"))
    with pytest.raises(ConfigError, match="no such file"):
        open_country_database()


@pytest.mark.parametrize("kind", ["package", "csv"])
def test_ip_country_in_sql_the_last_public_address_of_each_learner(kind, tmp_path):
    """How a SQL model locates learners: the country of the latest event with a public address."""
    path = tmp_path / "ranges.csv"
    path.write_text("200.160.0.0,200.160.15.255,BR\n193.0.0.0,193.0.7.255,NL\n")
    con = duckdb.connect()
    install_country_lookup(con, open_country_database(path) if kind == "csv" else PackageCountries())
    con.execute("""CREATE TABLE events AS SELECT * FROM (VALUES
        (1, 1, '200.160.2.3'), (1, 2, '193.0.6.139'), (1, 3, '10.0.0.1'), (1, 4, 'unknown'),
        (2, 1, '192.168.0.1'), (3, 1, NULL)) t(learner, seen, ip)""")
    got = con.execute("""
        SELECT learner, ip_country(arg_max(ip, seen) FILTER (WHERE ip_is_public(ip))) AS country_by_ip
        FROM events GROUP BY learner ORDER BY learner""").fetchall()
    assert got == [(1, "NL"), (2, None), (3, None)]


def test_range_lookup_agrees_with_a_plain_binary_search(tmp_path):
    """Random disjoint ranges in both families, random addresses in and around them."""
    import bisect
    import ipaddress
    import random

    rng = random.Random(7)
    mapped = 0xFFFF << 32
    starts = sorted({rng.randrange(mapped + (1 << 24), mapped + (224 << 24)) for _ in range(1500)}) + sorted(
        {rng.randrange(0x2001_0400 << 96, 0x2C10 << 112) for _ in range(1500)}
    )
    ranges = [
        (a, min(a + rng.randrange(1, 1 << 20), b - 1), rng.choice(["MX", "CO", "BR", "AR"]))
        for a, b in zip(starts, starts[1:] + [1 << 128], strict=True)
    ]
    text = lambda n: str(ipaddress.IPv4Address(n - mapped)) if n >> 32 == 0xFFFF else str(ipaddress.IPv6Address(n))  # noqa: E731
    path = tmp_path / "ranges.csv"
    path.write_text("".join(f"{text(a)},{text(b)},{c}\n" for a, b, c in ranges))
    asked = [a + rng.randrange(-2, (b - a) + 3) for a, b, _ in rng.sample(ranges, 2000)] + [b + 1 for _, b, _ in ranges[::10]]
    con = duckdb.connect()
    install_ip_macros(con)
    public = dict(con.execute("SELECT ip, ip_is_public(ip) FROM unnest(?) t(ip)", [[text(n) for n in asked]]).fetchall())
    asked = [n for n in asked if public[text(n)]]

    def expected(n):
        at = bisect.bisect_right(starts, n) - 1
        return ranges[at][2] if at >= 0 and n <= ranges[at][1] else None

    got = _lookup([text(n) for n in asked], open_country_database(path))
    assert got == {text(n): expected(n) for n in asked}
    assert {None, "MX"} <= set(got.values())
