"""`idbx courses`: the course registry (idbx/data/courses.csv)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from idbx.cli.common import RegistryOption, app, err, out, reported_errors
from idbx.registry import load_registry

courses_app = typer.Typer(help="The course registry (idbx/data/courses.csv).", no_args_is_help=True)
app.add_typer(courses_app, name="courses")


@courses_app.command("list")
def courses_list(
    registry: RegistryOption = None,
    all_courses: Annotated[bool, typer.Option("--all", help="Include excluded runs.")] = False,
) -> None:
    """List the registered course runs."""
    with reported_errors():
        reg = load_registry(registry)
    table = Table("course_key", "name", "sme", "start", "end", "passing", "excluded")
    for course in reg.courses.values():
        if course.excluded and not all_courses:
            continue
        table.add_row(
            course.course_key,
            escape(course.name),
            escape(course.sme),
            str(course.start_date or ""),
            str(course.end_date or ""),
            f"{course.passing_grade:.2f}",
            "yes" if course.excluded else "",
        )
    out.print(table)


@courses_app.command("check")
def courses_check(registry: RegistryOption = None) -> None:
    """Validate the registry: exit 1 and name every bad row; warnings do not fail."""
    with reported_errors():
        reg = load_registry(registry)
    for warning in reg.warnings:
        err.print(f"[yellow]warning[/] {escape(warning)}", highlight=False)
    err.print(escape(f"{reg.path}: {len(reg.courses)} course runs ({len(reg.included())} included), no errors"))
