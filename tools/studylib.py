"""What the study scripts (tools/study_*.py) share: where the binary and the
input files are, running one infotherm command with a study's options file,
and the readers of its outputs (the Python package's: python/infotherm)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the package of this source tree (python/infotherm), else the installed one (meson install)
if os.path.isdir(os.path.join(ROOT, "python", "infotherm")):
    sys.path.insert(0, os.path.join(ROOT, "python"))
from infotherm import read_columns, read_density, read_json  # noqa: E402,F401
# the binary: $INFOTHERM, else build/infotherm of this source tree, else infotherm on PATH (installed)
BIN = os.environ.get("INFOTHERM") or next(
    (b for b in (os.path.join(ROOT, "build", "infotherm"), shutil.which("infotherm")) if b and os.path.exists(b)),
    os.path.join(ROOT, "build", "infotherm"))


def options_file(study):
    return os.path.join(ROOT, "input", f"study_{study}.opts")


def infotherm(study, command, options, check=True):
    """Runs `infotherm COMMAND -options_file input/study_STUDY.opts OPTIONS -quiet -overwrite`
    (a study regenerates its folders); exits with infotherm's message when it fails and check is set."""
    argv = [BIN, command, "-options_file", options_file(study)] + [str(o) for o in options] + ["-quiet", "-overwrite"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"study_{study}: {' '.join(argv)} failed:\n{proc.stderr}")
    return proc


def read_csv(path):
    """A CSV output as {column: float64 numpy array} (infotherm.read_columns)."""
    return read_columns(path)


def parse_args(study, doc, quick_help):
    """The options every study takes: --quick, --out DIR, --mc-particles N; makes DIR."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out", default=os.path.join("results", f"study_{study}"))  # under the working directory
    ap.add_argument("--mc-particles", type=int, default=None)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


# Error bars (doc/physics.md §5): a study runs its solves with -error_estimate, reports each key
# number with its error estimate, and doubles -grid_n where an estimate exceeds 1% of its value.
TOLERANCE = 0.01


def estimated(final, key):
    """(value, err, extrap, trusted?) of one key of a summary's "final" under -error_estimate."""
    return final[key], final.get(key + "_err", float("nan")), final.get(key + "_extrap", float("nan"))


def with_error(value, err):
    """'value ± |err|' for printing."""
    return f"{value:.6g} ± {abs(err):.2g}"


def too_coarse(final, keys, tolerance=TOLERANCE):
    """The keys whose error estimate exceeds `tolerance` of their value (or is missing)."""
    bad = []
    for k in keys:
        value, err, _ = estimated(final, k)
        if not (abs(err) <= tolerance * abs(value)):
            bad.append(k)
    return bad


def double(grid):
    """-grid_n with every axis doubled ("48,48" -> "96,96")."""
    return ",".join(str(2 * int(n)) for n in str(grid).split(","))


def refined(solve, grid, keys, max_doublings, tolerance=TOLERANCE):
    """Calls solve(grid) -> summary "final" (a solve with -error_estimate), doubling the grid
    while a key's error estimate exceeds `tolerance` of its value, at most max_doublings times.
    Returns (final, grid, keys still above the tolerance)."""
    final = solve(grid)
    bad = too_coarse(final, keys, tolerance)
    for _ in range(max_doublings):
        if not bad:
            break
        grid = double(grid)
        final = solve(grid)
        bad = too_coarse(final, keys, tolerance)
    return final, grid, bad


def error_bars(final, keys):
    """{key: {"value", "err", "extrap"}} for a study's JSON."""
    out = {}
    for k in keys:
        value, err, extrap = estimated(final, k)
        out[k] = {"value": value, "err": err, "extrap": extrap}
    return out
