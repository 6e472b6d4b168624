"""The boundary kinds' operator on 1, 2 and 3 ranks (tests/test_unit_boundary.c):
threshold_reset and periodic axes keep the columns of L summing to zero and
its off-diagonals non-negative, and the matrix-free product equals the
assembled one, however the ranks split the threshold and reset cells."""
import os
import subprocess
from common import *

EXE = os.environ.get("INFOTHERM_UNIT_BOUNDARY", os.path.join(os.path.dirname(__file__), "..", "build", "tests", "test_unit_boundary"))
for ranks in (1, 2, 3):
    p = subprocess.run(MPIEXEC + ["-n", str(ranks), EXE], capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("ok", "FAIL"))]
    check(p.returncode == 0 and len(lines) == 18 and all(l.startswith("ok") for l in lines),
          f"{ranks} rank(s): {len(lines)} checks, {sum(l.startswith('FAIL') for l in lines)} failed {p.stderr.strip()[-300:]}")
    for l in lines:
        print("   ", l)
finish()
