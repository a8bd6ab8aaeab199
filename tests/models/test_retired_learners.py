"""Learners whose account edX retired on their request, from a generated delivery: their rows come
as edX delivers them (`retired__user_<hash>`, `…@retired.invalid`), they are flagged in the
learner models, counted in every aggregate and said on the dashboard, and their retired names
stay in bronze."""

from __future__ import annotations

import duckdb
import pytest

from idbx.config import GpgSettings
from idbx.dashboard import build_site, settings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.local.sample import write_sample
from idbx.models.runner import build
from tests.models import tiny_lake

RETIRED = 6  # learners 1 to 6


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("retired")
    sample = write_sample(root / "delivery", courses=2, learners=40, days=1, retired=RETIRED)
    lake = Lake(root / "lake")
    gpg = GpgSettings(sample.key_file, sample.passphrase)
    assert not ingest_package([sample.package], lake, gpg).failed
    assert not ingest_events(sample.event_logs, lake, gpg).failed
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        summary = build(lake)
    assert not summary.failed, [o.error for o in summary.failed]
    return lake


def rows(lake: Lake, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_retired_learners_are_flagged_and_counted_everywhere(lake):
    enrolled = rows(lake, "SELECT course_key, list(user_id ORDER BY user_id) FROM student_courseenrollment GROUP BY 1 ORDER BY 1")
    retired_usernames = rows(
        lake, "SELECT count(*) FROM auth_user WHERE username LIKE 'retired%' AND email LIKE '%@retired.invalid'"
    )
    assert retired_usernames[0][0] >= RETIRED  # the delivery holds them as edX delivers them (in each course's dump)
    for course_key, user_ids in enrolled:
        retired = sorted(tiny_lake.pseudonym(user_id) for user_id in user_ids if user_id <= RETIRED)
        assert retired, course_key
        flagged = rows(lake, f"SELECT learner_id FROM person_course WHERE course_key = '{course_key}' AND is_retired ORDER BY 1")
        assert [learner for (learner,) in flagged] == retired
        # never dropped: every enrolled learner has a person-course row, the reports count them all
        in_person_course = {
            learner
            for (learner,) in rows(lake, f"SELECT learner_id FROM person_course WHERE course_key = '{course_key}' AND enrolled")
        }
        assert {tiny_lake.pseudonym(user_id) for user_id in user_ids} <= in_person_course
        assert rows(lake, f"SELECT users_total FROM course_report WHERE course_key = '{course_key}'")[0][0] == len(user_ids)
        assert rows(lake, f"SELECT count(*) FROM masterfile WHERE course_key = '{course_key}'")[0][0] == len(user_ids)
        assert rows(lake, f"SELECT count(*) FROM enrollments_report WHERE mooc_id = '{course_key}'")[0][0] == len(user_ids)
    assert rows(lake, "SELECT count(*) FROM int__tables__learner_course WHERE is_retired")[0][0] == sum(
        1 for _, user_ids in enrolled for user_id in user_ids if user_id <= RETIRED
    )
    others = rows(lake, f"SELECT is_retired FROM stg__edx__auth_user WHERE learner_key = {tiny_lake.learner_key(RETIRED + 1)}")
    assert others == [(False,)]


def test_retired_names_stay_in_bronze(lake):
    for folder in (lake.root / "silver", lake.root / "marts"):
        for path in folder.rglob("*.parquet"):
            assert b"retired__user_" not in path.read_bytes() and b"retired.invalid" not in path.read_bytes(), path


def test_the_dashboard_says_how_many_retired_learners_a_course_counts(lake, tmp_path):
    site = build_site(lake, tmp_path / "site", lang="en", min_cell=1)
    enrolled = dict(
        rows(lake, f"SELECT course_key, count(*) FILTER (WHERE user_id <= {RETIRED}) FROM student_courseenrollment GROUP BY 1")
    )
    for course_key, retired in enrolled.items():
        page = (site.out / settings.course_page(course_key)).read_text(encoding="utf-8")
        assert f"<dt>Accounts edX retired (included)</dt><dd>{retired}</dd>" in page, course_key
    small = build_site(lake, tmp_path / "small", lang="es", min_cell=RETIRED + 1)
    page = (small.out / settings.course_page(next(iter(enrolled)))).read_text(encoding="utf-8")
    assert f"<dt>Cuentas retiradas por edX (incluidas)</dt><dd>&lt; {RETIRED + 1}</dd>" in page
