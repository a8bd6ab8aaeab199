"""The house keeps one shape: each package of idbx imports only from packages below it in the flow
(imports inside functions count too), so no arrow runs back up. Ranks, bottom first, as
../shared/DESIGN.md's layout draws them: parsers are below the lake (which reads their schemas),
privacy's primitives below ingestion and the models (which pseudonymise with them), and what acts
on every output (`idbx forget`'s rebuild) sits in orchestration."""

from __future__ import annotations

import ast
from pathlib import Path

import idbx

RANKS = {
    # foundations: errors and quoting, then settings, the DuckDB connection, the course registry
    "errors": 0,
    "quoting": 0,
    "config": 1,
    "stopping": 1,
    "engine": 1,
    "registry": 1,
    "parsers": 2,
    "lake": 3,
    "privacy": 4,
    "ingest": 5,
    "models": 5,
    "sync": 6,
    "exports": 6,
    "publish": 6,
    "dashboard": 6,
    "local": 7,
    "orchestration": 7,
    "cli": 8,
}
PACKAGE = Path(idbx.__file__).parent


def _imports(path: Path) -> set[str]:
    """The idbx packages a module imports (first name after `idbx.`), at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("idbx.")}
    return found


def test_every_package_has_a_rank():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(RANKS), sorted((packages | modules) - set(RANKS))


def test_no_import_points_up():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        own = parts[0] if len(parts) > 1 else path.stem
        if own not in RANKS:
            continue
        for other in _imports(path) - {own}:
            if RANKS.get(other, 99) >= RANKS[own]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports idbx.{other}")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from idbx.models.runner import build\n    return build\n")
    assert _imports(module) == {"models"}
