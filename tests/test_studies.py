"""The three studies of tools/ (inference, learning, memory) with --quick into a
temporary folder: each draws its figures, passes its Monte Carlo cross-check,
and shows physics that could fail:
- inference: I(v;r) falls with sigma_r at fixed tau_r and tuning, and every
  cost_per_bit >= ln 2 (the sensor's second law; 1e-3 for round-off of the
  steady state);
- learning: mi_v_w starts at 0 (flat input) and rises after the tuning gain
  switches on, while the synapse gives off heat;
- memory: I(c; w) is near ln 2 at the end of a strong stimulus, decays after
  it, and decays more slowly over the higher barrier."""
import json
import math
import os
import subprocess
import sys

from common import check, finish, tmpdir

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")


def study(name):
    out = tmpdir(f"study_{name}")
    proc = subprocess.run([sys.executable, os.path.join(TOOLS, f"study_{name}.py"), "--quick", "--out", out],
                          capture_output=True, text=True, timeout=280)
    print(proc.stdout, proc.stderr, flush=True)
    check(proc.returncode == 0, f"study_{name}.py --quick exits 0 (crosscheck passed)")
    with open(os.path.join(out, f"study_{name}.json")) as f:
        return out, json.load(f)


def figures(out, names):
    paths = [os.path.join(out, n) for n in names]
    check(all(os.path.isfile(p) and os.path.getsize(p) > 1000 for p in paths), f"figures drawn: {', '.join(names)}")


# --- (a) inference ---
out, a = study("inference")
figures(out, ["inference_accuracy_cost.png", "inference_cost_per_bit.png"])
rows = a["rows"]
decreasing = True
for tuning in ("linear", "sigmoid"):
    for tau in sorted({r["tau_r"] for r in rows}):
        sel = sorted((r for r in rows if r["tuning"] == tuning and r["tau_r"] == tau), key=lambda r: r["sigma_r"])
        mi = [r["mutual_information"] for r in sel]
        decreasing &= all(x > y for x, y in zip(mi, mi[1:]))
check(decreasing, "I(v;r) decreases with sigma_r at every tau_r, both tunings")
worst = min(r["cost_per_bit"] for r in rows)
check(worst >= math.log(2) - 1e-3, f"every cost_per_bit >= ln 2 (smallest {worst:.4f})")
check(a["best"]["info_per_kT"] > 0 and a["crosscheck"]["passed"], "a best I/heat_rate_r is reported and cross-checked")
best = a["best"]
check(abs(best["mutual_information_err"]) <= 0.01 * best["mutual_information"] and best["grid_n"] in ("48,48", "96,96"),
      f"the best point's I carries an error estimate within 1% ({best['mutual_information_err']:.1e}, grid {best['grid_n']})")

# --- (b) learning ---
out, b = study("learning")
figures(out, ["learning.png"])
mi, heat = b["mi_v_w"], b["entropy_flow_w_cum"]
check(abs(mi[0]) < 1e-8, f"mi_v_w = 0 before the switch ({mi[0]:.1e})")
check(mi[-1] > 1e-3 and mi[-1] > mi[len(mi) // 4] > mi[0], f"mi_v_w rises after the switch-on (to {mi[-1]:.4f})")
check(heat[-1] > 0 and 0 < b["info_per_kT"] < 1, f"the synapse gives off heat; info per k_B T = {b['info_per_kT']:.4f}")
check(all(math.isfinite(v["err"]) for v in b["error_estimates"].values()), "learning: the key numbers carry error estimates")

# --- (c) memory ---
out, c = study("memory")
figures(out, ["memory_information.png", "memory_decay.png"])
res = sorted(c["results"], key=lambda r: r["barrier_over_noise"])
for r in res:
    check(abs(r["I_at_stimulus_end"] - math.log(2)) < 0.05,
          f"sigma_w = {r['sigma_w']}: I(c;w) = {r['I_at_stimulus_end']:.4f} near ln 2 at the stimulus end")
    check(r["I_final"] < 0.5 * r["I_at_stimulus_end"], f"sigma_w = {r['sigma_w']}: I decays after it (to {r['I_final']:.2e})")
for r in res:
    check(abs(r["decay_time_err"]) <= 0.01 * r["decay_time"] and abs(r["heat_after_stimulus_err"]) <= 0.01 * r["heat_after_stimulus"],
          f"sigma_w = {r['sigma_w']}: decay time {r['decay_time']:.4f} +- {abs(r['decay_time_err']):.1e}, within 1% (grid {r['grid_n']})")
check(res[-1]["decay_time"] > 1.5 * res[0]["decay_time"],
      f"decay time grows with the barrier: {res[0]['decay_time']:.2f} -> {res[-1]['decay_time']:.2f}")
finish()
