#!/usr/bin/env python3
"""Checks Shipgate's layering; `make lint` runs it.

1. The services under app/src/services/ form a DAG: no service imports, directly or
   through other services, a service that imports it back.
2. No service imports an edge: the UI, the server functions, `auth` or `state`.
3. The domain (app/src/domain/) imports no I/O or web framework: sqlx, axum, tokio,
   leptos_axum.
4. No file under app/src or server/src is longer than 600 lines, test modules and test
   files not counted, unless the README's Layout section names it and says why.

Usage: scripts/check-layers.py [ROOT]   (exit status 1 and one line per finding when broken)
       scripts/check-layers.py --self-test  (shows that each rule catches what it should)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = DOMAIN = ROOT


def set_root(root: Path) -> None:
    global ROOT, SERVICES, DOMAIN
    ROOT = root
    SERVICES = ROOT / "app" / "src" / "services"
    DOMAIN = ROOT / "app" / "src" / "domain"


set_root(ROOT)
EDGES = ("auth", "state", "ui", "server_fns")
DOMAIN_FORBIDDEN = ("sqlx", "axum", "tokio", "leptos_axum")
MAX_LINES = 600


def long_files_explained() -> set:
    """Files the README's Layout section names as longer than the limit, with a reason."""
    readme = (ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else ""
    layout = readme.split("## Layout", 1)[1] if "## Layout" in readme else ""
    layout = layout.split("\n## ", 1)[0]
    return {
        m.group(1)
        for m in re.finditer(r"`((?:app|server)/src/[\w/.-]+\.rs)`[^\n]*longer than %d" % MAX_LINES, layout)
    }


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Line comments, but not `//` inside string literals such as "http://".
    out = []
    for line in text.splitlines():
        in_str = False
        cut = len(line)
        i = 0
        while i < len(line) - 1:
            c = line[i]
            if c == "\\" and in_str:
                i += 2
                continue
            if c == '"':
                in_str = not in_str
            elif not in_str and line[i : i + 2] == "//":
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def without_tests(text: str) -> str:
    """Drops `#[cfg(test)] mod … { … }` blocks: tests may import what they like."""
    out, i = [], 0
    pattern = re.compile(r"#\[cfg\(test\)\]\s*(pub(\(\w+\))?\s+)?mod\s+\w+\s*\{")
    while True:
        m = pattern.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j


def service_modules() -> dict:
    """Service name -> (files, depth of each file below services/)."""
    mods = {}
    for path in sorted(SERVICES.iterdir()):
        if path.name == "mod.rs":
            continue
        if path.is_file() and path.suffix == ".rs":
            mods.setdefault(path.stem, []).append((path, 1))
        elif path.is_dir():
            for f in sorted(path.rglob("*.rs")):
                # services/x/mod.rs reaches services/ with one `super::`, services/x/y.rs
                # and services/x/y/mod.rs with two, and so on.
                parts = f.relative_to(path).parts
                depth = len(parts) + (0 if f.name == "mod.rs" else 1)
                mods.setdefault(path.name, []).append((f, depth))
    return mods


def parse_path(text: str, i: int, prefix: str, out: list) -> int:
    """Reads a path (with `{…}` groups) starting at `i`, appending each full path to
    `out` as `prefix` plus its segments; returns where it ended."""
    segs = []
    while True:
        m = re.match(r"\s*(\w+|\*)\s*", text[i:])
        if m:
            segs.append(m.group(1))
            i += m.end()
            if text.startswith("::", i):
                i += 2
                continue
            out.append("::".join([prefix] + segs))
            return i
        if text.startswith("{", i):
            base = "::".join([prefix] + segs)
            i += 1
            while True:
                i = parse_path(text, i, base, out)
                m = re.match(r"\s*(?:as\s+\w+\s*)?([,}])", text[i:])
                if not m:
                    return i
                i += m.end()
                if m.group(1) == "}" or re.match(r"\s*}", text[i:]):
                    if m.group(1) == ",":
                        i += re.match(r"\s*}", text[i:]).end()
                    return i
        out.append("::".join([prefix] + segs))
        return i


def crate_paths(text: str, depth: int) -> list:
    """Every path a file names from the crate root, whether written `crate::…`, as
    enough `super::` to reach it, or as `services::…` after `use crate::services;`."""
    text = re.sub(r"(?<![\w:])(?:super::){%d}" % (depth + 1), "crate::", text)
    if depth:
        text = re.sub(r"(?<![\w:])(?:super::){%d}" % depth, "crate::services::", text)
    if re.search(r"\buse\s+crate::services\s*;", text):
        text = re.sub(r"(?<![\w:])services::", "crate::services::", text)
    out = []
    for m in re.finditer(r"(?<![\w:])crate::", text):
        parse_path(text, m.end(), "crate", out)
    return out


def references(text: str, depth: int, names: set) -> set:
    """The services a file names."""
    found = set()
    for path in crate_paths(text, depth):
        parts = path.split("::")
        if len(parts) > 2 and parts[1] == "services" and parts[2] in names:
            found.add(parts[2])
    return found


def edge_references(text: str, depth: int) -> set:
    """The edges (UI, server functions, `auth`, `state`) a file names."""
    return {
        path.split("::")[1]
        for path in crate_paths(text, depth)
        if len(path.split("::")) > 1 and path.split("::")[1] in EDGES
    }


def find_cycles(graph: dict):
    """Strongly connected components with more than one service (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def cycle_path(graph: dict, comp: list) -> str:
    """One concrete cycle inside a component, for the message."""
    start = comp[0]
    members = set(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [start]
                    u = v
                    while u != start:
                        path.insert(1, u)
                        u = prev[u]
                    return " -> ".join(path + [start])
                if w in members and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return " <-> ".join(comp)


def check() -> list:
    problems = []
    mods = service_modules()
    names = set(mods)
    graph = {name: set() for name in mods}
    for name, files in mods.items():
        for path, depth in files:
            text = without_tests(strip_comments(path.read_text()))
            graph[name] |= references(text, depth, names) - {name}
            for edge in sorted(edge_references(text, depth)):
                problems.append(f"{path.relative_to(ROOT)}: a service imports the edge `{edge}`")
    # services/mod.rs is no service of its own, but it must not import an edge either.
    root_mod = SERVICES / "mod.rs"
    if root_mod.exists():
        text = without_tests(strip_comments(root_mod.read_text()))
        for edge in sorted(edge_references(text, 0)):
            problems.append(f"{root_mod.relative_to(ROOT)}: a service imports the edge `{edge}`")
    for comp in find_cycles(graph):
        problems.append("services import each other: " + cycle_path(graph, comp))
    for path in sorted(DOMAIN.rglob("*.rs")):
        text = strip_comments(path.read_text())
        for crate in DOMAIN_FORBIDDEN:
            if re.search(r"(?<![\w:])" + crate + r"::", text):
                problems.append(f"{path.relative_to(ROOT)}: the domain imports `{crate}`")
    explained = long_files_explained()
    for path in sorted(list((ROOT / "app" / "src").rglob("*.rs")) + list((ROOT / "server" / "src").rglob("*.rs"))):
        rel = str(path.relative_to(ROOT))
        if path.name == "tests.rs" or "/tests/" in rel:
            continue
        lines = len(without_tests(path.read_text()).splitlines())
        if lines > MAX_LINES and rel not in explained:
            problems.append(f"{rel}: {lines} lines (limit {MAX_LINES}, tests not counted)")
    edges = sum(len(v) for v in graph.values())
    summary = (
        f"layers ok: {len(graph)} services, {edges} imports between them, no cycle; "
        f"domain free of I/O crates; no file over {MAX_LINES} lines"
    )
    return problems, summary


def self_test() -> int:
    """Builds small trees that break each rule once and checks that each is reported."""
    import tempfile

    def tree(files: dict) -> list:
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            base = {
                "app/src/services/mod.rs": "pub mod a;\n",
                "app/src/domain/mod.rs": "pub mod rules;\n",
                "app/src/domain/rules.rs": "pub fn ok() {}\n",
                "README.md": "# x\n",
            }
            for name, text in {**base, **files}.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text)
            set_root(root)
            return check()[0]

    cases = [
        ("a clean tree", {"app/src/services/a.rs": "use super::b::x;\n", "app/src/services/b.rs": "pub fn x() {}\n"}, None),
        ("a direct cycle", {"app/src/services/a.rs": "use super::b::x;\n", "app/src/services/b.rs": "use super::{a, ServiceError};\n"}, "a -> b -> a"),
        ("a cycle through a third service", {
            "app/src/services/a.rs": "use super::b::x;\n",
            "app/src/services/b.rs": "fn f() { crate::services::c::y(); }\n",
            "app/src/services/c/mod.rs": "mod inner;\n",
            "app/src/services/c/inner.rs": "use super::super::a::z;\n",
        }, "services import each other"),
        ("a test module may import anything", {
            "app/src/services/a.rs": "use super::b::x;\n",
            "app/src/services/b.rs": "#[cfg(test)]\nmod tests {\n    use super::super::a;\n}\n",
        }, None),
        ("a service importing an edge", {"app/src/services/a.rs": "use crate::auth::CurrentUser;\n"}, "imports the edge `auth`"),
        ("an edge reached by super::", {"app/src/services/a.rs": "use super::super::state::AppState;\n"}, "imports the edge `state`"),
        ("an edge in a crate group", {"app/src/services/a.rs": "use crate::{domain::x, ui::Page};\n"}, "imports the edge `ui`"),
        ("an edge in services/mod.rs", {"app/src/services/mod.rs": "pub mod a;\nuse crate::server_fns::Refusal;\n"}, "imports the edge `server_fns`"),
        ("a cycle through a crate group", {
            "app/src/services/a.rs": "use crate::{domain::d, services::{b::x, ServiceError}};\n",
            "app/src/services/b.rs": "use super::a;\n",
        }, "a -> b -> a"),
        ("a cycle through `use crate::services;`", {
            "app/src/services/a.rs": "use crate::services;\nfn f() { services::b::x(); }\n",
            "app/src/services/b.rs": "fn g() { super::a::y(); }\n",
        }, "a -> b -> a"),
        ("the domain importing sqlx", {"app/src/domain/rules.rs": "use sqlx::PgPool;\n"}, "the domain imports `sqlx`"),
        ("a long file", {"server/src/big.rs": "fn f() {}\n" * 601}, "server/src/big.rs: 601 lines"),
        ("a long file the README explains", {
            "server/src/big.rs": "fn f() {}\n" * 601,
            "README.md": "## Layout\n`server/src/big.rs` is longer than 600 lines because it must be.\n",
        }, None),
    ]
    failed = 0
    for name, files, expected in cases:
        problems = tree(files)
        ok = (not problems) if expected is None else any(expected in p for p in problems)
        if not ok:
            print(f"self-test FAILED, {name}: {problems or 'no findings'}")
        failed += not ok
    set_root(Path(__file__).resolve().parent.parent)
    print(f"check-layers self-test: {len(cases) - failed} of {len(cases)} cases caught as they should")
    return 1 if failed else 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) > 1:
        set_root(Path(sys.argv[1]))
    problems, summary = check()
    for p in problems:
        print(p)
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
