"""The sample's dashboard as files: one page per course run, the course table as course_report
says, no personal data anywhere, small cells suppressed, both languages, the IP chart only when
person_course has the column, and `idbx dashboard` as an operator runs it."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from idbx.dashboard import build_site, settings
from idbx.dashboard.pages import BREAKDOWN, HEADLINE, SERIES
from idbx.errors import IdbxError
from idbx.lake.store import Lake
from idbx.local.sample import PII_PATTERN
from tests.cli.test_cli import run
from tests.dashboard.conftest import chart_specs

PII = re.compile(PII_PATTERN)


def learner_pseudonyms(lake: Lake) -> set[str]:
    """Every learner's published id and in-lake key (as text) in the lake's person_course."""
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        found = con.execute("SELECT learner_id, CAST(learner_key AS VARCHAR) FROM person_course").fetchall()
    return {value for row in found for value in row}


class _CourseTable(HTMLParser):
    """The rows of the overview's course table: course key and each cell's data-value."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "courses":
            self.inside = True
        elif self.inside and tag == "tr" and "data-course" in attrs:
            self.rows.append([])
        elif self.inside and tag in ("td", "th") and "data-value" in attrs and self.rows:
            self.rows[-1].append(attrs["data-value"])

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False


def course_report(lake: Lake, with_data: bool = True) -> dict[str, tuple]:
    """course_report's rows of the runs with data (a delivery, enrolments or events), or of the others."""
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        return {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT course_key, users_total, users_active, certificates_certified, certificates_approved, registered FROM "
                "course_report "
                f"WHERE {'' if with_data else 'NOT'} (snapshot_date IS NOT NULL OR users_total > 0 "
                "OR course_key IN (SELECT course_key FROM activity_daily))"
            ).fetchall()
        }


def assert_table_matches_course_report(rows: list[list[str]], lake: Lake) -> None:
    """Rows of cell values (name, key, sme, start, end, enrolled, active, certified, approval, registered)."""
    report = course_report(lake)
    assert sorted(row[1] for row in rows) == sorted(report), "one row per course run the registry does not exclude"
    for row in rows:
        total, active, certified, approved, registered = report[row[1]]
        assert [int(row[5]), int(row[6]), int(row[7]), row[9]] == [total, active, certified, str(int(registered))], row[1]
        assert (row[8] == "") if total == 0 else abs(float(row[8]) - approved / total) < 1e-6, row[1]


def test_one_page_per_course_run_and_the_table_is_course_report(site, built_sample):
    index = (site.out / "index.html").read_text(encoding="utf-8")
    table = _CourseTable()
    table.feed(index)
    assert_table_matches_course_report(table.rows, built_sample)
    empty = course_report(built_sample, with_data=False)
    assert site.courses == len(table.rows) + len(empty) and site.pages == site.courses + 2
    for key in [*course_report(built_sample), *empty]:
        assert f'href="{settings.course_page(key)}"' in index and (site.out / settings.course_page(key)).is_file()
    # Every local link and script of every page resolves inside the site.
    for page in site.out.glob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#]+)"', page.read_text(encoding="utf-8")):
            assert not re.match(r"[a-z]+:", target), f"{page.name} points outside the site: {target}"
            assert (site.out / target).is_file(), f"{page.name}: {target}"


def test_no_learner_data_in_any_file(site, built_sample):
    pseudonyms = learner_pseudonyms(built_sample)
    assert pseudonyms
    files = [path for path in site.folder.rglob("*") if path.is_file()]
    assert len(files) == site.files
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = PII.search(text)
        assert not found, f"{path.name}: {found.group(0)!r}"
        assert not pseudonyms & set(re.findall(r"[0-9A-Za-z]+", text)), f"{path.name} holds a pseudonymous learner id"


def test_small_cells_are_suppressed(site):
    assert site.merged_categories > 0 and site.suppressed_values > 0  # the sample has small cells to hide
    rules = set()
    for page in site.out.glob("*.html"):
        for spec in chart_specs(page.read_text(encoding="utf-8")):
            rule = spec["usermeta"]["small_cells"]
            rules.add(rule)
            for row in spec["datasets"]["values"]:
                learners = row["learners"]
                if rule == BREAKDOWN:
                    assert learners >= site.min_cell, (page.name, row)
                elif rule == SERIES:
                    assert learners is None and row["learners_text"] == "< 5" or learners == 0 or learners >= site.min_cell, row
                else:
                    assert rule == HEADLINE
    assert rules == {BREAKDOWN, SERIES, HEADLINE}


def test_every_chart_is_valid_vega_lite(site):
    """The site is written without schema validation (for speed): checked here, every kind of chart."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    schema = load_schema()
    checked = 0
    for page in (site.index, site.out / settings.course_page("idb1x_2t2014")):
        for spec in chart_specs(page.read_text(encoding="utf-8")):
            validate_jsonschema(spec, schema)
            checked += 1
    assert checked >= 12


def test_the_threshold_is_a_setting(built_sample, site, tmp_path):
    everything = build_site(built_sample, tmp_path / "all", min_cell=1)
    assert everything.merged_categories == 0 and everything.suppressed_values == 0
    key = "idb1x_2t2014"

    def countries(summary) -> list[str]:
        spec = next(
            s
            for s in chart_specs((summary.out / settings.course_page(key)).read_text(encoding="utf-8"))
            if s["description"] == "Estudiantes por país (perfil)"
        )
        return [row["category"] for row in spec["datasets"]["values"]]

    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        profile_countries = con.execute(
            "SELECT count(*) FROM course_demographics WHERE course_key = ? AND breakdown = 'country'", [key]
        ).fetchone()[0]
    assert len(countries(everything)) == profile_countries
    assert len(countries(site)) < profile_countries and countries(site)[-1].startswith("Otros")


def test_english_labels_and_number_formats(built_sample, tmp_path):
    english = build_site(built_sample, tmp_path / "en", lang="en")
    index = english.index.read_text(encoding="utf-8")
    assert '<html lang="en">' in index and "Enrolled" in index and "Approval rate" in index and "Inscritos" not in index
    assert '"decimal": "."' in index
    spanish_rate = re.search(r"\d+,\d %", (tmp_path / "en" / "index.html").read_text(encoding="utf-8"))
    assert spanish_rate is None and re.search(r"\d+\.\d%", index)


def test_spanish_is_the_default(site):
    index = site.index.read_text(encoding="utf-8")
    assert site.lang == "es" and '<html lang="es">' in index and "Tasa de aprobación" in index
    assert '"decimal": ","' in index and re.search(r"\d+,\d\xa0%", index)


def marts_only(lake: Lake, target: Path) -> Lake:
    """A lake holding a copy of `lake`'s marts and nothing else."""
    copy = Lake(target)
    shutil.copytree(lake.marts, copy.marts)
    return copy


def test_country_by_ip_is_drawn_only_when_person_course_has_it(built_sample, site, tmp_path):
    page = settings.course_page("idb1x_2t2014")
    assert "(dirección IP)" in (site.out / page).read_text(encoding="utf-8")
    lake = marts_only(built_sample, tmp_path / "lake")
    for person_course in (lake.marts / "person_course").glob("**/*.parquet"):  # each course's file, and the schema
        duckdb.execute(
            f"COPY (SELECT * EXCLUDE (country_by_ip) FROM '{person_course}') TO '{tmp_path / 'pc.parquet'}' (FORMAT parquet)"
        )
        shutil.move(tmp_path / "pc.parquet", person_course)
    without_ip = build_site(lake, tmp_path / "site")
    assert "(dirección IP)" not in (without_ip.out / page).read_text(encoding="utf-8")


def test_a_lake_without_marts_is_a_clear_error(tmp_path):
    (tmp_path / "lake").mkdir()
    with pytest.raises(IdbxError, match="run `idbx build` first"):
        build_site(Lake(tmp_path / "lake"))
    assert not (tmp_path / "lake" / "dashboard").exists()


def test_cli_writes_the_site_and_prints_its_path(built_sample, site, tmp_path):
    lake = marts_only(built_sample, tmp_path / "lake")
    # A site copied there as a plain folder: replaced by the link, its Vega bundle reused (no 10 s bundling).
    shutil.copytree(site.folder, lake.root / "dashboard")
    done = run("dashboard", "--lake", str(lake.root), "--min-cell", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(lake.root / "dashboard" / "index.html")
    assert (lake.root / "dashboard").is_symlink() and "pages" in done.stderr and "< 3" in done.stderr
    assert "Traceback" not in done.stderr
    bad = run("dashboard", "--lake", str(lake.root), "--lang", "fr")
    assert bad.returncode == 2 and "fr" in bad.stderr
    (tmp_path / "nothing").mkdir()
    empty = run("dashboard", "--lake", str(tmp_path / "nothing"))
    assert empty.returncode == 1 and "idbx build" in empty.stderr and "Traceback" not in empty.stderr
    (tmp_path / "notes.txt").write_text("not a site")
    foreign = run("dashboard", "--lake", str(lake.root), "--out", str(tmp_path / "notes.txt"))
    assert foreign.returncode == 2 and "choose another --out" in foreign.stderr
    assert (tmp_path / "notes.txt").read_text() == "not a site"


def test_unreadable_marts_and_unwritable_folders_are_clear_errors(built_sample, tmp_path):
    lake = marts_only(built_sample, tmp_path / "lake")
    (lake.marts / "weekly_active" / "data.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(IdbxError, match="cannot read the marts of .*run `idbx build` again"):
        build_site(lake, tmp_path / "site")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(IdbxError, match="cannot write the dashboard beside"):
        build_site(marts_only(built_sample, tmp_path / "lake2"), tmp_path / "a-file" / "dashboard")


def test_the_overview_heads_with_the_programme_figures_and_lists_courses_without_data_apart(site, built_sample):
    """Enrolled, certified and the approval rate are the sums of the course table's columns (the
    runs with data); active this week is the sum of the courses' ACTIVE learners of the latest week."""
    from idbx.dashboard.texts import Texts

    t = Texts("es")
    index = site.index.read_text(encoding="utf-8")
    heads = re.search(r'<dl class="facts headlines" id="headlines">(.*?)</dl>', index, re.S).group(1)
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", heads))
    report = course_report(built_sample).values()
    enrolled = sum(row[0] for row in report)
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        active = con.execute(
            "SELECT sum(learners) FROM weekly_active WHERE label = 'ACTIVE' "
            "AND week_start = (SELECT max(week_start) FROM weekly_active WHERE label = 'ACTIVE')"
        ).fetchall()[0][0]
    assert shown == {
        "Inscritos": t.number(enrolled),
        "Activos esta semana": t.number(active),
        "Certificados": t.number(sum(row[2] for row in report)),
        "Tasa de aprobación": t.percent(sum(row[3] for row in report) / enrolled),
    }
    assert enrolled > 0 and active > 0
    empty = course_report(built_sample, with_data=False)
    listed = re.search(r'<ul class="empty-courses" id="empty-courses"[^>]*>(.*?)</ul>', index, re.S).group(1)
    assert sorted(re.findall(r"<code>(.*?)</code>", listed)) == sorted(empty) and empty


def test_the_course_page_shows_the_chapter_funnel_and_the_hardest_problems(site, built_sample):
    page = (site.out / settings.course_page("idb1x_2t2014")).read_text(encoding="utf-8")
    funnel = next(spec for spec in chart_specs(page) if spec["description"] == "Alcance de cada capítulo")
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        chapters = con.execute(
            "SELECT chapter_index, display_name, learners FROM chapter_funnel WHERE course_key = 'idb1x_2t2014' "
            "AND block_type = 'chapter' ORDER BY course_index"
        ).fetchall()
        problems = con.execute(
            "SELECT display_name, learners_attempted, learners_correct FROM problem_engagement "
            "WHERE course_key = 'idb1x_2t2014' ORDER BY correct_rate, first_attempt_correct_rate, url_name"
        ).fetchall()
    assert chapters and [(row["category"], row["learners"]) for row in funnel["datasets"]["values"]] == [
        (f"{index}. {name}", learners if learners >= site.min_cell or learners == 0 else None)
        for index, name, learners in chapters
    ]
    table = re.search(r'<table class="problems" id="hardest-problems">(.*?)</table>', page, re.S).group(1)
    names = re.findall(r'<tr><th scope="row">(.*?)</th>', table)
    eligible = [
        name
        for name, attempted, right in problems
        if attempted >= site.min_cell
        and (right == 0 or right >= site.min_cell)
        and (attempted - right == 0 or attempted - right >= site.min_cell)
    ]
    assert names == eligible[:10] and names


def test_enrolled_by_mode_reaches_back_to_the_table_and_agrees_with_the_course_figure(site, built_sample):
    """Issue 18, item 7: the series comes from the enrollment table up to its snapshot (the logs
    cover only the days delivered), so on the snapshot day its modes add up to the Enrolled figure,
    and the chart says where it comes from."""
    from idbx.dashboard.texts import Texts

    page = (site.out / settings.course_page("idb1x_2t2014")).read_text(encoding="utf-8")
    chart = next(spec for spec in chart_specs(page) if spec["description"] == "Inscritos por modalidad")
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        snapshot, total, first_created, first_log = con.execute(
            "SELECT snapshot_date, users_total, (SELECT min(CAST(enrolled_at AS DATE)) FROM stg__edx__student_courseenrollment "
            "WHERE course_key = 'idb1x_2t2014'), (SELECT min(event_date) FROM int__events__course_day) "
            "FROM course_report WHERE course_key = 'idb1x_2t2014'"
        ).fetchone()
    values = chart["datasets"]["values"]
    assert sum(row["learners"] or 0 for row in values if row["date"] == snapshot.isoformat()) == total > 0
    # It starts before the logs do (the first days, under the small-cell threshold in total, show no parts).
    assert first_created.isoformat() <= min(row["date"] for row in values) < first_log.isoformat()
    assert Texts("es")("note_enrolled_table", snapshot=Texts("es").date(snapshot)) in page
