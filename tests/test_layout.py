"""The code's shape: no import cycle between the project's modules, each room imports only the rooms before
it (files -> articles -> chunks -> index -> passages -> answer -> delivery), and the commands that answer or
ingest never load the chat's or the local model's heavy packages."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGES = ("ingest", "index", "prompts", "trips", "assistant", "evals", "bench", "web")
MODULES = ("settings", "ui", "cli")
# What each room may import besides itself (function-level imports count too).
ALLOWED = {
    "settings": set(),
    "ingest": set(),
    "index": {"ingest", "settings"},
    "prompts": set(),
    "trips": {"ingest", "index", "prompts", "settings"},
    "assistant": {"ingest", "index", "prompts", "settings", "trips"},
    "ui": {"assistant", "index", "ingest", "trips"},
    "web": {"assistant", "index", "settings", "trips", "ui"},
    "evals": {"assistant", "index", "ingest", "settings", "trips"},
    "bench": {"assistant", "evals", "index", "ingest", "settings", "trips"},
    "cli": {"assistant", "bench", "evals", "index", "ingest", "settings", "trips", "web"},
}


def _project_modules() -> dict[str, ast.Module]:
    found = {}
    for name in MODULES:
        found[name] = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[dotted] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(module: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The project modules `module` imports anywhere in its file."""
    out = set()
    package = module if module in PACKAGES else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .y import z
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _project_modules()
    known = set(modules)
    return {name: _imports(name, tree, known) for name, tree in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_the_projects_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_room_imports_only_the_rooms_before_it():
    wrong = []
    for module, imported in _graph().items():
        room = module.split(".")[0]
        for other in imported:
            other_room = other.split(".")[0]
            if other_room != room and other_room not in ALLOWED[room]:
                wrong.append(f"{module} imports {other}")
    assert wrong == []


def test_ask_and_ingest_load_neither_gradio_nor_llama_cpp(sample_ws, tmp_path):
    (tmp_path / "eins.txt").write_text("Eins\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    script = f"""
import sys, cli
assert cli.main(["ingest", {str(tmp_path)!r}, "--data-dir", {str(tmp_path / 'data')!r}]) == 0
assert cli.main(["ask", "Wer leitete die Delegation nach Japan?", "--data-dir", {str(sample_ws.settings.data_dir)!r}]) == 0
print(sorted(m for m in sys.modules if m.split(".")[0] in ("gradio", "llama_cpp", "uvicorn", "fastapi", "matplotlib")))
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_a_question_on_the_in_process_embedder_loads_no_llama_index(sample_ws):
    # its vector comes from the annotator's pass; importing llama-index took 0.8 of a cold `ask`'s 3 seconds
    script = f"""
import sys, cli
assert cli.main(["ask", "Wer leitete die Delegation nach Japan?", "--data-dir", {str(sample_ws.settings.data_dir)!r}]) == 0
print(sorted({{m.split(".")[0] for m in sys.modules if m.startswith("llama_index")}}))
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
