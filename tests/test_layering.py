"""The modules are layered as doc/design.md's module table says: every file of
src/ and include/ belongs to a module of the table (src/M/, include/infotherm/M.h,
include/infotherm/private/Mimpl.h), an #include may point only to the same
module or to one of a lower level (never upward, never sideways to another
module of the same level), and the include graph of the files has no cycle.
A private header (include/infotherm/private/Mimpl.h) is included only by its
own module's files; the grid's (gridimpl.h) not even by a test: code outside
src/grid reads a grid through its view, ItGridGetInfo.
The same holds for calls: from the symbols each object file of the library
defines and uses (nm on $INFOTHERM_LIB, default ../build/libinfotherm.a), no
function of a module calls one of its own level or above. The levels are read
from the table, so a new module is placed by adding its row there. Nor do
the files call each other in a cycle, inside a module or across: the file
graph of calls (data references included) has no cycle (CALL_CYCLES_ALLOWED
names modules exempted; none is). Prints the module graph
(arrows and how many includes each holds)."""
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](infotherm/[^>"]+)[>"]', re.M)
ROW = re.compile(r"^\|\s*([0-9]+)\s*\|\s*([a-z_]+)\s*\|", re.M)

# modules whose files may still call each other in a cycle: none (the model
# registry, src/model/model.c, calls the model files, which call define.c,
# work.c, tuning.c, ... and never model.c)
CALL_CYCLES_ALLOWED = set()

failures = []


def check(cond, message):
    print(("ok   " if cond else "FAIL ") + message, flush=True)
    if not cond:
        failures.append(message)


def levels():
    """module -> level, from the rows `| level | module | owns |` of doc/design.md."""
    with open(os.path.join(ROOT, "doc", "design.md")) as f:
        return {m.group(2): int(m.group(1)) for m in ROW.finditer(f.read())}


def module_of(path):
    """The module of a file (a path relative to the root), or None."""
    parts = path.split("/")
    if parts[0] == "src":
        return parts[1]
    name = parts[-1][:-2]  # without .h
    if parts[-2] == "private":
        return name[:-4] if name.endswith("impl") else name
    return name


def sources():
    for top in ("src", "include"):
        for folder, _, names in os.walk(os.path.join(ROOT, top)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


def graph():
    """file -> the files it includes (project headers only)."""
    edges = {}
    for path in sources():
        with open(os.path.join(ROOT, path)) as f:
            edges[path] = ["include/" + h for h in INCLUDE.findall(f.read())]
    return edges


def cycles(edges):
    """The include cycles, each as a list of files (depth-first search)."""
    found, state, stack = [], {}, []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in edges.get(v, []):
            if state.get(w) == 1:
                found.append(stack[stack.index(w):] + [w])
            elif not state.get(w):
                visit(w)
        stack.pop()
        state[v] = 2

    for v in sorted(edges):
        if not state.get(v):
            visit(v)
    return found


def calls():
    """file -> the files whose It* functions it calls, from the library's symbol tables."""
    lib = os.environ.get("INFOTHERM_LIB", os.path.join(ROOT, "build", "libinfotherm.a"))
    if not os.path.exists(lib):
        return None
    text = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined, used = {}, collections.defaultdict(set)
    for line in text.splitlines():
        m = re.match(r"^[^:]*:(?:.*/)?([A-Za-z0-9_.]+\.c\.o):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(It\w+)$", line)
        if not m:
            continue
        member, kind, symbol = m.groups()
        path = "/".join(member[: -len(".o")].split("_", 2))  # src_app_cmd_run.c.o -> src/app/cmd_run.c
        if kind in "TDBR":
            defined[symbol] = path
        elif kind == "U":
            used[path].add(symbol)
    return {f: sorted({defined[s] for s in syms if s in defined and defined[s] != f}) for f, syms in used.items()}


def main():
    level = levels()
    check(len(level) >= 8, f"doc/design.md's module table gives {len(level)} modules with levels")
    edges = graph()
    missing = [f"{p} includes {t}" for p, ts in edges.items() for t in ts if not os.path.exists(os.path.join(ROOT, t))]
    check(not missing, "every included project header exists" + "".join("\n       " + m for m in missing))
    unknown = sorted({module_of(p) for p in edges} - set(level))
    check(not unknown, f"every file belongs to a module of the table (unknown: {unknown})")
    arrows, bad = {}, []
    for path, targets in sorted(edges.items()):
        a = module_of(path)
        for t in targets:
            b = module_of(t)
            if a == b or a not in level or b not in level:
                continue
            arrows[(a, b)] = arrows.get((a, b), 0) + 1
            if level[b] >= level[a]:
                bad.append(f"{path} ({a}, level {level[a]}) includes {t} ({b}, level {level[b]})")
    for (a, b), n in sorted(arrows.items(), key=lambda e: (-level[e[0][0]], e[0])):
        print(f"     {a} ({level[a]}) -> {b} ({level[b]}): {n} include(s)")
    check(not bad, "no include points to a module of the same or a higher level" +
          "".join("\n       " + b for b in bad))
    private = [f"{p} includes {t}" for p, ts in sorted(edges.items()) for t in ts
               if "/private/" in t and module_of(p) != module_of(t)]
    check(not private, "every private header is included by its own module only" +
          "".join("\n       " + m for m in private))
    tests = os.path.join(ROOT, "tests")
    grid_impl = []
    for name in sorted(os.listdir(tests)):
        if name.endswith((".c", ".h")):
            with open(os.path.join(tests, name)) as f:
                if "infotherm/private/gridimpl.h" in INCLUDE.findall(f.read()):
                    grid_impl.append("tests/" + name)
    check(not grid_impl, "no test includes the grid's private header (it reads ItGridGetInfo)" +
          "".join("\n       " + m for m in grid_impl))
    loops = cycles(edges)
    check(not loops, "the include graph has no cycle" + "".join("\n       " + " -> ".join(c) for c in loops))
    graph_calls = calls()
    check(graph_calls is not None, "the library's symbol tables were read (set INFOTHERM_LIB)")
    if graph_calls is not None:
        upward = [f"{a} ({module_of(a)}) calls into {b} ({module_of(b)})" for a, bs in sorted(graph_calls.items())
                  for b in bs if module_of(a) != module_of(b) and level.get(module_of(b), -1) >= level.get(module_of(a), -1)]
        check(len(graph_calls) >= 20 and not upward,
              f"no function calls into a module of the same or a higher level ({len(graph_calls)} object files)" +
              "".join("\n       " + u for u in upward))
        found = cycles(graph_calls)
        allowed = [c for c in found if {module_of(f) for f in c} <= CALL_CYCLES_ALLOWED]
        bad_cycles = [c for c in found if c not in allowed]
        check(not bad_cycles, "no call cycle between files (inside a module or across), but in " +
              f"{sorted(CALL_CYCLES_ALLOWED)}" + "".join("\n       " + " -> ".join(c) for c in bad_cycles))
        for c in allowed:
            print("     call cycle allowed inside " + module_of(c[0]) + ": " + " -> ".join(c))
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


main()
