"""The boundaries the architecture rests on, checked mechanically.

- the engine imports nothing but the standard library (the runner runs on any interpreter);
- the monitor imports without Textual (the headless CLI must not need it);
- ui/, cli.py and headless.py reach the engine only through the monitor (lazy imports and
  ``TYPE_CHECKING`` imports included);
- no import cycle inside conc_tui;
- the module that defines the App class stays small;
- a mode is a registry entry plus its code: everything that lists modes reads the registry.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import conc_tui
from conc_tui.engine import registry

PKG = Path(conc_tui.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """Every conc_tui module that module ``name`` imports, anywhere in it (function bodies and
    ``if TYPE_CHECKING:`` blocks too); ``from pkg import mod`` counts as importing pkg.mod."""
    path = MODULES[name]
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("conc_tui"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("conc_tui"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES}


def test_no_import_cycle_inside_the_package():
    graph = {name: _imports(name) for name in MODULES}
    # A package's __init__ importing its own modules is how packages work; a module
    # importing its own package back is the cycle we look for.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):  # a package importing its children
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_cycle_check_would_see_a_cycle(tmp_path):
    """The check above is not vacuous: the graph really has edges it follows."""
    assert "conc_tui.monitor.session" in _imports("conc_tui.monitor.controller")
    assert "conc_tui.engine.protocol" in _imports("conc_tui.monitor.runstate")
    assert "conc_tui.ui.app" in _imports("conc_tui.ui")  # a lazy import, counted


def test_ui_cli_and_headless_reach_the_engine_only_through_the_monitor():
    faces = [m for m in MODULES if m.startswith("conc_tui.ui")] + ["conc_tui.cli",
                                                                  "conc_tui.headless"]
    offenders = {m: sorted(i for i in _imports(m) if i.startswith("conc_tui.engine"))
                 for m in faces}
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_engine_imports_only_the_standard_library():
    third_party = {"textual", "psutil", "plotext", "textual_plotext", "rich"}
    for name, path in MODULES.items():
        if not name.startswith("conc_tui.engine"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {n.split(".")[0] for n in names} & third_party, (name, names)
        assert not any(i.startswith(("conc_tui.monitor", "conc_tui.ui")) for i in _imports(name))


def test_the_monitor_and_the_headless_cli_import_without_textual():
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('textual', 'textual_plotext'):\n"
        "            raise ImportError('textual is not allowed here: ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import conc_tui.monitor, conc_tui.monitor.scripted, conc_tui.headless, conc_tui.cli\n"
        "try:\n"
        "    import textual\n"
        "except ImportError:\n"
        "    print('refused')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"  # the guard really works


def test_the_app_module_stays_small():
    lines = len((PKG / "ui" / "app.py").read_text().splitlines())
    assert lines < 400, f"ui/app.py has {lines} lines"


def test_every_listing_of_modes_reads_the_registry():
    """No module but the registry spells out the list of modes. (The names that are also
    plain words, "threads" and "processes", and "sequential", which every speedup is measured
    against, are left out: they stand in field names and texts; so is a name used as a
    dictionary key, such as the "subinterpreters" column of the interpreters' rows.)"""
    import re

    names = {m.name for m in registry.MODE_LIST} - {"sequential", "threads", "processes"}
    for name, path in MODULES.items():
        if name == "conc_tui.engine.registry":
            continue
        text = path.read_text()
        spelled = [m for m in names if re.search(r'(?<!\[)"%s"(?!\]|:)' % re.escape(m), text)]
        assert spelled == [], f"{name} names modes itself: {spelled}"


def test_a_new_mode_is_a_registry_entry(monkeypatch):
    """Adding an entry makes it a valid mode for the config check, the worker count, the
    verdict and the compare order, with no other edit."""
    from conc_tui.monitor import RunConfig, verdict_for
    from conc_tui.monitor.config import parse_mode

    extra = registry.Mode("greenlets", "made up for this test", unit="coroutine",
                          pooled=False, one_at_a_time=True, entry="modes:run_asyncio")
    monkeypatch.setattr(registry, "MODE_LIST", registry.MODE_LIST + (extra,))
    monkeypatch.setattr(registry, "MODES", registry.MODES + ("greenlets",))
    monkeypatch.setitem(registry._MODES, "greenlets", extra)
    assert parse_mode("greenlets") == "greenlets"
    assert RunConfig(mode="greenlets", tasks=5).effective_workers(4) == 1
    assert verdict_for(1.0, 2, "cpu", "greenlets").kind == "one-at-a-time"
    assert registry.compare_order(registry.MODES)[-1] == "greenlets"


def test_the_readme_documents_every_field_of_the_protocol():
    import dataclasses

    from conc_tui.engine import protocol

    readme = (PKG.parent / "README.md").read_text()
    table = readme.split("<!-- protocol -->")[1].split("<!-- /protocol -->")[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in table.splitlines()
            if line.startswith("| `")}
    assert set(rows) == set(protocol.KINDS)
    for kind, cls in protocol.KINDS.items():
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in rows[kind], (kind, f.name)
