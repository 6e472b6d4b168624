"""The fourth-order operator's matrix-free product on 1, 2 and 3 ranks
(tests/test_unit_apply4.c): on 1-D, 2-D, 3-D, 4-D (a dof axis), grids whose
3 ranks own 3, 3 and 2 planes, and periodic grids (one axis, the fastest,
both) under the transient's guard, L p equals the per-cell sum of the axes'
divergences (ItFacesAxisDivergence) to the bit, the stage shell's
scale (shift I - L) p equals VecAXPBY of its parts to the bit, and the
assembled operator's product equals the shell's to 1e-13; faces renewed
by the guard give the product of faces computed afresh, to the bit; both
precisions of the weights (-fp_weights), and the single ones' product
within their rounding of the double ones' with its mass exact (18 checks)."""
import os
import subprocess
from common import *

EXE = os.environ.get("INFOTHERM_UNIT_APPLY4", os.path.join(os.path.dirname(__file__), "..", "build", "tests", "test_unit_apply4"))
for ranks in (1, 2, 3):
    p = subprocess.run(MPIEXEC + ["-n", str(ranks), EXE], capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("ok", "FAIL"))]
    check(p.returncode == 0 and len(lines) == 18 and all(l.startswith("ok") for l in lines),
          f"{ranks} rank(s): {len(lines)} checks, {sum(l.startswith('FAIL') for l in lines)} failed {p.stderr.strip()[-300:]}")
    for l in lines:
        print("   ", l)
finish()
