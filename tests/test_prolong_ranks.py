"""The multigrid's matrix-free prolongation on 1, 2 and 3 ranks
(tests/test_unit_prolong.c): on 2-D, 3-D, 5-D (dof axes), periodic and
fourth-order grids it equals the cell-centred multilinear interpolation
computed from the whole coarse vector, its rows sum to 1, its adding forms
add, and its transpose (the restriction) is its adjoint, however the ranks
split the fine and coarse grids."""
import os
import subprocess
from common import *

EXE = os.environ.get("INFOTHERM_UNIT_PROLONG", os.path.join(os.path.dirname(__file__), "..", "build", "tests", "test_unit_prolong"))
for ranks in (1, 2, 3):
    p = subprocess.run(MPIEXEC + ["-n", str(ranks), EXE], capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("ok", "FAIL"))]
    check(p.returncode == 0 and len(lines) == 6 and all(l.startswith("ok") for l in lines),
          f"{ranks} rank(s): {len(lines)} checks, {sum(l.startswith('FAIL') for l in lines)} failed {p.stderr.strip()[-300:]}")
    for l in lines:
        print("   ", l)
finish()
