from pathlib import Path

import pytest

from idbx.errors import RegistryError
from idbx.registry import DEFAULT_PASSING_GRADE, load_registry

HEADER = "course_key,name,sme,start_date,end_date,excluded,passing_grade,notes\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "courses.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_registry_is_valid_and_complete():
    registry = load_registry()
    assert len(registry.courses) == 50
    assert len(registry.included()) == 32
    assert registry.courses["idb14x_3t2016"].excluded and registry.courses["idb5x_1t2017"].excluded
    course = registry.courses["idb1x_2t2014"]
    assert course.name.startswith("Introducción a la Gestión") and course.sme == "IFD/ICS"
    assert course.passing_grade == DEFAULT_PASSING_GRADE
    assert any("idb2x_3t2014" in w for w in registry.warnings)  # a 2014 run dated 2016


def test_seed_registry_end_before_start_is_named(corpus):
    seed = corpus.parent / "data" / "seed_courses.csv"
    with pytest.raises(RegistryError) as info:
        load_registry(seed)
    assert info.value.problems == ["row 15 (idb5_1x_3t2016): end_date 2016-02-05 is before start_date 2016-10-25"]


@pytest.mark.parametrize(
    "rows, problem",
    [
        (
            "a_1,A,S,2016-01-01,2016-02-01,false,,\na_1,B,S,2016-01-01,2016-02-01,false,,\n",
            "row 3 (a_1): duplicate course_key a_1",
        ),
        ("a_1,A,S,2016-13-01,2016-02-01,false,,\n", "row 2 (a_1): start_date '2016-13-01' is not a date"),
        ("A-1,A,S,2016-01-01,2016-02-01,false,,\n", "row 2 (A-1): course_key 'A-1' must be lower-case"),
        ("a_1,A,S,2016-01-01,2016-02-01,maybe,,\n", "row 2 (a_1): excluded 'maybe' must be true or false"),
        ("a_1,A,S,2016-01-01,2016-02-01,false,1.5,\n", "row 2 (a_1): passing_grade '1.5' must be a number between 0 and 1"),
        ("a_1,,S,2016-01-01,2016-02-01,false,,\n", "row 2 (a_1): name is empty"),
        ("a_1,A,S,2016-01-01\n", "row 2 (a_1): wrong number of fields"),
    ],
)
def test_bad_rows_are_named(tmp_path, rows, problem):
    with pytest.raises(RegistryError) as info:
        load_registry(write(tmp_path, HEADER + rows))
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_unknown_and_missing_columns(tmp_path):
    with pytest.raises(RegistryError, match="unknown column.*colour"):
        load_registry(write(tmp_path, HEADER.strip() + ",colour\na_1,A,S,2016-01-01,2016-02-01,false,,,red\n"))
    with pytest.raises(RegistryError, match="missing column.*start_date"):
        load_registry(write(tmp_path, "course_key,name,sme,end_date\n"))


def test_excluded_runs_need_only_a_key_and_grades_are_read(tmp_path):
    registry = load_registry(write(tmp_path, HEADER + "x_1,,,,,true,,\nb_2,B,S,2016-01-01,,false,0.7,\n"))
    assert registry.courses["x_1"].excluded
    assert registry.courses["b_2"].passing_grade == 0.7 and registry.courses["b_2"].end_date is None
