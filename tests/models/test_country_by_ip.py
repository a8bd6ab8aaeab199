"""person_course locates learners without a profile country by the address of their latest event
with a public address; the profile-based numbers stay as they were."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import duckdb
import pytest

from idbx.lake.store import Lake
from idbx.models.runner import build
from tests.models import tiny_lake

A = "course-v1:IDBx+RA+2016_T1"
RA = "ra_2016_t1"


def ev(user: int, hour: int, ip: str | None, day: int = 1) -> dict:
    return {
        "user_id": user,
        "username": f"learner{user}",
        "event_type": "play_video",
        "event_source": "browser",
        "time": datetime(2016, 7, day, hour),
        "course_id": A,
        "ip": ip,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    tmp = tmp_path_factory.mktemp("located")
    lake = Lake(tmp / "lake")
    tiny_lake.table(
        lake,
        "student_courseenrollment",
        A,
        [{"id": n, "user_id": n, "created": datetime(2016, 6, 1), "is_active": True, "mode": "audit"} for n in range(1, 7)],
    )
    tiny_lake.table(
        lake,
        "auth_userprofile",
        A,
        [
            {"id": 1, "user_id": 1, "gender": "f", "year_of_birth": 1980, "level_of_education": "b", "country": "MX"},
            {"id": 2, "user_id": 2, "gender": "m", "year_of_birth": 1990, "level_of_education": "m", "country": ""},
            {"id": 3, "user_id": 3, "gender": "m", "year_of_birth": 1990, "level_of_education": "m", "country": None},
            {"id": 4, "user_id": 4, "gender": "f", "year_of_birth": 1985, "level_of_education": "b", "country": ""},
        ],
    )
    tiny_lake.events(
        lake,
        date(2016, 7, 1),
        [
            ev(1, 9, "193.0.6.139"),  # has a profile country: keeps MX, but its address says NL
            ev(2, 8, "200.160.2.3"),  # BR, but not the latest public address:
            ev(2, 9, "193.0.6.139"),  # NL, the latest public one
            ev(2, 10, "10.0.0.7"),  # later, but private
            ev(2, 11, "unknown"),  # later, but not an address
            ev(3, 9, "192.168.1.1"),  # only private addresses: unknown
            ev(5, 9, "2001:12ff::1"),  # no profile at all, IPv6 in Brazil
        ],
    )
    tiny_lake.events(
        lake,
        date(2016, 7, 2),
        [
            ev(4, 9, "8.8.8.8", day=2),  # US on the 2nd ...
            ev(4, 8, "2800:3f0::1", day=3),  # ... and AR on the 3rd, delivered late in the log of the 2nd
        ],
    )
    registry = tiny_lake.registry(tmp / "courses.csv", ["ra_2016_t1,Curso A,SCL,2016-06-01,2016-07-31,false,0.7,"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        patch.delenv("IDBX_GEOIP_DB", raising=False)
        summary = build(lake, registry_path=registry)
    assert not summary.failed, [o.error for o in summary.failed]
    return lake


def test_person_course_country_by_ip_and_its_source(built):
    got = tiny_lake.rows(built, "SELECT learner_id, country, country_by_ip, country_source FROM person_course ORDER BY 1")
    expected = {
        1: ("MX", "NL", "profile"),
        2: (None, "NL", "ip"),
        3: (None, None, "unknown"),
        4: (None, "AR", "ip"),
        5: (None, "BR", "ip"),
        6: (None, None, "unknown"),  # enrolled, no profile, no events
    }
    assert sorted(got) == sorted((tiny_lake.pseudonym(user), *values) for user, values in expected.items())


def test_country_breakdown_with_the_ip_fallback_beside_the_profile_one(built):
    got = tiny_lake.rows(
        built, "SELECT country, learners, from_profile, from_ip FROM course_countries ORDER BY country NULLS LAST"
    )
    assert got == [("AR", 1, 0, 1), ("BR", 1, 0, 1), ("MX", 1, 1, 0), ("NL", 1, 0, 1), (None, 2, 0, 0)]
    profile_only = tiny_lake.rows(built, "SELECT category, learners FROM course_demographics WHERE breakdown = 'country'")
    assert profile_only == [("MX", 1)]


def test_no_address_is_stored(built):
    addresses = "193\\.0\\.6\\.139|200\\.160\\.2\\.3|2001:12ff::1|8\\.8\\.8\\.8|2800:3f0::1"
    stored = list(built.silver.rglob("*.parquet")) + list(built.marts.rglob("*.parquet"))
    assert stored
    for path in stored:
        found = duckdb.execute(
            f"SELECT count(*) FROM read_parquet('{path}', hive_partitioning = false) t WHERE "
            f"regexp_matches(to_json(t)::VARCHAR, '{addresses}')"
        ).fetchall()[0][0]
        assert found == 0, path


def test_another_database_relocates_learners_and_only_them(built, tmp_path, monkeypatch):
    copy = Lake(tmp_path / "lake")
    shutil.copytree(built.root, copy.root)
    ranges = tmp_path / "dbip-country-lite.csv"
    ranges.write_text("193.0.0.0,193.0.7.255,ES\n200.160.0.0,200.160.15.255,BR\n")
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
    monkeypatch.setenv("IDBX_GEOIP_DB", str(ranges))
    summary = build(copy, registry_path=built.root.parent / "courses.csv")
    status = {outcome.name: outcome.status for outcome in summary.models}
    assert status["int__events__learner_course_day_location"] == "built" and status["person_course"] == "built"
    assert status["int__events__learner_course_day"] == "unchanged"
    got = dict(tiny_lake.rows(copy, "SELECT learner_id, country_by_ip FROM person_course"))
    assert got[tiny_lake.pseudonym(2)] == "ES" and got[tiny_lake.pseudonym(4)] is None  # the file has no AR range
