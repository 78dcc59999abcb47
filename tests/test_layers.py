"""The package's layering: the import-linter contracts of ``pyproject.toml`` and no import cycles.

``[tool.importlinter]`` in ``pyproject.toml`` holds the contracts (layers, forbidden
imports, acyclic siblings); ``lint-imports`` from the repository root checks the same.
On failure the assertion message is import-linter's report: every broken contract with
the offending imports (importer -> imported, line).

The cycle check here also catches what import-linter's ``acyclic_siblings`` cannot see:
a cycle through a package's own ``__init__`` (a module importing its parent package).
"""

from __future__ import annotations

import importlib.util
import io
import re
import textwrap
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("importlinter")
import grimp  # noqa: E402  (import-linter's dependency)

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = REPO / "pyproject.toml"


def lint(config: Path) -> tuple[bool, str]:
    """Check every import-linter contract of ``config``: (all kept, the report as plain text)."""
    from rich.console import Console

    import importlinter.api  # noqa: F401  (configures import-linter's file system and graph builder)
    from importlinter.application import output, use_cases

    text = io.StringIO()
    console = output.console
    output.console = Console(file=text, width=200, highlight=False, color_system=None, soft_wrap=True)
    try:
        ok = use_cases.lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)
    finally:
        output.console = console
    return ok, text.getvalue()


def _session(config: Path) -> dict:
    section = tomllib.loads(config.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {
        "roots": section.get("root_packages") or [section["root_package"]],
        "exclude_type_checking_imports": section.get("exclude_type_checking_imports", False),
    }


def find_cycles(config: Path) -> list[str]:
    """Module-level import cycles of the config's root packages, the graph built as import-linter builds it.

    For each strongly connected component of two or more modules, its shortest cycles
    (one for each import in it, leaving out a cycle through all the modules of a shorter
    one), each as its imports with their lines: fix those and run again.
    """
    session = _session(config)
    graph = grimp.build_graph(*session["roots"], cache_dir=None,
                              exclude_type_checking_imports=session["exclude_type_checking_imports"])
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) - {m}) for m in sorted(graph.modules)}
    out = []
    for component in sorted(_strongly_connected(edges), key=min):
        if len(component) < 2:
            continue
        candidates = sorted(
            ((importer, *graph.find_shortest_chain(importer=imported, imported=importer))
             for importer in sorted(component) for imported in edges[importer] if imported in component),
            key=len,
        )
        shown: list[tuple[str, ...]] = []
        for cycle in candidates:
            if not any(set(c) <= set(cycle) for c in shown):
                shown.append(cycle)
        lines = [f"cycle among {len(component)} modules: " + ", ".join(sorted(component))]
        for cycle in shown:
            lines.append("  " + " -> ".join(cycle))
            for importer, imported in zip(cycle, cycle[1:]):
                for d in graph.get_import_details(importer=importer, imported=imported):
                    lines.append(f"    {importer} -> {imported} (l.{d['line_number']}: {d['line_contents']})")
        out.append("\n".join(lines))
    return out


def _strongly_connected(edges: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iterative (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


# -- the repository --------------------------------------------------------------------


def test_checks_this_checkout() -> None:
    """grimp finds ``asr`` through ``sys.path``: it must be this checkout's, not an installed copy."""
    spec = importlib.util.find_spec("asr")
    assert spec is not None and spec.origin and Path(spec.origin).resolve().parent == REPO / "asr"


def test_import_contracts_are_kept() -> None:
    ok, report = lint(PYPROJECT)
    if not ok:
        pytest.fail(f"import-linter contracts of {PYPROJECT} are broken:\n{report}", pytrace=False)


def test_no_import_cycles() -> None:
    cycles = find_cycles(PYPROJECT)
    if cycles:
        pytest.fail("import cycles:\n" + "\n".join(cycles), pytrace=False)


# -- the checks themselves can fail --------------------------------------------------------


def _probe_package(tmp_path: Path, name: str) -> Path:
    """A package ``name`` laid out as the repository's contracts want, with their contracts.

    Every layer of the layers contract is an empty subpackage (``__main__`` a module), and
    every import the contracts ignore is made; returns the probe's ``pyproject.toml``.
    """
    text = PYPROJECT.read_text(encoding="utf-8")
    start = text.index("[tool.importlinter]")
    end = re.search(r"^\[(?!\[?tool\.importlinter)", text[start + 1:], re.M)
    section = text[start:start + 1 + end.start()] if end else text[start:]
    section = re.sub(r"\basr(?=[.\" ])", name, section)  # "asr.x", "asr", "asr -> ..."
    config = tmp_path / "pyproject.toml"
    config.write_text(section, encoding="utf-8")

    contracts = tomllib.loads(section)["tool"]["importlinter"]["contracts"]
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    for layer in layers["layers"]:
        for tail in re.split(r"[|:]", layer):
            tail = tail.strip().strip("()")
            if tail.startswith("__"):
                (package / f"{tail}.py").write_text("")
            else:
                (package / tail).mkdir()
                (package / tail / "__init__.py").write_text("")
    for contract in contracts:
        for expression in contract.get("ignore_imports", []):
            importer, imported = (m.strip() for m in expression.split("->"))
            _add_import(tmp_path, importer, imported)
    return config


def _add_import(root: Path, importer: str, imported: str) -> None:
    path = root.joinpath(*importer.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    path.write_text(path.read_text() + f"import {imported}\n")


def test_checks_fail_on_a_broken_layering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "layerprobe"
    config = _probe_package(tmp_path, name)
    monkeypatch.syspath_prepend(str(tmp_path))

    ok, report = lint(config)
    assert ok, f"the target layout itself breaks the contracts:\n{report}"
    assert "BROKEN" not in report and "KEPT" in report
    assert find_cycles(config) == []

    _add_import(tmp_path, f"{name}.models", f"{name}.data")  # a lower layer, but models never import data
    _add_import(tmp_path, f"{name}.train", f"{name}.data")  # allowed ...
    _add_import(tmp_path, f"{name}.data", f"{name}.train")  # ... but this is upwards, and a cycle
    (tmp_path / name / "stray.py").write_text("")  # a top-level module in no layer
    ok, report = lint(config)
    assert not ok
    for broken in (f"{name}.models -> {name}.data", f"{name}.data -> {name}.train", f"- {name}.stray",
                   "Models never import data, decoding, metrics or train BROKEN",
                   f"No cycles are allowed in {name}."):
        assert broken in report, f"{broken!r} not reported:\n{report}"
    assert "Decoding never imports train KEPT" in report

    (cycle,) = find_cycles(config)
    assert cycle.splitlines()[0] == f"cycle among 2 modules: {name}.data, {name}.train"
    assert f"{name}.data -> {name}.train (l.1: import {name}.train)" in cycle


def test_cycle_through_a_package_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cycleprobe" / "sub").mkdir(parents=True)
    (tmp_path / "cycleprobe" / "__init__.py").write_text("")
    (tmp_path / "cycleprobe" / "sub" / "__init__.py").write_text("from cycleprobe.sub.a import f\n")
    (tmp_path / "cycleprobe" / "sub" / "a.py").write_text(textwrap.dedent("""\
        def f():
            from cycleprobe.sub import f  # the parent package, inside a function
            return f
    """))
    (tmp_path / "pyproject.toml").write_text('[tool.importlinter]\nroot_package = "cycleprobe"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    (cycle,) = find_cycles(tmp_path / "pyproject.toml")
    assert cycle.splitlines()[:2] == ["cycle among 2 modules: cycleprobe.sub, cycleprobe.sub.a",
                                      "  cycleprobe.sub -> cycleprobe.sub.a -> cycleprobe.sub"]
