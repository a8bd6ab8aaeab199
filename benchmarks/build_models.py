"""Benchmark: `idbx build` on a lake of 50 courses, 200,000 learners and 20,000,000 events.

The bronze lake is generated straight into Parquet by DuckDB (no encryption, no ingestion: this
measures the models): per course, the six report tables of one snapshot (every learner enrols in
three courses: 600,000 enrollments, 4.2 million courseware rows) and 100 days of tracking logs
of every kind the models count (video, problems, navigation, forum, enrollment, task, anonymous,
/xblock/ events; 1% of each day's events are 1-5 days late). Then, each in its own process
(wall time and peak RSS per process, `measure.py`):
  full         the first build of the lake (every model, every event day)
  unchanged    a second build with nothing new
  one new day  a build after the log of one more day (200,000 events, 1% of them late) lands
               (the per-learner models recompute the learners whose rows changed)
  a new day of 5 courses  the log of the day after, as many events in 5 of the 50 courses (as the
               programme runs: 1 to 6 of its course runs at a time; `--running N`)
  refresh      `--full-refresh` on the lake as it then is
Prints seconds per model and in total, and peak memory; append to RESULTS.md by hand.
With --spark, only the full build, on DuckDB and then on Spark local[2] (`idbx build --engine
spark`, needs idbx[spark] and Java 17), each in its own process, and each mart's rows on both.

    .venv/bin/python benchmarks/build_models.py [--work DIR] [--events N] [--learners N] [--courses N] [--spark]
                                                [--running N] [--code CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
from measure import machine, timed

from idbx.ingest.outcomes import RunSummary, refresh_catalog
from idbx.lake import catalog
from idbx.lake.store import Lake
from idbx.local.sample import _SIGNED_HASH
from idbx.parsers.event_fields import with_event_fields
from idbx.parsers.naming import course_key_sql
from idbx.parsers.tables import LINEAGE_COLUMNS, TABLES
from idbx.parsers.tracking_log import LANDED_EVENT_COLUMNS
from idbx.quoting import quote_ident, sql_string

SNAPSHOT = date(2016, 7, 4)
DAYS = 100
FIRST_DAY = SNAPSHOT - timedelta(days=DAYS)
KEY = "benchmark-pseudonym-key-0123456789"

RUN_BUILD = """
import json, resource, sys
from pathlib import Path
from idbx.lake.store import Lake
from idbx.models.runner import build
summary = build(Lake(Path(sys.argv[1])), full_refresh=sys.argv[2] == "full")
assert not summary.failed, [o.error for o in summary.failed]
usage = resource.getrusage(resource.RUSAGE_SELF)
Path(sys.argv[3]).write_text(json.dumps({"seconds": summary.seconds, "cpu": usage.ru_utime + usage.ru_stime, "models": [
    {"name": o.name, "status": o.status, "rows": o.rows, "seconds": o.seconds, "cpu": o.cpu_seconds,
     "check_cpu": getattr(o, "check_cpu_seconds", 0.0), "notes": o.notes}
    for o in summary.models]}))
"""

# On Spark the work is in the JVM and its Python workers: the session is stopped and the JVM
# waited for, so that their CPU time counts (RUSAGE_CHILDREN), not only the driver's.
RUN_SPARK_BUILD = (
    RUN_BUILD.replace("from idbx.models.runner import build", "from idbx.models.spark import build, spark_session")
    .replace('full_refresh=sys.argv[2] == "full"', "session=spark_session('local[2]')")
    .replace(
        "usage = resource.getrusage(resource.RUSAGE_SELF)",
        "from pyspark import SparkContext\n"
        "jvm = SparkContext._gateway.proc\n"
        "SparkContext._active_spark_context.stop(); SparkContext._gateway.shutdown(); jvm.stdin.close(); jvm.wait()\n"
        "own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "usage = type('Usage', (), {'ru_utime': own.ru_utime + children.ru_utime, 'ru_stime': own.ru_stime + children.ru_stime})",
    )
)

# (share of events, event_type SQL, event_source, has username) -- `cid` is the course id, `k` the event number.
EVENT_MIX = [
    (30, "'/courses/' || cid || '/courseware/ch' || (k % 5) || '/'", "server", True),
    (20, "'play_video'", "browser", True),
    (10, "'pause_video'", "browser", True),
    (5, "'seek_video'", "browser", True),
    (10, "'problem_check'", "server", True),
    (5, "'problem_check'", "browser", True),
    (8, "'seq_goto'", "browser", True),
    (
        3,
        "'/courses/' || cid || '/xblock/block-v1:x+type@problem+block@p' || (k % 9) || '/handler/xmodule_handler/problem_get'",
        "server",
        True,
    ),
    (2, "'edx.forum.thread.created'", "server", True),
    (2, "'showanswer'", "server", True),
    (2, "'edx.grades.problem.submitted'", "task", True),
    (1, "'edx.course.enrollment.activated'", "server", True),
    (1, "'edx.course.enrollment.deactivated'", "server", True),
    (1, "'/courses/' || cid || '/about'", "browser", False),
]

# Server problem_check events carry a body (what problem engagement and the answer distribution
# read): one of 9 problems of the course, one part, a right or a wrong choice.
PROBLEM_KIND = next(
    i for i, (_, event_type, source, _) in enumerate(EVENT_MIX) if event_type == "'problem_check'" and source == "server"
)
PROBLEM_BODY = """json_object('problem_id', 'block-v1:' || cid[11:] || '+type@problem+block@p' || (k % 9), 'attempts', 1 + k % 3,
    'success', CASE WHEN hash(k, 'ok') % 3 = 0 THEN 'correct' ELSE 'incorrect' END, 'grade', 0, 'max_grade', 1,
    'answers', json_object('p' || (k % 9) || '_2_1', 'choice_' || hash(k, 'ok') % 3),
    'submission', json_object('p' || (k % 9) || '_2_1', json_object('answer', 'Choice ' || hash(k, 'ok') % 3,
        'correct', hash(k, 'ok') % 3 = 0, 'response_type', 'multiplechoiceresponse', 'input_type', 'choicegroup', 
        'variant', '')))"""

BLOCK_ID = "'block-v1:IDBx+BENCH' || course_no || 'x+2016_T1+type@' || {kind} || '+block@' || {name}"
OUTLINE_ROWS = (
    "VALUES ('course', 'course', NULL, NULL, NULL, 0, NULL, NULL), "
    + ", ".join(
        f"('chapter', 'ch{c}', 'course', 'course', {c + 1}, 1, 'ch{c}', NULL), ('sequential', 's{c}', 'chapter', 'ch{c}', 1, 2, "
        f"'ch{c}', 's{c}'), "
        f"('vertical', 'u{c}', 'sequential', 's{c}', 1, 3, 'ch{c}', 's{c}')"
        for c in range(5)
    )
    + ", "
    + ", ".join(f"('problem', 'p{p}', 'vertical', 'u{p % 5}', {p // 5 + 1}, 4, 'ch{p % 5}', 's{p % 5}')" for p in range(9))
)


def _columns(columns: dict[str, str], values: dict[str, str]) -> str:
    return ", ".join(f"CAST({values.get(name, 'NULL')} AS {type_}) AS {quote_ident(name)}" for name, type_ in columns.items())


def generate(lake: Lake, courses: int, learners: int, events: int) -> None:
    lake.bronze.mkdir(parents=True)
    con = duckdb.connect(config={"preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""CREATE TABLE enrolled AS
        SELECT u AS user_id, CAST((u * 7 + j * 17) % {courses} AS INTEGER) AS course_no
        FROM range(1, {learners + 1}) t(u), range(3) s(j)""")
    course_id = "'course-v1:IDBx+BENCH' || course_no || 'x+2016_T1'"
    started = time.perf_counter()
    lineage = {
        "course_id": course_id,
        "course_key": course_key_sql(course_id),
        "snapshot_date": f"DATE '{SNAPSHOT}'",
        "source_file": "'IDBx-BENCH' || course_no || 'x-2016_T1-' || table_name || '-prod-analytics.sql'",
    }
    tables = {
        "student_courseenrollment": (
            "enrolled",
            {
                "id": "row_number() OVER ()",
                "user_id": "user_id",
                "course_id": course_id,
                "created": f"TIMESTAMP '{FIRST_DAY}' + INTERVAL (hash(user_id, course_no) % 8000000) SECOND",
                "is_active": "hash(user_id, course_no, 'a') % 10 <> 0",
                "mode": "['audit', 'honor', 'verified'][1 + hash(user_id, course_no) % 3]",
            },
        ),
        "auth_user": (
            "enrolled",
            {
                "id": "user_id",
                "username": "'learner' || user_id",
                "email": "'learner' || user_id || '@example.org'",
                "date_joined": "TIMESTAMP '2015-01-01 00:00:00'",
                "is_staff": "false",
                "is_active": "true",
            },
        ),
        "auth_userprofile": (
            "enrolled",
            {
                "id": "user_id",
                "user_id": "user_id",
                "name": "'Learner ' || user_id",
                "gender": "['m', 'f', 'o', NULL, ''][1 + hash(user_id, 'g') % 5]",
                "year_of_birth": "1950 + hash(user_id, 'y') % 50",
                "level_of_education": "['p', 'm', 'b', 'a', 'hs', NULL][1 + hash(user_id, 'e') % 6]",
                "country": "['MX', 'CO', 'AR', 'PE', 'CL', 'BR', 'US', 'ES', ''][1 + hash(user_id, 'c') % 9]",
            },
        ),
        "certificates_generatedcertificate": (
            "(SELECT * FROM enrolled WHERE hash(user_id, course_no, 'ce') % 10 < 3)",
            {
                "id": "row_number() OVER ()",
                "user_id": "user_id",
                "course_id": course_id,
                "grade": "(hash(user_id, course_no, 'gr') % 101) / 100.0",
                "status": "CASE WHEN hash(user_id, course_no, 'gr') % 101 >= 65 THEN 'downloadable' ELSE 'notpassing' END",
                "mode": "'honor'",
                "created_date": f"TIMESTAMP '{SNAPSHOT}'",
                "name": "'Learner ' || user_id",
            },
        ),
        "courseware_studentmodule": (
            "(SELECT e.*, m.m FROM enrolled e, range(10) m(m) WHERE hash(user_id, course_no, 'act') % 10 < 7)",
            {
                "id": "row_number() OVER ()",
                "student_id": "user_id",
                "course_id": course_id,
                "module_type": "['chapter', 'chapter', 'chapter', 'sequential', 'problem', 'problem', 'video', 'video', 'html', "
                "'vertical'][1 + m]",
                "module_id": "'block-v1:IDBx+BENCH' || course_no || 'x+2016_T1+type@x+block@' || CASE WHEN m < 3 THEN 'ch' || "
                "(hash(user_id, m) % 8) ELSE 'b' || m END",
                "state": "'{\"position\": 1}'",
                "created": f"TIMESTAMP '{FIRST_DAY}'",
                "modified": f"TIMESTAMP '{SNAPSHOT}'",
            },
        ),
        "user_id_map": ("enrolled", {"hash_id": "md5(user_id::VARCHAR)", "id": "user_id", "username": "'learner' || user_id"}),
        # Each course's outline: chapters ch0-ch4 (the courseware pages' names), a sequential and a
        # vertical in each, the 9 problems the problem_check events name spread over the verticals.
        "course_blocks": (
            f"(SELECT DISTINCT course_no FROM enrolled), ({OUTLINE_ROWS}) AS b(kind, name, parent_kind, parent, "
            "position, depth, chapter, sequential)",
            {
                "block_id": f"{BLOCK_ID.format(kind='kind', name='name')}",
                "block_type": "kind",
                "display_name": "kind || ' ' || name",
                "parent_id": f"CASE WHEN parent IS NOT NULL THEN {BLOCK_ID.format(kind='parent_kind', name='parent')} END",
                "position": "position",
                "depth": "depth",
                "chapter_id": f"CASE WHEN chapter IS NOT NULL THEN {BLOCK_ID.format(kind=repr('chapter'), name='chapter')} END",
                "sequential_id": "CASE WHEN sequential IS NOT NULL THEN "
                f"{BLOCK_ID.format(kind=repr('sequential'), name='sequential')} END",
                "graded": "kind = 'sequential'",
                "format": "CASE WHEN kind = 'sequential' THEN 'Homework' END",
            },
        ),
    }
    for table, (source, values) in tables.items():
        columns = {c.name: c.type for c in TABLES[table].columns} | LINEAGE_COLUMNS
        folder = lake.bronze / table
        select = (
            f"SELECT {_columns(columns, values | {k: v.replace('table_name', sql_string(table)) for k, v in lineage.items()})}, "
            f"{course_key_sql(course_id)} AS course FROM {source}"
        )
        select = _SIGNED_HASH.sub(r"CAST(hash(\1) % \2 AS BIGINT)", select)
        con.execute(
            f"COPY ({select}) TO {sql_string(str(folder))} (FORMAT parquet, COMPRESSION zstd, "
            "PARTITION_BY (snapshot_date, course), FILENAME_PATTERN 'data_{i}', WRITE_PARTITION_COLUMNS true)"
        )
    for path in lake.bronze.glob("*/snapshot_date=*/course=*/data_*.parquet"):
        path.rename(path.with_name("data.parquet"))
    print(
        f"tables: {con.execute('SELECT count(*) FROM enrolled').fetchall()[0][0]:,} enrollments, generated in "
        f"{time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    write_events(con, lake, courses, learners, FIRST_DAY, DAYS, events)
    print(f"events over {DAYS} days generated in {time.perf_counter() - started:.0f} s")


def write_events(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    courses: int,
    learners: int,
    first_day: date,
    days: int,
    events: int,
    running: int | None = None,
) -> None:
    """About `events` events over `days` log days from first_day, one Parquet file per day. Events
    come in sessions, as learners make them: a learner, one of their courses, a day, 10 to 40
    events about 45 s apart; 1% of the sessions reach the log 1 to 5 days late. With `running`,
    only the sessions in the first `running` courses (as many events, in fewer courses)."""
    total = sum(share for share, *_ in EVENT_MIX)
    cases, bound = [], 0
    for share, event_type, source, named in EVENT_MIX:
        bound += share
        cases.append((bound, event_type, source, named))

    def case(values: list[str]) -> str:
        return "CASE kind " + " ".join(f"WHEN {i} THEN {value}" for i, value in enumerate(values)) + " END"

    kind = "CASE " + " ".join(f"WHEN hash(k, 'kind') % {total} < {b} THEN {i}" for i, (b, *_) in enumerate(cases)) + " END"
    named = case(["true" if c[3] else "false" for c in cases])
    values = {
        "time": "session_start + INTERVAL (i * 45 + hash(k, 'j') % 30) SECOND",
        "username": f"CASE WHEN {named} THEN 'learner' || u ELSE '' END",
        "user_id": f"CASE WHEN {named} THEN u END",
        "event_type": case([c[1] for c in cases]),
        "event_source": case([f"'{c[2]}'" for c in cases]),
        "ip": "'190.' || (u % 250) || '.' || (hash(s, 'ip') % 250) || '.7'",
        "agent": "'Mozilla/5.0'",
        "host": "'courses.edx.org'",
        "session": "md5(s::VARCHAR)",
        "org_id": "'IDBx'",
        "course_id": "cid",
        "course_key": course_key_sql("cid"),
        "context": "json_object('user_id', u, 'course_id', cid)",
        "event": f"CASE WHEN kind = {PROBLEM_KIND} THEN {PROBLEM_BODY} "
        "ELSE json_object('user_id', u, 'mode', ['audit', 'verified'][1 + hash(u) % 2], 'id', 'v' || (k % 20), "
        # video positions that move on through a session (viewings from play to pause), problems and answers
        "'currentTime', i * 9 + hash(k, 'p') % 9, 'old_time', i * 9, 'new_time', i * 9 + 30, "
        "'problem_id', 'p' || (k % 9), 'success', ['correct', 'incorrect'][1 + hash(k, 'ok') % 2]) END",
        "source_file": "'idbx-edx-events-' || CAST(log_date AS VARCHAR) || '.log.gz.gpg'",
        "line_number": "k",
    }
    sessions = events // 25 * (courses // running if running else 1)
    course = f"CAST((u * 7 + hash(s, 'c') % 3 * 17) % {courses} AS INTEGER)"
    select = f"""
        SELECT {_columns(dict(LANDED_EVENT_COLUMNS), values)}, log_date FROM (
            SELECT *, s * 40 + i AS k, {kind.replace("hash(k,", "hash(s * 40 + i,")} AS kind FROM (
                SELECT s, u, log_date,
                       'course-v1:IDBx+BENCH' || {course} || 'x+2016_T1' AS cid,
                       CAST(log_date AS TIMESTAMP)
                           - INTERVAL (CASE WHEN hash(s, 'late') % 100 = 0 THEN 1 + hash(s, 'l') % 5 ELSE 0 END) DAY
                           + INTERVAL (hash(s, 't') % 80000) SECOND AS session_start,
                       10 + hash(s, 'n') % 31 AS session_events
                FROM (SELECT s, 1 + hash(s, 'u') % {learners} AS u, DATE '{first_day}' + CAST(s % {days} AS INTEGER) AS log_date
                      FROM range({sessions}) r(s))
                {f"WHERE {course} < {running}" if running else ""}
            ), range(40) e(i)
            WHERE i < session_events)"""
    folder = lake.bronze / "events"
    # the body fields ingestion derives, as it derives them
    select = with_event_fields("(" + _SIGNED_HASH.sub(r"CAST(hash(\1) % \2 AS BIGINT)", select) + ")")
    con.execute(
        f"COPY ({select}) TO {sql_string(str(folder))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (log_date), "
        "FILENAME_PATTERN 'data_{i}', OVERWRITE_OR_IGNORE)"
    )
    for path in folder.glob("log_date=*/data_*.parquet"):
        path.rename(path.with_name("data.parquet"))
    written = con.execute(
        f"SELECT count(*) FROM read_parquet({sql_string(str(folder / 'log_date=*' / '*.parquet'))})"
    ).fetchall()[0][0]
    print(f"events: {written:,} in the lake")


# --code: the builds run the idbx of another checkout (the lake is generated by this one's).
CODE_ENV = "IDBX_BENCHMARK_CODE"


def land_as_ingestion(lake: Lake) -> None:
    """What `idbx ingest events` does once a day has landed: keep (and touch) a catalog that
    already reads it, so that the build after it is measured as it runs in production."""
    refresh_catalog(lake, RunSummary("events"), unless_current=catalog.event_view_columns())


def measured_build(lake: Lake, work: Path, label: str, full: bool, script: str = RUN_BUILD) -> dict:
    out = work / f"{label}.json"
    env = {**os.environ, "IDBX_PSEUDONYM_KEY": KEY}
    if os.environ.get(CODE_ENV):
        env["PYTHONPATH"] = os.environ[CODE_ENV]
    seconds, peak = timed([sys.executable, "-P", "-c", script, str(lake.root), "full" if full else "", str(out)], env=env)
    result = json.loads(out.read_text())
    result.update(wall=seconds, peak=peak, label=label)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/models"))
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--learners", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the bronze lake of a previous run (same sizes)")
    parser.add_argument("--spark", action="store_true", help="the full build on DuckDB, then on Spark local[2]")
    parser.add_argument("--running", type=int, default=5, help="courses with events on the last new day (default 5)")
    parser.add_argument("--code", type=Path, help="build with the idbx of this checkout (side by side with another run)")
    args = parser.parse_args()
    if args.code:
        os.environ[CODE_ENV] = str(args.code.resolve())
    work = args.work.resolve()
    lake = Lake(work / "lake")
    new_day = SNAPSHOT + timedelta(days=1)
    if args.reuse and lake.bronze.is_dir():
        days = (lake.partition_dir("events", log_date=day) for day in (new_day, new_day + timedelta(days=1)))
        for path in (lake.silver, lake.marts, lake.seeds, lake.state / "build", *days):
            shutil.rmtree(path, ignore_errors=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
        generate(lake, args.courses, args.learners, args.events)
    print(machine() + (f", builds by the idbx at {args.code}" if args.code else ""))
    if args.spark:
        return compare_engines(lake, work)
    runs = [measured_build(lake, work, "full", full=False), measured_build(lake, work, "unchanged", full=False)]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    write_events(con, lake, args.courses, args.learners, new_day, 1, args.events // DAYS)
    land_as_ingestion(lake)
    runs.append(measured_build(lake, work, "one new day", full=False))
    # As the programme runs: 1 to 6 of its 33 course runs at a time (../shared/data's registry).
    write_events(con, lake, args.courses, args.learners, new_day + timedelta(days=1), 1, args.events // DAYS, args.running)
    land_as_ingestion(lake)
    runs.append(measured_build(lake, work, f"a new day of {args.running} courses", full=False))
    runs.append(measured_build(lake, work, "refresh", full=True))
    names = [m["name"] for m in runs[0]["models"]]
    print("\nseconds wall / CPU (both cores) per model; models built side by side (IDBX_BUILD_LANES) share the CPU figure")
    print("\n| model | " + " | ".join(r["label"] for r in runs) + " | rows (full) |")
    print("|---|" + "---|" * (len(runs) + 1))
    for name in names:
        cells = []
        for run in runs:
            model = next(m for m in run["models"] if m["name"] == name)
            status = "" if model["status"] in ("built", "view") else f" ({model['status']})"
            cells.append(f"{model['seconds']:.2f} / {model['cpu']:.2f}{status}")
        rows = next(m for m in runs[0]["models"] if m["name"] == name)["rows"]
        print(f"| {name} | " + " | ".join(cells) + f" | {'' if rows is None else f'{rows:,}'} |")
    print("| **build (in-process)** | " + " | ".join(f"{r['seconds']:.1f} / {r['cpu']:.1f}" for r in runs) + " | |")
    print("| **whole process (wall)** | " + " | ".join(f"{r['wall']:.1f}" for r in runs) + " | |")
    print("| **peak RSS (MB)** | " + " | ".join(f"{r['peak']:,.0f}" for r in runs) + " | |")
    print("| **checks of the outputs (CPU)** | " + " | ".join(_checks_share(r) for r in runs) + " | |")
    for run in runs:
        for name in ("int__events__learner_course_day", "person_course"):
            model = next(m for m in run["models"] if m["name"] == name)
            how = "; ".join(model["notes"]) or ("whole" if model["status"] == "built" else model["status"])
            print(f"{run['label']}: {name} {model['status']}; {how}")


def _checks_share(run: dict) -> str:
    """CPU seconds of the outputs' checks (grain, not_null, accepted_values), and their share of the build's."""
    checks = sum(model.get("check_cpu", 0.0) for model in run["models"])
    return f"{checks:.1f} ({checks / run['cpu']:.1%})" if run["cpu"] else f"{checks:.1f}"


def _mart_rows(lake: Lake) -> dict[str, int]:
    with duckdb.connect() as con:
        return {
            folder.name: con.execute(
                f"SELECT count(*) FROM read_parquet({sql_string(str(folder / '**' / '*.parquet'))})"
            ).fetchall()[0][0]
            for folder in sorted(p for p in lake.marts.iterdir() if p.is_dir())
        }


def compare_engines(lake: Lake, work: Path) -> None:
    """The full build on DuckDB, then on Spark local[2] over the same lake (outputs replaced)."""
    loads = [os.getloadavg()[0]]
    runs = [measured_build(lake, work, "duckdb full", full=False)]
    duck_rows = _mart_rows(lake)
    loads.append(os.getloadavg()[0])
    runs.append(measured_build(lake, work, "spark local[2] full", full=False, script=RUN_SPARK_BUILD))
    spark_rows = _mart_rows(lake)
    loads.append(os.getloadavg()[0])
    print("\n| model | " + " | ".join(r["label"] for r in runs) + " |\n|---|---|---|")
    for name in [m["name"] for m in runs[0]["models"]]:
        print(
            f"| {name} | "
            + " | ".join(f"{next(m for m in r['models'] if m['name'] == name)['seconds']:.1f}" for r in runs)
            + " |"
        )
    print("| **build (in-process)** | " + " | ".join(f"{r['seconds']:.1f}" for r in runs) + " |")
    print("| **whole process (wall)** | " + " | ".join(f"{r['wall']:.1f}" for r in runs) + " |")
    print("| **CPU seconds (on Spark with the JVM and its workers)** | " + " | ".join(f"{r['cpu']:.0f}" for r in runs) + " |")
    print(
        "| **load average (1 min) before / after** | "
        + " | ".join(f"{a:.1f} / {b:.1f}" for a, b in zip(loads, loads[1:], strict=False))
        + " |"
    )
    print(
        "| **peak RSS (MB; on Spark the largest process: the JVM, waited for)** | "
        + " | ".join(f"{r['peak']:,.0f}" for r in runs)
        + " |"
    )
    differ = {name: (rows, spark_rows.get(name)) for name, rows in duck_rows.items() if spark_rows.get(name) != rows}
    print(f"marts' rows: {differ if differ else 'the same on both engines'}")


if __name__ == "__main__":
    main()
