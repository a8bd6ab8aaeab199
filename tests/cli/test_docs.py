"""docs/commands.md and `idbx --help` in step: the reference lists every command and option the
typer app has, and none it does not. The page is checkable by its shape: one `### idbx ...` heading
per command, its options in backticks or in its synopsis below the heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from idbx.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMMANDS_PAGE = ROOT / "docs" / "commands.md"

# An option as a page writes it: `--full-refresh`, `-s`; not the `-only` of `read-only` or a date's `-07`.
OPTION = re.compile(r"(?<![\w-])--?[a-z][a-z0-9-]*")
# A command as a page writes it, in a code span or a code block: `idbx ingest package`.
COMMAND = re.compile(r"(?<![\w./\[-])idbx((?: [a-z][a-z-]*)+)")


def command_tree() -> dict[str, object]:
    """Every command of the app by its full name (`idbx`, `idbx build`, `idbx ingest package`, ...)."""
    found: dict[str, object] = {}

    def walk(command, name: str) -> None:
        found[name] = command
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{name} {sub_name}")

    walk(typer.main.get_command(app), "idbx")
    return found


def leaf_commands() -> dict[str, object]:
    """The commands a user runs (groups such as `idbx ingest` only hold them), and `idbx` itself for its own options."""
    tree = command_tree()
    return {name: command for name, command in tree.items() if not hasattr(command, "commands") or name == "idbx"}


def options_of(command) -> set[str]:
    return {name for param in command.params if param.param_type_name == "option" for name in param.opts + param.secondary_opts}


def code_of(markdown: str) -> str:
    """The page's code only: code spans and indented or fenced blocks, where commands and options are written."""
    spans = re.findall(r"`([^`\n]+)`", markdown)
    blocks = re.findall(r"```[^\n]*\n(.*?)```", markdown, flags=re.S)
    indented = re.findall(r"(?m)^(?: {4}|\t)(.*)$", markdown)
    return "\n".join(spans + blocks + indented)


def sections(markdown: str) -> dict[str, str]:
    """The page's `### idbx ...` sections by command name, each up to the next heading."""
    parts = re.split(r"(?m)^(#{1,3} .*)$", markdown)
    found = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        name = heading.removeprefix("### ").strip()
        if heading.startswith("### "):
            assert name not in found, f"docs/commands.md: {name} has two sections"
            found[name] = body
    return found


def at_a_glance(markdown: str) -> dict[str, set[str]]:
    """The options the page's first code block (the synopsis of every command) gives each command."""
    block = re.search(r"```\n(.*?)```", markdown, flags=re.S).group(1)
    lines = re.sub(r"\n {4}", " ", block).splitlines()  # a synopsis continued on the next line
    synopsis: dict[str, set[str]] = {}
    tree = command_tree()
    for line in lines:
        name = resolve(line.split(), tree)
        synopsis.setdefault(name, set()).update(OPTION.findall(line))
    return synopsis


def resolve(words: list[str], tree: dict[str, object]) -> str:
    """The command `idbx word word ...` names: the longest run of words that is a command. Raises if a
    word after a group is none of its commands (a command that does not exist)."""
    name = "idbx"
    for word in words[1:]:
        if f"{name} {word}" in tree:
            name = f"{name} {word}"
        elif hasattr(tree[name], "commands"):
            raise AssertionError(f"{name} has no command {word!r}")
        else:
            break
    return name


@pytest.fixture(scope="module")
def page() -> str:
    return COMMANDS_PAGE.read_text(encoding="utf-8")


def test_every_command_has_its_section_and_no_section_names_a_command_that_does_not_exist(page):
    assert set(sections(page)) == set(leaf_commands())


@pytest.mark.parametrize("name", sorted(leaf_commands()))
def test_each_section_lists_every_option_of_its_command_and_no_other(page, name):
    command = leaf_commands()[name]
    written = set(OPTION.findall(code_of(sections(page)[name]))) - {"--help"}
    assert written == options_of(command), (
        f"docs/commands.md, {name}: missing {sorted(options_of(command) - written)}, "
        f"not options of it {sorted(written - options_of(command))}"
    )


@pytest.mark.parametrize("name", sorted(leaf_commands()))
def test_each_section_explains_the_arguments_of_its_command(page, name):
    """A positional argument is a bullet named as the synopsis writes it: `PATH` for `paths`, `OUT_DIR`."""
    arguments = [param.name for param in leaf_commands()[name].params if param.param_type_name == "argument"]
    bullets = set(re.findall(r"(?m)^- `([A-Z_]+)`", sections(page)[name]))
    for argument in arguments:
        written = argument.upper()
        singular = re.sub(r"(ES|S)$", "", written)
        assert {written, singular} & bullets, f"docs/commands.md, {name}: no bullet for its argument {written}"


def test_the_synopsis_at_the_top_gives_every_command_its_long_options(page):
    synopsis = at_a_glance(page)
    commands = {name: command for name, command in leaf_commands().items() if name != "idbx"}
    assert set(synopsis) == set(commands)
    for name, command in commands.items():
        long_options = {option for option in options_of(command) if option.startswith("--")}
        assert synopsis[name] == long_options, f"docs/commands.md, synopsis of {name}"


def test_every_command_the_docs_name_exists():
    """Every `idbx ...` command written in the README or a docs page is one the app has."""
    tree = command_tree()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for words in COMMAND.findall(code_of(path.read_text(encoding="utf-8"))):
            resolve(["idbx", *words.split()], tree)  # raises, naming the command that does not exist


def test_the_checks_catch_a_missing_option_an_invented_one_and_an_unknown_command(page):
    """The reference's checks are not vacuous: an option dropped, an option made up and a command
    misspelt are each found."""
    build = sections(page)["idbx build"]
    assert "--rekey" in options_of(leaf_commands()["idbx build"])
    assert "--rekey" not in OPTION.findall(code_of(build.replace("`--rekey`", "").replace("[--rekey]", "")))
    assert "--fast" in OPTION.findall(code_of(build + "\n- `--fast`: made up.\n"))
    with pytest.raises(AssertionError, match="no command 'pakage'"):
        resolve(["idbx", "ingest", "pakage", "PATH"], command_tree())
