"""The README and the docs pages link only to what exists: every relative link names a file of the
repository and, with `#anchor`, a heading of that page (GitHub's anchors: lower case, punctuation
dropped, spaces as hyphens)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (a repeated heading gets -1, -2, ...)."""
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"(?m)^#{1,6} +(.+?) *#*$", text):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in found:
            n += 1
            anchor = f"{slug}-{n}"
        found.add(anchor)
    return found


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code is not a link
    return [target for target in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_there_are_docs_pages_and_the_readme_links_each():
    readme_links = {(ROOT / target.split("#")[0]).resolve() for target in relative_links(ROOT / "README.md")}
    docs = set(PAGES[1:])
    assert len(docs) >= 10
    assert docs <= readme_links, f"not linked from README.md: {sorted(p.name for p in docs - readme_links)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_names_a_file_and_heading_that_exist(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_a_broken_link_and_a_wrong_anchor_are_found(tmp_path):
    """The check itself: a page linking to a missing file, or to a heading its target lacks, is caught."""
    (tmp_path / "target.md").write_text("# Title\n\n## The dashboard: `idbx dashboard`\n")
    page = tmp_path / "page.md"
    page.write_text("[a](target.md#the-dashboard-idbx-dashboard) [b](missing.md) [c](target.md#nope) `[d](x.md)`\n")
    assert relative_links(page) == ["target.md#the-dashboard-idbx-dashboard", "missing.md", "target.md#nope"]
    assert anchors(tmp_path / "target.md") == {"title", "the-dashboard-idbx-dashboard"}


def test_the_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"(?m)^ {4}(bash \S+)$", readme)
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert all((ROOT / command.split()[1]).is_file() for command in commands)
    assert re.search(r"(?m)^bash scripts/test\.sh\b", (ROOT / ".ci" / "run").read_text(encoding="utf-8"))


def test_no_code_or_setting_points_to_a_readme_section_that_moved():
    """The reference lives in docs/: code, comments and messages name the page, not "README, <section>"."""
    stale = re.compile(r"""README(?:'s)? ?,? ?["“]|see (?:the )?README\b""")
    files = [*ROOT.glob("idbx/**/*.py"), *ROOT.glob("flows/**/*.py"), *ROOT.glob("benchmarks/**/*"), ROOT / "prefect.yaml"]
    found = [
        f"{path.relative_to(ROOT)}"
        for path in files
        if path.is_file() and stale.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not found, f"point to the docs page instead: {found}"
