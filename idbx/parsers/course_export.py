"""The chapter list of a course export (`…-course-prod-analytics.xml.tar.gz`, OLX in a tarball).

Used only when a delivery lacks the course structure JSON: the export's top folder holds
`course.xml` (`<course url_name="…"/>`), the course's own file `course/<url_name>.xml` lists its
chapters in order (`<chapter url_name="…"/>`, or inline), and `chapter/<url_name>.xml` names
each. The result has the course structure JSON's shape, so one parser makes course_blocks from
either. Only those small XML files are read (the tarball is streamed, nothing is extracted).
"""

from __future__ import annotations

import re
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from idbx.errors import SourceFormatError
from idbx.parsers.naming import usage_id

# OLX files this reader needs: the top folder's course.xml, the course's and the chapters' own files.
_WANTED = re.compile(r"^(?:\./)?([^/]+)/(course\.xml|course/[^/]+\.xml|chapter/[^/]+\.xml)$")
_MAX_XML_BYTES = 8 << 20


def _read_wanted(path: Path, source: str) -> dict[str, bytes]:
    """`course.xml`, `course/x.xml`, `chapter/y.xml` of the export's top folder, by relative name."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                match = _WANTED.match(member.name)
                if member.isfile() and match and member.size <= _MAX_XML_BYTES:
                    found.setdefault(match[2], archive.extractfile(member).read())
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SourceFormatError(source, f"not a readable course export tarball ({exc})") from exc
    return found


def _element(data: bytes, name: str, source: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise SourceFormatError(source, f"{name}: line {exc.position[0]}: not valid XML ({exc})") from exc


def _start(element: ET.Element) -> str | None:
    """OLX keeps some dates JSON-quoted (`start="&quot;2016-01-01T00:00:00Z&quot;"`)."""
    value = element.get("start")
    return value.strip('"') if value else None


def chapters_structure(path: Path, source: str, course_id: str) -> dict[str, dict]:
    """The course block and its chapters, in order, as a course structure JSON object; ids are
    the usage ids edX gives imported blocks (their url_name, in the course's id form)."""
    files = _read_wanted(path, source)
    if "course.xml" not in files:
        raise SourceFormatError(source, "no course.xml in the course export's top folder")
    pointer = _element(files["course.xml"], "course.xml", source)
    url_name = pointer.get("url_name") or "course"
    own = f"course/{url_name}.xml"
    course = _element(files[own], own, source) if own in files else pointer
    structure: dict[str, dict] = {}
    children = []
    for chapter in course.findall("chapter"):
        chapter_name = chapter.get("url_name")
        if not chapter_name:
            continue
        definition = files.get(f"chapter/{chapter_name}.xml")
        defined = _element(definition, f"chapter/{chapter_name}.xml", source) if definition else chapter
        block_id = usage_id(course_id, "chapter", chapter_name)
        children.append(block_id)
        metadata = {
            "display_name": chapter.get("display_name") or defined.get("display_name"),
            "start": _start(chapter) or _start(defined),
        }
        structure[block_id] = {"category": "chapter", "children": [], "metadata": {k: v for k, v in metadata.items() if v}}
    root = {"display_name": course.get("display_name"), "start": _start(course)}
    structure = {
        usage_id(course_id, "course", url_name): {
            "category": "course",
            "children": children,
            "metadata": {k: v for k, v in root.items() if v},
        },
        **structure,
    }
    return structure
