"""A course export's chapter list, in the course structure JSON's shape."""

import io
import tarfile
from pathlib import Path

import pytest

from idbx.errors import SourceFormatError
from idbx.parsers.course_export import chapters_structure


def tarball(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_chapters_in_order_with_their_names(tmp_path):
    path = tarball(
        tmp_path / "export.tar.gz",
        {
            "course/about/overview.html": "<p>hi</p>",
            "course/course.xml": '<course url_name="2016_T1" org="IDBx" course="IDB6x"/>',
            "course/course/2016_T1.xml": '<course display_name="Gestión"><chapter url_name="intro"/>'
            '<chapter url_name="week1" display_name="Semana 1"/><wiki slug="x"/></course>',
            "course/chapter/intro.xml": '<chapter display_name="Introducción" start="&quot;2016-01-04T00:00:00Z&quot;"/>',
        },
    )
    structure = chapters_structure(path, "export", "course-v1:IDBx+IDB6x+2016_T1")
    root = "block-v1:IDBx+IDB6x+2016_T1+type@course+block@2016_T1"
    intro, week1 = (
        "block-v1:IDBx+IDB6x+2016_T1+type@chapter+block@intro",
        "block-v1:IDBx+IDB6x+2016_T1+type@chapter+block@week1",
    )
    assert structure == {
        root: {"category": "course", "children": [intro, week1], "metadata": {"display_name": "Gestión"}},
        intro: {
            "category": "chapter",
            "children": [],
            "metadata": {"display_name": "Introducción", "start": "2016-01-04T00:00:00Z"},
        },
        week1: {"category": "chapter", "children": [], "metadata": {"display_name": "Semana 1"}},
    }


def test_old_style_ids_and_an_inline_course(tmp_path):
    path = tarball(
        tmp_path / "export.tar.gz",
        {
            "./IDB1x/course.xml": '<course url_name="2T2014"><chapter url_name="a"/><chapter url_name="b"/></course>',
        },
    )
    structure = chapters_structure(path, "export", "IDBx/IDB1x/2T2014")
    assert list(structure) == ["i4x://IDBx/IDB1x/course/2T2014", "i4x://IDBx/IDB1x/chapter/a", "i4x://IDBx/IDB1x/chapter/b"]


def test_corpus_export_has_a_course_and_no_chapters(corpus):
    path = corpus / "package" / "edX-DemoX-Demo_Course" / "edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz"
    structure = chapters_structure(path, path.name, "course-v1:edX+DemoX+Demo_Course")
    assert structure == {
        "block-v1:edX+DemoX+Demo_Course+type@course+block@accept": {"category": "course", "children": [], "metadata": {}}
    }


@pytest.mark.parametrize(
    "files, message",
    [
        ({"course/about.html": "x"}, "no course.xml"),
        ({"course/course.xml": "<course url_name="}, r"course.xml: line 1: not valid XML"),
    ],
)
def test_unusable_exports_are_refused(tmp_path, files, message):
    with pytest.raises(SourceFormatError, match=message):
        chapters_structure(tarball(tmp_path / "e.tar.gz", files), "e", "course-v1:A+B+C")


def test_a_file_that_is_not_a_tarball_is_refused(tmp_path):
    (tmp_path / "e.tar.gz").write_bytes(b"not a tarball at all")
    with pytest.raises(SourceFormatError, match="not a readable course export tarball"):
        chapters_structure(tmp_path / "e.tar.gz", "e", "course-v1:A+B+C")
