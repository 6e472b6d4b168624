"""What the study scripts (tools/study_*.py) share: where the binary and the
input files are, running one infotherm command with a study's options file,
and reading a diagnostics.csv."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("INFOTHERM", os.path.join(ROOT, "build", "infotherm"))


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
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def parse_args(study, doc, quick_help):
    """The options every study takes: --quick, --out DIR, --mc-particles N; makes DIR."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", f"study_{study}"))
    ap.add_argument("--mc-particles", type=int, default=None)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args
