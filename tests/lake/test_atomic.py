"""One way to write a file atomically (idbx/lake/atomic.py), and one sweep that knows every leftover."""

import ast
import os
from pathlib import Path

import pytest

from idbx.lake import atomic
from idbx.lake.check import check_lake
from idbx.lake.store import Lake
from tests.conftest import SAMPLE_PSEUDONYM_KEY

REPO = Path(__file__).resolve().parents[2]
# Where the engine writes files aside in a lake (besides its root): one folder of each area.
AREAS = (
    "_state/build",
    "bronze/events/log_date=2016-07-01",
    "landing/idbx-edx-events/2016",
    "seeds/course_registry",
    "silver/stg__edx__events",
    "marts/person_course",
    "exports",
)


def die_in_a_run(lake: Lake, write) -> None:
    """`write(lake)` in a forked process's run, which then dies without unwinding (as after kill -9)."""
    pid = os.fork()
    if pid == 0:
        try:
            with lake.run("killed mid-write"):
                write(lake)
                os._exit(0)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_what_a_killed_run_was_writing_is_swept_by_the_next_run_wherever_it_was(tmp_path):
    lake = Lake(tmp_path / "lake")
    kept = lake.marts / "person_course" / "data.parquet"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"the model's output")

    def write_everywhere(lake: Lake) -> None:
        for area in AREAS:
            (lake.root / area).mkdir(parents=True, exist_ok=True)
            lake.aside(lake.root / area / "data.parquet").write_bytes(b"half written")
        work = lake.aside(lake.marts / "course_report")  # a partitioned model's work folder
        (work / "day=2016-07-01").mkdir(parents=True)
        (work / "day=2016-07-01" / "part_0.parquet").write_bytes(b"half written")
        lake.aside(lake.catalog_path).write_bytes(b"half written")

    die_in_a_run(lake, write_everywhere)
    left = {lake.relative(path) for path in lake.leftovers()}
    assert len(left) == len(AREAS) + 2 + 1  # the asides, the work folder, the catalog; the dead run's scratch
    assert {Path(name).parent.as_posix() for name in left} >= set(AREAS)
    listed = {problem.message.split(":")[0] for problem in check_lake(lake).problems if problem.kind == "leftover"}
    assert listed == left, "`idbx lake check` lists every one of them"

    live_lake = Lake(lake.root)
    with live_lake.run("a live run") as live:
        of_live = live_lake.aside(lake.marts / "person_course" / "data.parquet")
        assert atomic.owner_of(of_live) == live.id
        of_live.write_bytes(b"being written")
        with Lake(lake.root).run("the next run"):
            pass
        assert of_live.exists(), "a live run's files are never swept"
    assert not any((lake.root / name).exists() for name in left)
    assert kept.read_bytes() == b"the model's output"
    assert lake.leftovers() == []


# As earlier versions named what they wrote aside (the pid; a uuid4's 32 hex digits).
OLD_NAMES = (
    "_state/build/.state.json.tmp-41723",
    "seeds/course_registry/.data.parquet.tmp-41723",
    "marts/.person_course.tmp-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "silver/.int__events__learner_course_day.tmp-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "landing/idbx-edx-events/2016/.idbx-edx-events-2016-07-01.log.gz.gpg.tmp-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "bronze/.probe.tmp-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "exports/.course_report.csv.tmp-0f1e2d3c4b5a69788796a5b4c3d2e1f0.bom",
)


def test_what_earlier_versions_left_aside_is_listed_and_swept_once(tmp_path):
    lake = Lake(tmp_path / "lake")
    for name in OLD_NAMES:
        path = lake.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if "person_course" in name:  # a model's work folder
            (path / "part_0.parquet").parent.mkdir()
            (path / "part_0.parquet").write_bytes(b"half written")
        else:
            path.write_bytes(b"half written")
    not_ours = [lake.marts / "person_course" / "notes.tmp-2016", lake.marts / "person_course" / "data.parquet"]
    for path in not_ours:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"kept")

    assert sorted(lake.relative(path) for path in lake.leftovers()) == sorted(OLD_NAMES)
    assert {p.message.split(":")[0] for p in check_lake(lake).problems if p.kind == "leftover"} == set(OLD_NAMES)
    with lake.run("the first run of this version"):
        pass
    assert not any((lake.root / name).exists() for name in OLD_NAMES)
    assert all(path.read_bytes() == b"kept" for path in not_ours)


def test_a_file_is_synced_before_its_rename_and_its_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source, target):
        events.append(("rename", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    final = tmp_path / "state" / "state.json"
    atomic.write_bytes(final, b"{}")
    (_, synced), rename, folder = events
    assert Path(synced).name.startswith(".state.json.tmp-") and Path(synced).parent == final.parent
    assert rename == ("rename", str(final)) and folder == ("fsync", str(final.parent))
    assert final.read_bytes() == b"{}" and list(final.parent.iterdir()) == [final]


def test_a_failed_write_leaves_the_file_as_it_was_and_nothing_aside(tmp_path):
    final = tmp_path / "report.csv"
    final.write_text("before")
    with pytest.raises(RuntimeError), atomic.writing(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the disk filled up")
    assert final.read_text() == "before" and list(tmp_path.iterdir()) == [final]


def test_a_file_outside_the_lake_is_written_aside_without_a_run(tmp_path):
    """`idbx report --out` on a lake one can only read: nothing is written in the lake."""
    lake = Lake(tmp_path / "lake")
    aside = lake.aside(tmp_path / "reports" / "course_report.csv")
    assert atomic.owner_of(aside) == atomic.PROCESS_OWNER and aside.parent == tmp_path / "reports"
    assert not lake.root.exists()


def _renames(tree: ast.Module) -> list[int]:
    """Lines that rename a file: os.replace/os.rename/os.renames/shutil.move (however imported),
    and Path.rename/Path.replace (a `.replace(x)` with one argument; str.replace takes two)."""
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("os", "shutil")
        for alias in node.names
        if alias.name in ("replace", "rename", "renames", "move")
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in aliases:
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            of_os = (owner, func.attr) in {("os", "replace"), ("os", "rename"), ("os", "renames"), ("shutil", "move")}
            of_path = func.attr == "rename" or (func.attr == "replace" and len(node.args) == 1 and not node.keywords)
            if of_os or of_path:
                lines.append(node.lineno)
    return lines


# sqlglot's Expression.replace(node) swaps a node of a syntax tree: no file is renamed there.
_NOT_FILES = {"idbx/models/spark_dialect.py"}


def test_no_module_but_the_helper_renames_a_file():
    """Checked on the syntax tree, not by grep: a grep would match comments, docstrings and
    str.replace, and miss `from os import replace as swap`."""
    found = {}
    for path in sorted([*(REPO / "idbx").rglob("*.py"), *(REPO / "flows").rglob("*.py")]):
        name = path.relative_to(REPO).as_posix()
        if name == "idbx/lake/atomic.py" or name in _NOT_FILES:
            continue
        lines = _renames(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[name] = lines
    assert found == {}, "rename files through idbx.lake.atomic (Lake.writing, Lake.replace_file, atomic.writing)"


def test_the_rename_check_sees_what_it_looks_for():
    source = (
        "import os, shutil\nfrom os import replace as swap\n"
        "os.replace(a, b)\nswap(a, b)\np.rename(q)\np.replace(q)\nshutil.move(a, b)\n"
        "s.replace('a', 'b')\nt.replace(tzinfo=None)\n"
    )
    assert _renames(ast.parse(source)) == [3, 4, 5, 6, 7]


def test_a_build_killed_mid_write_leaves_nothing_after_the_next_build(tmp_path):
    """The runner keeps no sweep of its own: the lake's, at the start of the next build's run, removes
    what a killed build was writing (a partitioned model's work folder, a table, the registry seed, the state)."""
    from idbx.models.runner import build

    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed

    def write_as_a_build_does(lake: Lake) -> None:
        work = lake.aside(lake.silver / "int__events__learner_course_day")
        (work / "event_date=2016-07-01").mkdir(parents=True)
        (work / "event_date=2016-07-01" / "part_0.parquet").write_bytes(b"half written")
        lake.aside(lake.marts / "person_course" / "data.parquet").write_bytes(b"half written")
        lake.aside(lake.seeds / "course_registry" / "data.parquet").write_bytes(b"half written")
        lake.aside(lake.state / "build" / "state.json").write_bytes(b"half written")

    die_in_a_run(Lake(lake.root), write_as_a_build_does)  # a process of its own, as is the next build
    assert len(lake.leftovers()) == 5  # and the dead run's scratch folder
    assert not build(Lake(lake.root), key=SAMPLE_PSEUDONYM_KEY).failed
    assert [p for p in lake.root.rglob("*") if atomic.TMP_MARKER in p.name] == []
    assert lake.leftovers() == []
