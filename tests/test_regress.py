"""The regress tier: stored scenarios (tests/regress/<case>.json) run again and
compared, token by token, with the answers a reviewed build stored
(tests/regress/<case>/, written by tools/regress_answers.py). Text tokens
(column names, keys) must be equal; numbers must agree within the case's
stated rtol and atol (|a - b| <= atol + rtol max(|a|, |b|), NaN only where
NaN, an infinity only where the same infinity), each case saying why its
tolerance is what it is. A run whose numbers moved prints the first tokens
that differ; if the move is meant, regenerate and review the answers
(doc/design.md "Tests")."""
import json
import math
import os
import re
import subprocess

from common import BIN, MPIEXEC, check, finish, tmpdir

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "regress")
SPLIT = re.compile(r"[\s,:\[\]{}\"]+")


def tokens(text):
    return [t for t in SPLIT.split(text) if t]


def number(token):
    try:
        return float(token)
    except ValueError:
        return None


def compare(label, expected, got, rtol, atol):
    """Token by token; returns the list of differences (at most a few shown)."""
    a, b = tokens(expected), tokens(got)
    if len(a) != len(b):
        return [f"{label}: {len(b)} tokens, the answer has {len(a)}"]
    bad = []
    for k, (x, y) in enumerate(zip(a, b)):
        u, v = number(x), number(y)
        if u is None or v is None:
            ok = x == y
        elif math.isnan(u) or math.isnan(v) or math.isinf(u) or math.isinf(v):
            ok = (math.isnan(u) and math.isnan(v)) or u == v
        else:
            ok = abs(u - v) <= atol + rtol * max(abs(u), abs(v))
        if not ok:
            bad.append(f"{label} token {k}: answer {x}, now {y}")
    return bad


def final_text(final):
    return json.dumps(final, indent=1, sort_keys=True)


names = sorted(f[:-5] for f in os.listdir(CASES) if f.endswith(".json"))
check(4 <= len(names) <= 6, f"{len(names)} stored scenarios: {', '.join(names)}")
for name in names:
    with open(os.path.join(CASES, name + ".json")) as f:
        case = json.load(f)
    with open(os.path.join(CASES, name, "answer.json")) as f:
        answer = json.load(f)
    out = tmpdir("regress-" + name)
    argv = [BIN, case["command"]] + case["options"] + ["-output_dir", out, "-quiet"]
    if case["ranks"] > 1:
        argv = MPIEXEC + ["-n", str(case["ranks"])] + argv
    proc = subprocess.run(argv, cwd=HERE, capture_output=True, text=True, timeout=600)
    check(proc.returncode == 0, f"{name}: infotherm {case['command']} on {case['ranks']} rank(s) ran ({proc.stderr.strip()[:300]})")
    if proc.returncode != 0:
        continue
    rtol, atol = case["rtol"], case["atol"]
    for file in case["files"]:
        with open(os.path.join(CASES, name, file)) as f, open(os.path.join(out, file)) as g:
            bad = compare(file, f.read(), g.read(), rtol, atol)
        check(not bad, f"{name}: {file} as stored by {answer['version']} (rtol {rtol:g}, atol {atol:g}: {case['why']}) {bad[:3]}")
    with open(os.path.join(out, case["summary"])) as f:
        final = json.load(f)["final"]
    bad = compare("final", final_text(answer["final"]), final_text(final), rtol, atol)
    check(not bad, f"{name}: {case['summary']} final values ({len(answer['final'])}) {bad[:3]}")
    # the comparison can fail: a number moved by 10 rtol is caught
    moved = dict(answer["final"])
    key = next(k for k, v in moved.items() if isinstance(v, float) and v != 0 and math.isfinite(v))
    moved[key] *= 1 + 10 * rtol + 10 * atol / abs(moved[key])
    check(compare("final", final_text(answer["final"]), final_text(moved), rtol, atol) != [],
          f"{name}: a final value moved by 10x the tolerance ({key}) is reported")
finish()
