"""The bistable synapse's lambda_1 that tests/test_spectrum.py compares with
(its REFERENCE table) is what tools/chebyshev_bistable.py computes: the script
reproduces every entry to 1e-10, and its value has converged in the Chebyshev
degree (96 and 160 points agree to 1e-12)."""
import ast
import os
import subprocess
import sys

from common import check, finish

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "tools", "chebyshev_bistable.py")

with open(os.path.join(HERE, "test_spectrum.py")) as f:
    tree = ast.parse(f.read())
reference = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "REFERENCE")


def computed(n):
    argv = [sys.executable, TOOL, "--n", str(n), "--sigma"] + [str(s) for s in sorted(reference)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return {float(l.split()[2].rstrip(":")): float(l.split()[-1]) for l in out.splitlines() if l.startswith("sigma_w")}


coarse, fine = computed(96), computed(160)
for sigma, value in sorted(reference.items()):
    check(abs(fine[sigma] - value) < 1e-10, f"sigma_w = {sigma}: the script gives {fine[sigma]:.10f}, the table {value}")
    check(abs(fine[sigma] - coarse[sigma]) < 1e-12,
          f"sigma_w = {sigma}: converged in the degree (96 vs 160 points: {abs(fine[sigma] - coarse[sigma]):.1e})")
finish()
