"""Interpreters by name: PATH, pyenv and uv trees built in a temporary directory.

Every fake interpreter is a small shell script that answers the facts probe the way
``engine/facts.py`` would; the last test asks the real pyenv versions, when present.
"""
from __future__ import annotations

import glob
import json
import os
import time
from pathlib import Path

import psutil
import pytest

from conc_tui.monitor.config import ConfigError
from conc_tui.monitor.pythons import (
    Interpreter, candidates, find_pythons, parse_version_spec, pythons_rows, resolve_python)

PYENV_VERSIONS = Path(os.path.expanduser(os.environ.get("PYENV_ROOT") or "~/.pyenv")) / "versions"


def fake_python(path: Path, version: str, *, free_threaded: bool = False,
                gil: bool | None = None, before: str = "", executable: str | None = None,
                implementation: str = "CPython") -> Path:
    """A shell script that prints one facts line, as ``python facts.py`` would."""
    major, minor = (int(p) for p in version.split(".")[:2])
    info = {
        "executable": executable or "__SELF__", "version": version,
        "implementation": implementation,
        "gil_enabled": (not free_threaded) if gil is None else gil,
        "free_threaded_build": free_threaded, "version_info": [major, minor], "cpu_count": 2,
    }
    line = json.dumps(info).replace("__SELF__", "'\"$0\"'")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{before}\necho '{line}'\n")
    path.chmod(0o755)
    return path


def link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


@pytest.fixture
def machine(tmp_path):
    """PATH dirs, a pyenv root and a uv dir with interpreters in all three, some twice."""
    bin1, bin2 = tmp_path / "bin1", tmp_path / "bin2"
    pyenv, uv = tmp_path / "pyenv", tmp_path / "uv"
    v = pyenv / "versions"
    p312 = fake_python(v / "3.12.4" / "bin" / "python3.12", "3.12.4")
    link(v / "3.12.4" / "bin" / "python3", Path("python3.12"))  # as pyenv installs it
    (v / "3.12.4" / "bin" / "python3.12-gdb.py").write_text("")  # not an interpreter
    fake_python(v / "3.13.1" / "bin" / "python3", "3.13.1")
    fake_python(v / "3.13.3t" / "bin" / "python3.13t", "3.13.3", free_threaded=True)
    fake_python(v / "3.8.10" / "bin" / "python3", "3.8.10")
    uv313 = fake_python(uv / "cpython-3.13.2-linux-x86_64-gnu" / "bin" / "python3.13", "3.13.2")
    link(uv / "cpython-3.13.2-linux-x86_64-gnu" / "bin" / "python3", uv313)
    fake_python(bin1 / "python3", "3.11.2")
    link(bin1 / "python3.12", p312)  # a PATH entry into pyenv: the same interpreter
    fake_python(bin1 / "python3-config", "3.11.2")  # the name does not match
    noexec = fake_python(bin2 / "python3.10", "3.10.1")
    noexec.chmod(0o644)  # not executable: not a candidate
    fake_python(bin2 / "python", "3.11.2", executable=str(bin1 / "python3"))  # a wrapper
    return {
        "path_env": os.pathsep.join([str(bin1), str(tmp_path / "missing"), str(bin2)]),
        "pyenv_root": str(pyenv), "uv_dir": str(uv), "root": tmp_path,
    }


def where(machine):
    return {k: machine[k] for k in ("path_env", "pyenv_root", "uv_dir")}


def test_found_deduplicated_sorted_with_sources(machine):
    found = find_pythons(**where(machine), timeout=10)
    root = machine["root"]
    summary = [(i.name, i.source, os.path.relpath(i.path, root)) for i in found]
    assert summary == [
        ("3.8.10", "pyenv", "pyenv/versions/3.8.10/bin/python3"),
        ("3.11.2", "PATH", "bin1/python3"),  # bin2/python reports the same executable
        ("3.12.4", "PATH", "bin1/python3.12"),  # pyenv's copy is the same file
        ("3.13.1", "pyenv", "pyenv/versions/3.13.1/bin/python3"),
        ("3.13.2", "uv", "uv/cpython-3.13.2-linux-x86_64-gnu/bin/python3.13"),
        ("3.13.3t", "pyenv", "pyenv/versions/3.13.3t/bin/python3.13t"),
    ]
    by_name = {i.name: i for i in found}
    old = by_name["3.8.10"]
    assert not old.usable and "3.9" in old.reason and "too old" in old.reason
    assert all(i.usable and i.reason is None for i in found if i is not old)
    ft = by_name["3.13.3t"]
    assert ft.free_threaded_build and not ft.gil_enabled and ft.version_info == (3, 13, 3)
    assert by_name["3.12.4"].version_info == (3, 12, 4)
    assert not by_name["3.12.4"].free_threaded_build


def test_interpreter_is_frozen(machine):
    found = find_pythons(**where(machine), timeout=10)
    with pytest.raises(Exception):
        found[0].version = "9.9"  # type: ignore[misc]


def test_pyenv_shims_on_path_are_not_asked(tmp_path):
    pyenv = tmp_path / "pyenv"
    ran = tmp_path / "shim-ran"
    fake_python(pyenv / "shims" / "python3", "3.11.2", before=f"touch {ran}")
    fake_python(pyenv / "versions" / "3.11.2" / "bin" / "python3", "3.11.2")
    found = find_pythons(path_env=str(pyenv / "shims"), pyenv_root=str(pyenv),
                         uv_dir=str(tmp_path / "no-uv"), timeout=10)
    assert [(i.name, i.source) for i in found] == [("3.11.2", "pyenv")]
    assert not ran.exists()


def test_nothing_found(tmp_path):
    assert find_pythons(path_env=str(tmp_path), pyenv_root=str(tmp_path / "p"),
                        uv_dir=str(tmp_path / "u")) == []
    with pytest.raises(ConfigError) as err:
        resolve_python("3.13", path_env=str(tmp_path), pyenv_root=str(tmp_path / "p"),
                       uv_dir=str(tmp_path / "u"))
    assert "found none" in str(err.value)


def test_environment_variables_name_the_roots(machine, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", machine["pyenv_root"])
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", machine["uv_dir"])
    found = candidates(path_env="")
    sources = {s for _, s in found}
    assert sources == {"pyenv", "uv"}
    assert any(p.endswith("3.13.3t/bin/python3.13t") for p, _ in found)


def test_resolve_versions(machine):
    kw = where(machine)
    root = machine["root"]
    found = find_pythons(**kw, timeout=10)

    def rel(spec):
        return os.path.relpath(resolve_python(spec, **kw, interpreters=found), root)

    # 3.13: the newest GIL build (3.13.2 from uv), not the newer free-threaded 3.13.3t
    assert rel("3.13") == "uv/cpython-3.13.2-linux-x86_64-gnu/bin/python3.13"
    assert rel("python3.13") == "uv/cpython-3.13.2-linux-x86_64-gnu/bin/python3.13"
    assert rel("3.13t") == "pyenv/versions/3.13.3t/bin/python3.13t"
    assert rel("3.13.1") == "pyenv/versions/3.13.1/bin/python3"
    assert rel("3.12") == "bin1/python3.12"
    assert rel("3") == "uv/cpython-3.13.2-linux-x86_64-gnu/bin/python3.13"
    # without a list, resolve_python searches itself
    assert os.path.relpath(resolve_python("3.12.4", **kw), root) == "bin1/python3.12"


def test_resolve_path_and_command(machine):
    kw = where(machine)
    root = machine["root"]
    exe = root / "pyenv" / "versions" / "3.13.1" / "bin" / "python3"
    assert resolve_python(str(exe), **kw) == str(exe)
    assert resolve_python("python3", **kw) == str(root / "bin1" / "python3")
    with pytest.raises(ConfigError) as err:
        resolve_python(str(root / "nowhere" / "python3"), **kw)
    assert err.value.field == "python" and "not found" in str(err.value)
    with pytest.raises(ConfigError) as err:
        resolve_python("pypy3", **kw)
    assert "pypy3" in str(err.value) and "\n" not in str(err.value)


def test_missing_version_says_what_exists(machine):
    kw = where(machine)
    found = find_pythons(**kw, timeout=10)
    for spec, wanted in (("3.14", "no Python 3.14 found"),
                         ("3.12t", "no free-threaded Python 3.12t found"),
                         ("3.13.9", "no Python 3.13.9 found")):
        with pytest.raises(ConfigError) as err:
            resolve_python(spec, **kw, interpreters=found)
        text = str(err.value)
        assert err.value.field == "python"
        assert "\n" not in text
        assert text.startswith(wanted), text
        assert "PATH, in pyenv or uv" in text
        assert "found: 3.8.10, 3.11.2, 3.12.4, 3.13.1, 3.13.2, 3.13.3t" in text
        assert "conc-tui pythons" in text


def test_too_old_is_refused_with_its_version(machine):
    kw = where(machine)
    with pytest.raises(ConfigError) as err:
        resolve_python("3.8", **kw)
    text = str(err.value)
    assert "3.8.10" in text and "too old" in text and "3.9" in text and "\n" not in text
    old = machine["root"] / "pyenv" / "versions" / "3.8.10" / "bin" / "python3"
    with pytest.raises(ConfigError) as err:
        resolve_python(str(old), **kw)
    assert "3.8.10" in str(err.value) and "3.9" in str(err.value)


def test_parse_version_spec():
    assert parse_version_spec("3.13") == ((3, 13), False, False)
    assert parse_version_spec("3.13t") == ((3, 13), True, False)
    assert parse_version_spec("3.12.1") == ((3, 12, 1), False, False)
    assert parse_version_spec("python3.12") == ((3, 12), False, True)
    assert parse_version_spec("python3.13t") == ((3, 13), True, True)
    assert parse_version_spec("python3") is None
    assert parse_version_spec("pypy3.10") is None
    assert parse_version_spec("3.x") is None


def _processes_mentioning(text: str) -> list[psutil.Process]:
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(text in part for part in proc.info["cmdline"] or ()):
                out.append(proc)
        except (psutil.Error, TypeError):
            pass
    return out


def test_hanging_interpreter_times_out_and_is_killed(tmp_path):
    marker = "317.25"  # an unusual sleep length, to find the process again
    fake_python(tmp_path / "pyenv" / "versions" / "3.12.9" / "bin" / "python3", "3.12.9",
                before=f"sleep {marker}")
    fake_python(tmp_path / "bin" / "python3", "3.11.2")
    t0 = time.monotonic()
    found = find_pythons(path_env=str(tmp_path / "bin"), pyenv_root=str(tmp_path / "pyenv"),
                         uv_dir=str(tmp_path / "uv"), timeout=1.0)
    elapsed = time.monotonic() - t0
    assert elapsed < 30  # cut off long before the 317 s sleep ends
    assert [i.name for i in found] == ["3.11.2", ""]  # the one that did not answer last
    hung = found[1]
    assert hung.source == "pyenv" and not hung.usable and hung.version_info == ()
    assert "did not answer within 1 s" in hung.reason and "\n" not in hung.reason
    deadline = time.monotonic() + 5
    while _processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_mentioning(marker) == []
    assert _processes_mentioning(str(tmp_path)) == []


def test_probes_run_at_the_same_time(tmp_path):
    """Each fake waits until all four have started: asked one at a time, none would answer."""
    log = tmp_path / "started"
    wait_all = (f'echo x >> {log}; i=0; '
                f'while [ "$(wc -l < {log})" -lt 4 ] && [ $i -lt 200 ]; '
                f'do sleep 0.05; i=$((i+1)); done; '
                f'[ "$(wc -l < {log})" -ge 4 ] || exit 3')
    for minor in (9, 10, 11, 12):
        fake_python(tmp_path / "pyenv" / "versions" / f"3.{minor}.0" / "bin" / "python3",
                    f"3.{minor}.0", before=wait_all)
    found = find_pythons(path_env="", pyenv_root=str(tmp_path / "pyenv"),
                         uv_dir=str(tmp_path / "uv"), timeout=30)
    assert [(i.name, i.usable) for i in found] == [
        ("3.9.0", True), ("3.10.0", True), ("3.11.0", True), ("3.12.0", True)]


def test_broken_interpreter_is_listed_with_the_reason(tmp_path):
    bad = tmp_path / "bin" / "python3"
    bad.parent.mkdir()
    bad.write_text("#!/bin/sh\necho not python\nexit 1\n")
    bad.chmod(0o755)
    found = find_pythons(path_env=str(bad.parent), pyenv_root=str(tmp_path / "p"),
                         uv_dir=str(tmp_path / "u"), timeout=10)
    assert len(found) == 1 and not found[0].usable
    assert "did not run as a Python interpreter" in found[0].reason
    row = pythons_rows(found)[0]
    assert row["version"] == "?" and row["status"] == found[0].reason and row["build"] == "?"


def test_rows_for_table_and_json(machine):
    found = find_pythons(**where(machine), timeout=10)
    rows = pythons_rows(found)
    assert len(rows) == len(found)
    json.dumps(rows)  # JSON-ready
    by_name = {r["name"]: r for r in rows}
    assert by_name["3.13.3t"]["build"] == "free-threaded"
    assert by_name["3.13.3t"]["gil_enabled"] is False
    assert by_name["3.13.2"]["build"] == "GIL" and by_name["3.13.2"]["source"] == "uv"
    assert by_name["3.13.2"]["subinterpreters"] is True
    assert by_name["3.11.2"]["subinterpreters"] is False
    assert by_name["3.8.10"]["usable"] is False and "too old" in by_name["3.8.10"]["status"]
    assert by_name["3.12.4"]["status"] == "ok"
    for row in rows:
        assert {"version", "build", "source", "path", "usable", "status"} <= set(row)


def interp(version: str, source: str = "PATH", free_threaded: bool = False) -> Interpreter:
    vinfo = tuple(int(x) for x in version.split("."))
    return Interpreter(path=f"/{source}/{version}{'t' if free_threaded else ''}",
                       version=version, version_info=vinfo, implementation="CPython",
                       gil_enabled=not free_threaded, free_threaded_build=free_threaded,
                       source=source, usable=vinfo[:2] >= (3, 9))


def test_best_match_rules():
    # only a free-threaded 3.13: "3.13" still takes it (a GIL build is preferred, not needed)
    only_ft = [interp("3.12.1"), interp("3.13.0", "uv", free_threaded=True)]
    assert resolve_python("3.13", interpreters=only_ft) == "/uv/3.13.0t"
    # the same version in two places: the first source wins; a newer patch beats both
    same = [interp("3.12.1", "uv"), interp("3.12.1", "pyenv"), interp("3.12.1", "PATH")]
    assert resolve_python("3.12", interpreters=same) == "/PATH/3.12.1"
    assert resolve_python("3.12", interpreters=same + [interp("3.12.3", "uv")]) == "/uv/3.12.3"
    # a usable 3.9 next to a too-old 3.8 with the same major: "3" takes the usable one
    assert resolve_python("3", interpreters=[interp("3.8.1"), interp("3.9.2")]) == "/PATH/3.9.2"


def test_free_threaded_with_gil_back_on_is_shown():
    interp = Interpreter(path="/x/python3.13t", version="3.13.0", version_info=(3, 13, 0),
                         implementation="CPython", gil_enabled=True, free_threaded_build=True,
                         source="PATH", usable=True)
    assert interp.name == "3.13.0t"
    assert pythons_rows([interp])[0]["build"] == "free-threaded, GIL on"


def _pyenv_has(minor: str) -> bool:
    return bool(glob.glob(str(PYENV_VERSIONS / f"3.{minor}.*" / "bin" / "python3")))


@pytest.mark.skipif(not (_pyenv_has("12") and _pyenv_has("13")),
                    reason=f"pyenv 3.12 and 3.13 not both installed under {PYENV_VERSIONS}")
def test_real_pyenv_has_312_and_313():
    root = str(PYENV_VERSIONS.parent)
    found = find_pythons(path_env="", pyenv_root=root, uv_dir="/nonexistent")
    names = {i.version_info[:2]: i for i in found if i.source == "pyenv" and i.usable}
    assert (3, 12) in names and (3, 13) in names
    assert all(i.implementation == "CPython" for i in names.values())
    for spec in ("3.12", "3.13"):
        exe = resolve_python(spec, path_env="", pyenv_root=root, uv_dir="/nonexistent",
                             interpreters=found)
        assert exe.startswith(str(PYENV_VERSIONS))
        assert names[tuple(int(x) for x in spec.split("."))].path == exe
