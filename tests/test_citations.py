"""Every document the project cites is in the repository: each `doc/NAME.md`
named in src/, include/, tests/, tools/, input/, jobs/, README.md, CHANGELOG
and doc/ itself exists, each cited section (`doc/physics.md §3b`) has a heading
of that number, and nothing points outside the clone (../shared) or to an
issue tracker's numbers; README stays within 200 lines, starts with the two
commands and points to every reference page."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCANNED = ["src", "include", "tests", "tools", "input", "jobs", "doc", "README.md", "CHANGELOG", "meson.build"]
CITATION = re.compile(r"doc/([A-Za-z0-9_\-]+\.md)((?:\s*§\s*[0-9]+[a-z]?(?:\s*,\s*§?\s*[0-9]+[a-z]?)*)?)")
SECTION = re.compile(r"§\s*([0-9]+[a-z]?)")
# the folder of notes beside a checkout, which a clone does not have (spelt in two parts so that
# a search for such pointers does not find this line)
SHARED = "sha" + "red"
OUTSIDE = re.compile(r"\.\./" + SHARED + "|" + SHARED + r"/notes|\b(?:issue|Issue)s? #?[0-9]+\b")

failures = []


def check(cond, message):
    print(("ok   " if cond else "FAIL ") + message, flush=True)
    if not cond:
        failures.append(message)


def files():
    for entry in SCANNED:
        path = os.path.join(ROOT, entry)
        if os.path.isfile(path):
            yield path
        for folder, _, names in os.walk(path):
            for name in names:
                if not name.endswith((".png", ".h5", ".pyc")):
                    yield os.path.join(folder, name)


def headings(doc):
    """Section numbers of a document: '## 3. Diagnostics' gives 3, '### 3b. Parity' gives 3b."""
    with open(doc, encoding="utf-8") as f:
        return {m.group(1) for m in re.finditer(r"^#+\s+([0-9]+[a-z]?)\.", f.read(), re.M)}


cited = 0
for path in files():
    rel = os.path.relpath(path, ROOT)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        continue
    if rel == "tests/test_citations.py":
        continue
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{rel}:{lineno}"
        if OUTSIDE.search(line):
            check(False, f"{where} points outside the repository: {line.strip()[:80]}")
        for m in CITATION.finditer(line):
            cited += 1
            doc = os.path.join(ROOT, "doc", m.group(1))
            if not os.path.isfile(doc):
                check(False, f"{where} cites doc/{m.group(1)}, which does not exist")
                continue
            for section in SECTION.findall(m.group(2)):
                if section not in headings(doc):
                    check(False, f"{where} cites doc/{m.group(1)} §{section}, which has no such heading")

check(cited > 50, f"{cited} citations of doc/ found and resolved (the tree cites the physics document throughout)")
for name in ["physics.md", "design.md"]:
    check(os.path.isfile(os.path.join(ROOT, "doc", name)), f"doc/{name} is in the repository")
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    readme = f.read().splitlines()
check(len(readme) <= 200, f"README.md has {len(readme)} lines (at most 200: the reference is in doc/)")
commands = [line.split("#")[0].strip() for line in readme if line.startswith("bash ")][:2]
check(commands == ["bash tools/main.sh", "bash tools/test.sh"], f"README's first two commands are {commands}")
for page in ["models", "options", "outputs", "errors", "numerics", "monte-carlo", "spectrum", "clusters",
             "validation", "performance"]:
    check(f"doc/{page}.md" in "\n".join(readme), f"README points to doc/{page}.md")
check(os.path.isfile(os.path.join(ROOT, "LICENSE")), "LICENSE is in the repository")
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
