"""Course structure JSON → one row per block: parents, positions, depth, chapter and sequential."""

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from idbx.errors import SourceFormatError
from idbx.parsers import course_structure
from idbx.parsers.tables import TABLES


def generated_course() -> dict:
    """course → 3 chapters → 2 sequentials each → 2 verticals each → a problem and a video each."""
    blocks = {}
    chapters = []
    for c in range(1, 4):
        sequentials = []
        for s in range(1, 3):
            verticals = []
            for v in range(1, 3):
                leaves = [f"p{c}{s}{v}", f"v{c}{s}{v}"]
                blocks[leaves[0]] = {"category": "problem", "children": [], "metadata": {"display_name": f"P {c}.{s}.{v}"}}
                blocks[leaves[1]] = {"category": "video", "children": [], "metadata": {}}
                verticals.append(f"u{c}{s}{v}")
                blocks[f"u{c}{s}{v}"] = {"category": "vertical", "children": leaves, "metadata": {}}
            sequentials.append(f"s{c}{s}")
            graded = {"graded": True, "format": "Exam", "due": "2016-05-01T12:00:00+02:00"} if s == 2 else {}
            blocks[f"s{c}{s}"] = {"category": "sequential", "children": verticals, "metadata": graded}
        chapters.append(f"c{c}")
        blocks[f"c{c}"] = {
            "category": "chapter",
            "children": sequentials,
            "metadata": {"display_name": f"Ch {c}", "start": f"2016-01-0{c}T00:00:00Z"},
        }
    # the course block last: order in the file says nothing about the tree
    blocks["course"] = {"category": "course", "children": chapters, "metadata": {"display_name": "A course"}}
    return blocks


def land(tmp_path: Path, structure) -> tuple[dict, course_structure.StructureCounts]:
    path = tmp_path / "structure.json"
    path.write_text(json.dumps(structure) if not isinstance(structure, str) else structure)
    con = duckdb.connect()
    course_structure.check_structure(con, path, path.name)
    relation = con.sql(course_structure.blocks_sql(path))
    rows = {row[0]: dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()}
    return rows, course_structure.structure_counts(con, path)


def test_parents_positions_depths_and_the_chapter_of_each_block(tmp_path):
    rows, counts = land(tmp_path, generated_course())
    assert len(rows) == counts.blocks == 1 + 3 + 6 + 12 + 24
    assert (counts.missing_children, counts.unplaced) == (0, 0)
    assert rows["course"] | {"metadata": None} == rows["course"] | {
        "block_type": "course",
        "display_name": "A course",
        "parent_id": None,
        "position": None,
        "depth": 0,
        "chapter_id": None,
        "sequential_id": None,
        "metadata": None,
    }
    for c in range(1, 4):
        assert (rows[f"c{c}"]["parent_id"], rows[f"c{c}"]["position"], rows[f"c{c}"]["depth"]) == ("course", c, 1)
        assert rows[f"c{c}"]["chapter_id"] == f"c{c}" and rows[f"c{c}"]["sequential_id"] is None
        assert rows[f"c{c}"]["start"] == datetime(2016, 1, c)
        for s in range(1, 3):
            seq = rows[f"s{c}{s}"]
            assert (seq["parent_id"], seq["position"], seq["depth"], seq["chapter_id"], seq["sequential_id"]) == (
                f"c{c}",
                s,
                2,
                f"c{c}",
                f"s{c}{s}",
            )
            for v in range(1, 3):
                unit, problem, video = rows[f"u{c}{s}{v}"], rows[f"p{c}{s}{v}"], rows[f"v{c}{s}{v}"]
                assert (unit["parent_id"], unit["position"], unit["depth"]) == (f"s{c}{s}", v, 3)
                assert (problem["parent_id"], problem["position"], problem["depth"]) == (f"u{c}{s}{v}", 1, 4)
                assert (video["parent_id"], video["position"]) == (f"u{c}{s}{v}", 2)
                assert problem["chapter_id"] == video["chapter_id"] == f"c{c}"
                assert problem["sequential_id"] == unit["sequential_id"] == f"s{c}{s}"
    graded = rows["s12"]
    assert (graded["graded"], graded["format"], graded["due"]) == (True, "Exam", datetime(2016, 5, 1, 10, 0))
    assert rows["s11"]["graded"] is None and rows["p111"]["display_name"] == "P 1.1.1"
    assert json.loads(rows["c2"]["metadata"])["display_name"] == "Ch 2"


def test_the_columns_are_the_declared_ones(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(generated_course()))
    relation = duckdb.connect().sql(course_structure.blocks_sql(path))
    declared = TABLES["course_blocks"].columns
    assert relation.columns == [c.name for c in declared]
    assert [str(t) for t in relation.types] == [c.type for c in declared]


def test_odd_structures_keep_every_block(tmp_path):
    rows, counts = land(
        tmp_path,
        {
            "ch": {"category": "chapter", "children": ["seq", "gone", "shared"], "metadata": {}},
            "seq": {"category": "sequential", "children": ["shared"], "metadata": {}},
            "shared": {"category": "vertical", "metadata": {}},
            "x": {"category": "html", "children": ["y"]},
            "y": {"category": "html", "children": ["x"]},
            "orphan": {"category": "problem"},
        },
    )
    # a fragment without a course block: the chapter takes its depth in a course
    assert (rows["ch"]["depth"], rows["ch"]["parent_id"], rows["seq"]["depth"]) == (1, None, 2)
    # listed under two parents: the first parent in the file keeps it, at its place there
    assert (rows["shared"]["parent_id"], rows["shared"]["position"], rows["shared"]["depth"]) == ("ch", 3, 2)
    # a cycle no root reaches, and a leaf on its own: kept, without a place
    assert rows["x"]["depth"] is None and rows["x"]["parent_id"] is None
    assert rows["orphan"]["depth"] is None and rows["orphan"]["chapter_id"] is None
    assert (counts.blocks, counts.missing_children, counts.unplaced) == (6, 1, 2)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": {"category": "course",\n "children": [}', r"line 2: not valid JSON"),
        ('[{"category": "course"}]', "JSON object of blocks, not ARRAY"),
        ('{"a": 3}', "block 'a' is not a JSON object"),
    ],
)
def test_files_that_are_not_a_structure_are_refused(tmp_path, text, message):
    with pytest.raises(SourceFormatError, match=message):
        land(tmp_path, text)


def test_corpus_structure_matches_its_json(corpus):
    path = next((corpus / "package" / "edX-DemoX-Demo_Course").glob("*-course_structure-*.json"))
    source = json.loads(path.read_text())
    relation = duckdb.connect().sql(course_structure.blocks_sql(path))
    rows = {row[0]: dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()}
    assert set(rows) == set(source)
    chapters = [block for block, value in source.items() if value["category"] == "chapter"]
    assert [b for b, row in rows.items() if row["block_type"] == "chapter"] == chapters
    for block, value in source.items():
        assert rows[block]["display_name"] == value["metadata"].get("display_name")
