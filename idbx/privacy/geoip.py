"""Country by IP address, offline: which database answers, and the vectorised lookup.

Two kinds of database, one result (`ip`, `country`: ISO 3166-1 alpha-2, NULL when unknown):

* the package (default): `iptocc`, the five regional internet registries' delegations compiled
  into the wheel (pinned in pyproject.toml; refreshing the data is upgrading the pin). Its data
  is not exposed as ranges, only through its batch call, so it is registered as a DuckDB
  vectorised (Arrow) function: one call per vector of ~2,000 addresses, never one per address.
* a file the operator supplies in IDBX_GEOIP_DB (MaxMind GeoLite2/GeoIP2 Country or City, DB-IP
  lite, as `.mmdb`; or a `first,last,country` range CSV such as DB-IP's, optionally gzipped). It
  is loaded as a table of 128-bit ranges and resolved with a DuckDB ASOF join.

Either way only public addresses are looked up (`ip_address.ip_number_is_public`): private,
loopback, link-local, reserved, multicast and malformed ones are unknown.
"""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import duckdb
import pyarrow as pa

from idbx.errors import ConfigError
from idbx.privacy.ip_address import IPV4_MAPPED, install_ip_macros
from idbx.quoting import sql_string

GEOIP_DB_ENV = "IDBX_GEOIP_DB"
_LOW_64 = (1 << 64) - 1
# Codes databases use for "no single country" (RIR `EU`/`AP` blocks, DB-IP `ZZ`, MaxMind's
# legacy anonymous proxy and satellite codes): unknown, like a miss.
NOT_A_COUNTRY = ("EU", "AP", "ZZ", "A1", "A2", "O1", "XX")


class PackageCountries:
    """The registries' delegations shipped by the pinned `iptocc` package."""

    def __init__(self) -> None:
        self.description = f"iptocc {version('iptocc')} (regional internet registries' delegations)"

    def lookup_sql(self, con: duckdb.DuckDBPyConnection, numbers: str) -> str:
        from iptocc import country_code

        def batch(addresses: pa.Array) -> pa.Array:
            return pa.array(country_code(addresses.to_pylist()), pa.string())

        if not con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'ip_country_iptocc'").fetchall()[0][0]:
            con.create_function("ip_country_iptocc", batch, ["VARCHAR"], "VARCHAR", type="arrow", null_handling="special")
        return f"SELECT ip, CASE WHEN public THEN ip_country_iptocc(ip_text(n)) END AS country FROM {numbers}"


class RangeCountries:
    """Ranges read from an operator's file. Arrow has no 128-bit integer, so each bound travels as
    two unsigned 64-bit halves: `first_high`, `first_low`, `last_high`, `last_low`, `country`."""

    def __init__(self, path: Path, description: str, ranges: pa.Table):
        self.path = path
        self.description = description
        self.ranges = ranges

    def lookup_sql(self, con: duckdb.DuckDBPyConnection, numbers: str) -> str:
        con.register("ip_country_ranges_arrow", self.ranges)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ip_country_ranges AS "
            "SELECT (first_high::UHUGEINT << 64::UHUGEINT) | first_low AS range_first, "
            "(last_high::UHUGEINT << 64::UHUGEINT) | last_low AS range_last, country "
            "FROM ip_country_ranges_arrow ORDER BY range_first"
        )
        con.unregister("ip_country_ranges_arrow")
        return (
            f"SELECT ip, CASE WHEN public AND n <= r.range_last THEN r.country END AS country "
            f"FROM {numbers} ASOF LEFT JOIN ip_country_ranges r ON n >= r.range_first"
        )


CountryDatabase = PackageCountries | RangeCountries


def open_country_database(path: str | Path | None = None) -> CountryDatabase:
    """The operator's file (the argument, else IDBX_GEOIP_DB) if there is one, else the package."""
    chosen = path or os.environ.get(GEOIP_DB_ENV)
    if not chosen:
        return PackageCountries()
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ConfigError(f"{GEOIP_DB_ENV}: no such file: {path}")
    name = path.name.lower()
    if name.endswith(".mmdb"):
        return _mmdb(path)
    if name.endswith((".csv", ".csv.gz")):
        return _range_csv(path)
    raise ConfigError(f"{path}: not a country database this engine reads (.mmdb, or a first,last,country .csv / .csv.gz)")


def _mmdb(path: Path) -> RangeCountries:
    """Every network of a MaxMind-format database, with the country it records (its location,
    else the country it is registered to). One Python step per network of the file (a country
    database has several hundred thousand): a load, not a lookup."""
    import maxminddb

    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise ConfigError(f"{path}: not a readable MaxMind DB file ({exc})") from None
    bounds: dict[str, list[int]] = {"first_high": [], "first_low": [], "last_high": [], "last_low": []}
    countries: list[str] = []
    with reader:
        kind = reader.metadata().database_type
        try:
            for network, record in reader:
                country = _record_country(record)
                if country is None:
                    continue
                first, length = int(network.network_address), network.prefixlen
                if network.version == 4:
                    first, length = first + IPV4_MAPPED, length + 96
                last = first | ((1 << (128 - length)) - 1)
                bounds["first_high"].append(first >> 64)
                bounds["first_low"].append(first & _LOW_64)
                bounds["last_high"].append(last >> 64)
                bounds["last_low"].append(last & _LOW_64)
                countries.append(country)
        except maxminddb.InvalidDatabaseError as exc:
            raise ConfigError(f"{path}: corrupt MaxMind DB file ({exc})") from None
    if not countries:
        raise ConfigError(f"{path}: a {kind} database with no country in it")
    ranges = pa.table({name: pa.array(values, pa.uint64()) for name, values in bounds.items()} | {"country": countries})
    return RangeCountries(path, f"{path.name} ({kind}, {len(countries):,} networks)", ranges)


def _record_country(record: object) -> str | None:
    if not isinstance(record, dict):
        return None
    for key in ("country", "registered_country"):
        place = record.get(key)
        if isinstance(place, dict) and isinstance(place.get("iso_code"), str):
            return place["iso_code"]
    return None


def _range_csv(path: Path) -> RangeCountries:
    """A headerless `first,last,country` CSV (DB-IP's country lite CSV, both families in one file),
    checked in full when loaded: a row whose bounds are not addresses fails with its line number."""
    con = duckdb.connect()
    install_ip_macros(con)
    scan = (
        f"read_csv({sql_string(str(path))}, header = false, auto_detect = false, quote = '\"', "
        "columns = {'first': 'VARCHAR', 'last': 'VARCHAR', 'country': 'VARCHAR'})"
    )
    try:
        con.execute(
            "CREATE TABLE ranges AS SELECT row_number() OVER () AS line, ip_number(first) AS a, ip_number(last) AS b, "
            f"trim(country) AS country FROM {scan}"
        )
        bad = con.execute("SELECT min(line) FROM ranges WHERE a IS NULL OR b IS NULL OR a > b").fetchall()[0][0]
        if bad is not None:
            raise ConfigError(f"{path}, line {bad}: not a range of addresses (first,last,country)")
        halves = ", ".join(
            f"({bound} >> 64::UHUGEINT)::UBIGINT AS {name}_high, ({bound} & {_LOW_64}::UHUGEINT)::UBIGINT AS {name}_low"
            for bound, name in (("a", "first"), ("b", "last"))
        )
        ranges = con.sql(f"SELECT {halves}, country FROM ranges").to_arrow_table()
    except duckdb.Error as exc:
        raise ConfigError(f"{path}: not a first,last,country CSV ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    return RangeCountries(path, f"{path.name} (ranges CSV, {ranges.num_rows:,} ranges)", ranges)


def country_by_ip(con: duckdb.DuckDBPyConnection, ips: str, database: CountryDatabase | None = None) -> duckdb.DuckDBPyRelation:
    """(`ip`, `country`) for every distinct non-NULL `ip` of the query `ips`; country NULL when unknown.

    Lazy: the caller materialises it (CREATE TABLE AS, COPY, join). The connection keeps the
    ip_* macros and the database's lookup for later queries.
    """
    database = database or open_country_database()
    install_ip_macros(con)
    numbers = (
        "(SELECT ip, n, ip_number_is_public(n) AS public FROM "
        f"(SELECT ip, ip_number(ip) AS n FROM (SELECT DISTINCT ip FROM ({ips}) WHERE ip IS NOT NULL)))"
    )
    lookup = database.lookup_sql(con, numbers)
    not_a_country = ", ".join(sql_string(code) for code in NOT_A_COUNTRY)
    return con.sql(
        f"SELECT ip, CASE WHEN regexp_full_match(upper(country), '[A-Z]{{2}}') AND upper(country) NOT IN ({not_a_country}) "
        f"THEN upper(country) END AS country FROM ({lookup})"
    )
