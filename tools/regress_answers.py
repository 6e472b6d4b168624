#!/usr/bin/python3
"""Writes the stored answers of the regress tier (doc/design.md "Tests").

    tools/regress_answers.py [--bin BUILD/infotherm] [CASE ...]

Each case is defined by tests/regress/<case>.json (command, ranks, options,
the files to compare, the tolerances and why). For each case asked for (all
when none is named) this runs the binary from tests/ (so options files are
found as ../input/...), then stores in tests/regress/<case>/: the compared
files as written, and answer.json with the binary's `infotherm -version`, the
command line, and the summary's "final" values. tests/test_regress.py
compares a build's outputs with these token by token.

Answers are written only on purpose: after a change that is meant to move the
numbers, from a build of a tagged (or at least committed) version, and
reviewed before they are committed — `git diff tests/regress` shows every
number that moved, and the commit message says why each new value is
plausible (a closed form where one exists)."""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.normpath(os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "python"))  # the package's reader (a source-tree tool)
import infotherm  # noqa: E402
CASES = os.path.join(TESTS, "regress")
MPIEXEC = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--quiet"]


def run_case(binary, case, out):
    """Runs one case into the folder out; raises if the run fails."""
    argv = [binary, case["command"]] + case["options"] + ["-output_dir", out, "-quiet"]
    if case["ranks"] > 1:
        argv = MPIEXEC + ["-n", str(case["ranks"])] + argv
    proc = subprocess.run(argv, cwd=TESTS, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return argv


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("INFOTHERM", os.path.join(HERE, "..", "build", "infotherm")))
    parser.add_argument("cases", nargs="*")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    version = subprocess.run([binary, "-version"], capture_output=True, text=True, check=True).stdout.strip()
    names = args.cases or sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(CASES, "*.json")))
    for name in names:
        with open(os.path.join(CASES, name + ".json")) as f:
            case = json.load(f)
        out = tempfile.mkdtemp(prefix=f"infotherm-regress-{name}-")
        shutil.rmtree(out)
        argv = run_case(binary, case, out)
        dest = os.path.join(CASES, name)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        for file in case["files"]:
            shutil.copy(os.path.join(out, file), os.path.join(dest, file))
        final = infotherm.read_json(os.path.join(out, case["summary"]))["final"]
        answer = {"version": version, "command": " ".join(argv[argv.index(binary):]).replace(out, "OUT"), "final": final}
        with open(os.path.join(dest, "answer.json"), "w") as f:
            json.dump(answer, f, indent=1, sort_keys=True)
            f.write("\n")
        shutil.rmtree(out)
        print(f"{name}: {', '.join(case['files'])}, answer.json ({version})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
