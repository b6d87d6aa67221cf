#!/usr/bin/env python3
"""Checks that the modules of each crate import only from their own level or the levels below.

Every crate directory with a `levels.toml` is checked (or the directories given as arguments).
The file lists the crate's levels from the bottom up; each level names modules by path from the
crate root (`store`, `signaling::machine`); a module belongs to the level of its longest listed
prefix. A module that no level names is an error, so a new module must be placed.

    # core/levels.toml
    src = "src"
    [[level]]
    name = "model"
    modules = ["types", "error"]
    [[level]]
    name = "store"
    modules = ["store"]

Imports are read from `crate::` and `super::` paths outside comments (doc comments included in
that), including `#[cfg(test)]` code: a unit test that needs a higher level belongs up there.
Two modules of one level may use each other only if they form no circle. A module and its own
ancestors or descendants are one unit (a child using its parent's items is no violation).

    scripts/check-levels.py [CRATE_DIR...]   exit 1 on any violation or circle
    scripts/check-levels.py --self-test      checks that a planted violation is caught
"""
import os
import re
import sys
import tempfile
import tomllib


def modules(src):
    """Module path -> file, for every .rs file under src (crate roots and bins left out)."""
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]) or rel[0] == "bin":
                continue
            if rel[-1] == "mod":
                rel = rel[:-1]
            mods["::".join(rel)] = os.path.join(root, f)
    return mods


def expand(tree):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e']"""
    tree = tree.strip()
    i = tree.find("{")
    if i < 0:
        return [tree.split(" as ")[0].strip()]
    head, body = tree[:i], tree[i + 1: tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p.strip():
            out += [head + q for q in expand(p)]
    return out


def refs(text, me):
    """The module paths (as segment lists) that the file of module `me` refers to."""
    text = re.sub(r"//[^\n]*", "", text)
    paths = []
    for m in re.finditer(r"\buse\s+((?:crate|super)::[^;]*);", text, re.S):
        paths += expand(" ".join(m.group(1).split()))
    paths += re.findall(r"\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+", text)
    out = []
    for p in paths:
        segs = p.replace(" ", "").split("::")
        if segs[0] == "super":
            base = me.split("::")[:-1] if me else []
            while segs and segs[0] == "super":
                segs = segs[1:]
                if base and segs and segs[0] == "super":
                    base = base[:-1]
            segs = base + segs
        else:
            segs = segs[1:]
        out.append(segs)
    return out


def resolve(segs, mods):
    for n in range(len(segs), 0, -1):
        cand = "::".join(segs[:n])
        if cand in mods:
            return cand
    return None


def related(a, b):
    return a == b or a.startswith(b + "::") or b.startswith(a + "::")


def level_of(module, table):
    """(level index, level name) of the longest listed prefix of `module`, or None."""
    best = None
    for idx, (name, prefixes) in enumerate(table):
        for p in prefixes:
            if module == p or module.startswith(p + "::"):
                if best is None or len(p) > best[2]:
                    best = (idx, name, len(p))
    return best and best[:2]


def circles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def check(crate_dir):
    """Problems found in one crate (a list of lines)."""
    with open(os.path.join(crate_dir, "levels.toml"), "rb") as f:
        conf = tomllib.load(f)
    src = os.path.join(crate_dir, conf.get("src", "src"))
    table = [(lvl["name"], lvl["modules"]) for lvl in conf["level"]]
    mods = modules(src)
    problems = []
    graph = {m: set() for m in mods}
    for m in sorted(mods):
        if level_of(m, table) is None:
            problems.append(f"{crate_dir}: module {m} is on no level (add it to levels.toml)")
    for m, path in sorted(mods.items()):
        mine = level_of(m, table)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for segs in refs(text, m):
            t = resolve(segs, mods)
            if not t or related(m, t):
                continue
            graph[m].add(t)
            theirs = level_of(t, table)
            if mine and theirs and theirs[0] > mine[0]:
                problems.append(
                    f"{crate_dir}: {m} (level {mine[1]}) imports {t} (level {theirs[1]}, above it)"
                )
    for comp in circles(graph):
        problems.append(f"{crate_dir}: import circle of {len(comp)} modules: {', '.join(comp)}")
    # One line per offending pair is enough.
    return sorted(set(problems))


def self_test():
    """A planted upward import and a planted circle must both be reported."""
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "src", "feature"))
        files = {
            "src/lib.rs": "pub mod model; pub mod store; pub mod feature;",
            "src/model.rs": "pub struct M;",
            "src/store.rs": "use crate::feature::Thing;\n/// [`crate::feature`] in a doc comment is fine\n",
            "src/feature/mod.rs": "pub mod a; pub mod b; pub struct Thing; use crate::model::M;",
            "src/feature/a.rs": "use super::b::B; pub struct A;",
            "src/feature/b.rs": "use crate::feature::a::A; pub struct B;",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        with open(os.path.join(d, "levels.toml"), "w") as f:
            f.write(
                '[[level]]\nname = "model"\nmodules = ["model"]\n'
                '[[level]]\nname = "store"\nmodules = ["store"]\n'
                '[[level]]\nname = "features"\nmodules = ["feature"]\n'
            )
        found = check(d)
        want_up = any("store (level store) imports feature" in p for p in found)
        want_circle = any("circle of 2 modules: feature::a, feature::b" in p for p in found)
        if not (want_up and want_circle and len(found) == 2):
            print("self-test failed; found:", *found, sep="\n  ")
            return 1
    print("check-levels self-test: a planted upward import and a planted circle are caught")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    crates = argv or sorted(d for d in os.listdir(".") if os.path.isfile(os.path.join(d, "levels.toml")))
    problems = []
    for crate in crates:
        problems += check(crate)
    for p in problems:
        print(p)
    names = ", ".join(os.path.basename(c.rstrip("/")) for c in crates) or "no crate declares levels"
    print(f"levels checked: {names}; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
