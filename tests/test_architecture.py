"""The shape of the house, asserted: the module import graph has no cycle, the pure layers import
no capability, and the front doors hold no SQL.

The graph is the one Python runs: every ``import`` in the package, at module level or inside a
function (``grimp``), except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

from functools import cache

import grimp
import pytest

CAPABILITIES = ("registry", "rights", "evidence", "outputs", "fund", "preferences",
                "identity")
#: What a capability builds on, and what builds on capabilities: neither may import one.
PURE = ("reelrights.core", "reelrights.log", "reelrights.store", "reelrights.media")
#: The application layer above the log: the log may not import it.
ABOVE_LOG = ("reelrights.ledger", "reelrights.write", "reelrights.catalogue",
             "reelrights.admission", "reelrights.replica")


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("reelrights", cache_dir=None, exclude_type_checking_imports=True)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.find_modules_directly_imported_by(w)))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    lines = graph.get_import_details(importer=importer, imported=imported)
    return "; ".join(f"{importer}:{d['line_number']} {d['line_contents']}" for d in lines)


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    detail = []
    for comp in cycles:
        members = set(comp)
        edges = [_where(graph, a, b) for a in comp for b in
                 sorted(graph.find_modules_directly_imported_by(a) & members)]
        detail.append("\n  ".join(edges))
    assert not cycles, "modules that import each other in a circle:\n  " + "\n  ".join(detail)


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a graph with a circle is reported."""
    graph = grimp.ImportGraph()
    for m in ("p.a", "p.b", "p.c", "p.d"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p.d", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_import_no_capability(layer: str) -> None:
    graph = _graph()
    bad = []
    for m in sorted(graph.find_descendants(layer) | {layer}):
        for imported in sorted(graph.find_modules_directly_imported_by(m)):
            parts = imported.split(".")
            if len(parts) > 1 and parts[1] in CAPABILITIES:
                bad.append(_where(graph, m, imported))
    assert not bad, f"{layer} imports a capability:\n  " + "\n  ".join(bad)


def test_the_log_imports_neither_the_ledger_nor_the_catalogue() -> None:
    graph = _graph()
    bad = []
    for m in sorted(graph.find_descendants("reelrights.log")):
        for imported in sorted(graph.find_modules_directly_imported_by(m)):
            if imported.startswith(ABOVE_LOG):
                bad.append(_where(graph, m, imported))
    assert not bad, "the log imports the layer above it:\n  " + "\n  ".join(bad)


def test_core_does_no_io() -> None:
    """core/ is pure logic: no database, no files through the home, no network, no processes."""
    graph = _graph()
    forbidden = ("sqlalchemy", "reelrights.store", "reelrights.home", "reelrights.keys",
                 "httpx", "subprocess", "multiprocessing", "reelrights.log")
    bad = []
    for m in sorted(graph.find_descendants("reelrights.core")):
        for imported in sorted(graph.find_modules_directly_imported_by(m)):
            if imported.startswith(forbidden):
                bad.append(_where(graph, m, imported))
    assert not bad, "core/ reaches for I/O:\n  " + "\n  ".join(bad)


#: What the pure verifiers may import of reelrights: the core and the one exception tree.
VERIFY_MAY_IMPORT = ("reelrights.core", "reelrights.errors", "reelrights.verify")


def test_the_verifiers_import_only_the_core() -> None:
    """reelrights.verify checks artifacts from public material only: it reaches no home, key
    file, database, network or capability, so nothing but core/ (and errors) is importable.
    (tests/test_verify.py checks, in a fresh interpreter, that importing it loads no database,
    HTTP or home module.)"""
    graph = _graph()
    bad = []
    for m in sorted(graph.find_descendants("reelrights.verify") | {"reelrights.verify"}):
        for imported in sorted(graph.find_modules_directly_imported_by(m)):
            if imported.startswith("reelrights") and not (
                    imported == "reelrights" or imported.startswith(VERIFY_MAY_IMPORT)):
                bad.append(_where(graph, m, imported))
    assert not bad, "reelrights.verify imports more than the core:\n  " + "\n  ".join(bad)


def test_front_doors_hold_no_sql() -> None:
    """The CLI and the HTTP service parse, call one library function and render: they never
    import the tables or SQLAlchemy."""
    graph = _graph()
    bad = []
    doors = [*graph.find_descendants("reelrights.cli"), *graph.find_descendants("reelrights.api"),
             *graph.find_descendants("reelrights.web")]
    for m in sorted(doors):
        for imported in sorted(graph.find_modules_directly_imported_by(m)):
            if imported.startswith(("reelrights.store.tables", "reelrights.store.evidence_tables",
                                    "reelrights.store.fund_tables")) or imported == "sqlalchemy":
                bad.append(_where(graph, m, imported))
    assert not bad, "a front door reaches into the tables:\n  " + "\n  ".join(bad)
