"""Publishing a site: a reader sees the old build or the new one, never a half-written one; a
failed build changes nothing; a folder idbx did not make is never touched."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest

from idbx.dashboard.settings import MARKER
from idbx.dashboard.writer import SiteWriter
from idbx.errors import IdbxError


def go_live(out, text: str) -> SiteWriter:
    with SiteWriter(out) as site:
        site.write("assets/site.js", "// " + text)
        site.write("index.html", f"<html>{text}</html>")
        site.go_live({"text": text})
    return site


def test_each_build_swaps_the_link_and_keeps_the_previous_one(tmp_path):
    out = tmp_path / "dashboard"
    first = go_live(out, "first")
    assert out.is_symlink() and os.readlink(out) == first.folder.name  # relative: the lake can move
    assert (out / "index.html").read_text() == "<html>first</html>" and (out / MARKER).is_file()
    second = go_live(out, "second")
    assert (out / "index.html").read_text() == "<html>second</html>"
    assert first.folder.is_dir(), "a page opened from the previous build still finds its files"
    third = go_live(out, "third")
    assert not first.folder.exists() and second.folder.is_dir() and third.folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".dashboard.lock", "dashboard", second.folder.name, third.folder.name]
    )


def test_a_failed_build_changes_nothing(tmp_path):
    out = tmp_path / "dashboard"
    go_live(out, "good")
    before = os.readlink(out)
    with pytest.raises(RuntimeError), SiteWriter(out) as site:
        site.write("index.html", "<html>half")
        raise RuntimeError("killed while writing")
    assert os.readlink(out) == before and (out / "index.html").read_text() == "<html>good</html>"
    assert not site.folder.exists()


def test_leftovers_of_a_killed_build_are_removed_by_the_next(tmp_path):
    out = tmp_path / "dashboard"
    (tmp_path / ".dashboard-20200101T000000-deadbeef").mkdir()  # a build killed before it went live
    go_live(out, "one")
    go_live(out, "two")
    assert not (tmp_path / ".dashboard-20200101T000000-deadbeef").exists()


def test_readers_never_see_a_half_written_site(tmp_path):
    """One build at a time goes live while a reader reads on. The previous build is kept for a
    page opened before the swap, so the next swap waits until the reader has seen this one (a
    reader starved through two swaps in a row, as a loaded machine did, is not what it promises)."""
    out = tmp_path / "dashboard"
    go_live(out, "0")
    seen, problems, stop = set(), [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                page = (out / "index.html").read_text()
                script = (out / "assets" / "site.js").read_text()
            except OSError as exc:
                problems.append(repr(exc))
                continue
            if not (page.startswith("<html>") and page.endswith("</html>") and script.startswith("// ")):
                problems.append(page)
            seen.add(page)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 30):
            go_live(out, str(n))
            deadline = time.monotonic() + 10
            while f"<html>{n}</html>" not in seen and time.monotonic() < deadline:
                time.sleep(0.001)
    finally:
        stop.set()
        reader.join()
    assert not problems
    assert len(seen) > 1


def test_a_folder_idbx_did_not_make_is_refused(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(IdbxError, match="not a dashboard idbx made"):
        go_live(foreign, "x")
    assert (foreign / "notes.txt").read_text() == "keep me" and not foreign.is_symlink()
    link = tmp_path / "elsewhere"
    link.symlink_to(foreign)
    with pytest.raises(IdbxError, match="not a dashboard idbx made"):
        go_live(link, "x")
    assert [p.name for p in tmp_path.glob(".elsewhere-*")] == []
    empty = tmp_path / "empty"
    empty.mkdir()
    go_live(empty, "fine")
    assert empty.is_symlink()


def test_one_build_at_a_time(tmp_path):
    out = tmp_path / "dashboard"
    with open(tmp_path / ".dashboard.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(IdbxError, match="another `idbx dashboard` is writing"):
            go_live(out, "x")
    go_live(out, "after")
    assert (out / "index.html").read_text() == "<html>after</html>"
