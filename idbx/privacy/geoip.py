"""Country by IP address, offline: which database answers, and the vectorised lookup.

`install_country_lookup(con)` defines the SQL macro `ip_country(ip)` on a connection: ISO 3166-1
alpha-2, NULL when unknown. Only public addresses are looked up (`ip_address.ip_number_is_public`):
private, loopback, link-local, reserved, multicast and malformed ones are unknown, and so are the
codes that name no single country. Two kinds of database answer it:

* the package (default): `iptocc`, the five regional internet registries' delegations compiled
  into the wheel (pinned in pyproject.toml; refreshing the data is upgrading the pin). Its data
  is not exposed as ranges, only through its batch call, which a DuckDB vectorised (Arrow)
  function makes once per vector of ~2,000 addresses.
* a file the operator supplies in IDBX_GEOIP_DB (MaxMind GeoLite2/GeoIP2 Country or City, DB-IP
  lite, as `.mmdb`; or a `first,last,country` range CSV such as DB-IP's, optionally gzipped),
  loaded as 128-bit ranges sorted by their first address; each vector of addresses is resolved
  by a binary search over them (numpy).

Never a Python call per address. SQL models call `ip_country(ip)` where the IP is, so that
addresses are never stored beside their country.
"""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from idbx.errors import ConfigError
from idbx.privacy.ip_address import IPV4_MAPPED, install_ip_macros, ip_macros_sql
from idbx.quoting import sql_string

GEOIP_DB_ENV = "IDBX_GEOIP_DB"
_LOW_64 = (1 << 64) - 1
# Codes databases use for "no single country" (RIR `EU`/`AP` blocks, DB-IP `ZZ`, MaxMind's
# legacy anonymous proxy and satellite codes): unknown, like a miss.
NOT_A_COUNTRY = ("EU", "AP", "ZZ", "A1", "A2", "O1", "XX")


def _country_codes(codes: pa.Array) -> pa.Array:
    """Upper-case alpha-2 codes; anything else NULL."""
    upper = pc.utf8_upper(codes.cast(pa.string()))
    valid = pc.and_(pc.match_substring_regex(upper, "^[A-Z]{2}$"), pc.invert(pc.is_in(upper, pa.array(NOT_A_COUNTRY))))
    return pc.if_else(pc.fill_null(valid, False), upper, pa.scalar(None, pa.string()))


def _register(con: duckdb.DuckDBPyConnection, name: str, function, parameters: list[str]) -> None:
    """(Re)define a vectorised Python function on the connection."""
    if con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]).fetchall()[0][0]:
        con.remove_function(name)
    con.create_function(name, function, parameters, "VARCHAR", type="arrow", null_handling="special")


class PackageCountries:
    """The registries' delegations shipped by the pinned `iptocc` package."""

    def __init__(self) -> None:
        self.description = f"iptocc {version('iptocc')} (regional internet registries' delegations)"
        self.fingerprint = f"iptocc {version('iptocc')}"

    # The SQL of the country of a public ip_number `n`, once `install` registered the function.
    call_sql = "ip_country_iptocc(ip_text(n))"

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register the batch call (a Python function: the database's, every connection sees it)."""
        from iptocc import country_code

        def batch(addresses: pa.Array) -> pa.Array:
            return _country_codes(pa.array(country_code(addresses.to_pylist()), pa.string()))

        _register(con, "ip_country_iptocc", batch, ["VARCHAR"])


def _keys(high: pa.Array, low: pa.Array) -> np.ndarray:
    """128-bit numbers as 16 big-endian bytes, which numpy orders (and compares) as the numbers."""
    keys = np.empty(len(high), dtype=[("high", ">u8"), ("low", ">u8")])
    keys["high"] = high.to_numpy(zero_copy_only=False)
    keys["low"] = low.to_numpy(zero_copy_only=False)
    return keys.view("S16")


class RangeCountries:
    """Ranges read from an operator's file. Arrow has no 128-bit integer, so each bound travels as
    two unsigned 64-bit halves: `first_high`, `first_low`, `last_high`, `last_low`, `country`."""

    def __init__(self, path: Path, description: str, ranges: pa.Table):
        self.path = path
        self.description = description
        stat = path.stat()
        self.fingerprint = f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}"  # what a build's outputs were located with
        first_high, first_low = ranges["first_high"].combine_chunks(), ranges["first_low"].combine_chunks()
        first = _keys(first_high, first_low)
        order = (
            np.argsort(first, kind="stable") if len(first) > 1 and not np.all(first[1:] >= first[:-1]) else np.arange(len(first))
        )
        self.first = first[order]
        self.last = _keys(ranges["last_high"].combine_chunks(), ranges["last_low"].combine_chunks())[order]
        self.countries = _country_codes(ranges["country"].combine_chunks()).take(pa.array(order))
        # IPv4 (and the rest below 2^64) is searched by its low half alone, much faster than 16 bytes.
        below = first_high.to_numpy(zero_copy_only=False)[order] == 0
        self.first_low_below = first_low.to_numpy(zero_copy_only=False)[order][below]

    call_sql = f"ip_country_ranges((n >> 64::UHUGEINT)::UBIGINT, (n & {_LOW_64}::UHUGEINT)::UBIGINT)"

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register a function finding, for a vector of addresses (as 64-bit halves), the range that
        starts at or before each (a binary search in the sorted starts) and whether it reaches it."""

        def batch(high: pa.Array, low: pa.Array) -> pa.Array:
            asked = _keys(high, low)
            small = high.to_numpy(zero_copy_only=False) == 0
            at = np.empty(len(asked), dtype=np.int64)
            at[small] = np.searchsorted(self.first_low_below, low.to_numpy(zero_copy_only=False)[small], side="right") - 1
            at[~small] = np.searchsorted(self.first, asked[~small], side="right") - 1
            at = np.maximum(at, 0)
            inside = (self.first[at] <= asked) & (asked <= self.last[at])
            return pc.if_else(pa.array(inside), self.countries.take(pa.array(at)), pa.scalar(None, pa.string()))

        _register(con, "ip_country_ranges", batch, ["UBIGINT", "UBIGINT"])


CountryDatabase = PackageCountries | RangeCountries


def _install(con: duckdb.DuckDBPyConnection, database: CountryDatabase | None) -> tuple[CountryDatabase, str]:
    """The ip_* macros, the database's function and `ip_country(ip)`; returns the database and the
    SQL of the country of an ip_number `n`."""
    database = database or open_country_database()
    database.install(con)
    for statement in macros_sql(database):
        con.execute(statement)
    return database, _of_number(database)


def _of_number(database: CountryDatabase) -> str:
    return f"CASE WHEN ip_number_is_public(n) THEN {database.call_sql} END"


def macros_sql(database: CountryDatabase) -> list[str]:
    """The statements defining `ip_country(ip)` and the ip_* macros on one connection (macros are
    each connection's own) of a database where `database` is installed."""
    return [
        *ip_macros_sql(),
        f"CREATE OR REPLACE TEMP MACRO ip_country(ip) AS list_transform([ip_number(ip)], lambda n: {_of_number(database)})[1]",
    ]


def install_country_lookup(con: duckdb.DuckDBPyConnection, database: CountryDatabase | None = None) -> CountryDatabase:
    """Define `ip_country(ip)` (and the ip_* macros) on this connection, answered by `database`
    (default: IDBX_GEOIP_DB, else the package). Returns the database, for its description."""
    return _install(con, database)[0]


def country_by_ip(con: duckdb.DuckDBPyConnection, ips: str, database: CountryDatabase | None = None) -> duckdb.DuckDBPyRelation:
    """(`ip`, `country`) for every distinct non-NULL `ip` of the query `ips`, lazy: the caller
    materialises it. The same lookup as `ip_country`, which the connection keeps, with each
    address parsed once."""
    _, of_number = _install(con, database)
    distinct = f"SELECT DISTINCT ip FROM ({ips}) WHERE ip IS NOT NULL"
    return con.sql(f"SELECT ip, {of_number} AS country FROM (SELECT ip, ip_number(ip) AS n FROM ({distinct}))")


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
