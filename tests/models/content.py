"""A small course outline for course A of the scenario, as the course structure JSON gives it
(blocks listed out of course order, as real files list them), and the course_blocks rows the
parser makes of it, for the tests of the outline, the chapter funnel and problem engagement."""

from __future__ import annotations

from idbx.parsers.naming import usage_id

A = "course-v1:IDBx+RA+2016_T1"  # course A of tests/models/scenario.py


def block(category: str, name: str) -> str:
    return usage_id(A, category, name)


# The course: chapter ch1 (sequential s1: vertical u1 holding video v1 and problem p1), chapter ch2
# (graded Homework s2 due 2016-07-15: vertical u2 holding problem p2), chapter ch3 (graded Exam s3,
# no verticals). Course order: course, ch1, s1, u1, v1, p1, ch2, s2, u2, p2, ch3, s3.
STRUCTURE = {
    block("problem", "p2"): {"category": "problem", "children": [], "metadata": {"display_name": "Ejercicio 2"}},
    block("chapter", "ch2"): {
        "category": "chapter",
        "children": [block("sequential", "s2")],
        "metadata": {"display_name": "Semana 1"},
    },
    block("course", "course"): {
        "category": "course",
        "children": [block("chapter", n) for n in ("ch1", "ch2", "ch3")],
        "metadata": {"display_name": "Curso A"},
    },
    block("sequential", "s2"): {
        "category": "sequential",
        "children": [block("vertical", "u2")],
        "metadata": {"display_name": "Tarea", "graded": True, "format": "Homework", "due": "2016-07-15T23:59:00Z"},
    },
    block("vertical", "u2"): {
        "category": "vertical",
        "children": [block("problem", "p2")],
        "metadata": {"display_name": "Unidad 2"},
    },
    block("chapter", "ch1"): {
        "category": "chapter",
        "children": [block("sequential", "s1")],
        "metadata": {"display_name": "Intro"},
    },
    block("sequential", "s1"): {
        "category": "sequential",
        "children": [block("vertical", "u1")],
        "metadata": {"display_name": "Bienvenida"},
    },
    block("vertical", "u1"): {
        "category": "vertical",
        "children": [block("video", "v1"), block("problem", "p1")],
        "metadata": {"display_name": "Unidad 1"},
    },
    block("video", "v1"): {"category": "video", "children": [], "metadata": {"display_name": "Video 1", "duration": 120}},
    block("problem", "p1"): {"category": "problem", "children": [], "metadata": {"display_name": "Ejercicio 1"}},
    block("chapter", "ch3"): {
        "category": "chapter",
        "children": [block("sequential", "s3")],
        "metadata": {"display_name": "Examen"},
    },
    block("sequential", "s3"): {
        "category": "sequential",
        "children": [],
        "metadata": {"display_name": "Examen final", "graded": True, "format": "Exam"},
    },
}

# name: (type, display name, parent, position, depth, chapter, sequential, graded, format, due)
_PLACES = {
    "course": ("course", "Curso A", None, None, 0, None, None),
    "ch1": ("chapter", "Intro", "course", 1, 1, "ch1", None),
    "s1": ("sequential", "Bienvenida", "ch1", 1, 2, "ch1", "s1"),
    "u1": ("vertical", "Unidad 1", "s1", 1, 3, "ch1", "s1"),
    "v1": ("video", "Video 1", "u1", 1, 4, "ch1", "s1"),
    "p1": ("problem", "Ejercicio 1", "u1", 2, 4, "ch1", "s1"),
    "ch2": ("chapter", "Semana 1", "course", 2, 1, "ch2", None),
    "s2": ("sequential", "Tarea", "ch2", 1, 2, "ch2", "s2"),
    "u2": ("vertical", "Unidad 2", "s2", 1, 3, "ch2", "s2"),
    "p2": ("problem", "Ejercicio 2", "u2", 1, 4, "ch2", "s2"),
    "ch3": ("chapter", "Examen", "course", 3, 1, "ch3", None),
    "s3": ("sequential", "Examen final", "ch3", 1, 2, "ch3", "s3"),
}
ORDER = list(_PLACES)


def blocks_rows() -> list[dict]:
    """The course_blocks rows of STRUCTURE (what the parser makes of it)."""
    rows = []
    for name, (category, display, parent, position, depth, chapter, sequential) in _PLACES.items():
        meta = STRUCTURE[block(category, name)]["metadata"]
        rows.append(
            {
                "block_id": block(category, name),
                "block_type": category,
                "display_name": display,
                "parent_id": block(_PLACES[parent][0], parent) if parent else None,
                "position": position,
                "depth": depth,
                "chapter_id": block("chapter", chapter) if chapter else None,
                "sequential_id": block("sequential", sequential) if sequential else None,
                "graded": meta.get("graded"),
                "format": meta.get("format"),
                "due": meta.get("due", "").replace("T", " ").removesuffix("Z") or None,
                "metadata": meta,
            }
        )
    return rows
