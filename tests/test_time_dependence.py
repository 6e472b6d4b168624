"""Immutable models whose parameters are functions of time. Formulas
in t (drift and diffusion) follow their closed-form Gaussian moments at every
output time, with second order in the grid; a ramped parameter equals the same
ramp written with t; crosscheck passes on a drift in t; a run with a schedule
restarts from a checkpoint onto the uninterrupted run's diagnostics, while a
checkpoint of another schedule, formula or linear_M is refused with one line;
analyze reads back formulas that contain spaces; the stationary solver has an
options prefix of its own (-stationary_ksp_type ...) and -help lists the new
options; summary.json records schedules, base parameters and the linear
model's M, b, D. The closed forms are derived in the docstrings below and
checked against an RK4 integration of the moment ODEs."""
import glob
import math
import os
import re
import resource
import shutil
import time
import numpy as np
from common import *


def section(label, body):
    """Runs one group of checks; an exception (a run that failed, a missing file)
    is recorded as a failure of that group, and the next group still runs."""
    start = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu0.ru_utime + cpu0.ru_stime
    try:
        body()
    except Exception as e:  # noqa: BLE001
        check(False, f"{label}: {type(e).__name__}: {e}")
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu.ru_utime + cpu.ru_stime - cpu0
    print(f"  ({label}: {time.time() - start:.1f} s, {cpu:.1f} s of CPU)", flush=True)


def colscale_diff(a, b):
    """Largest |a - b| relative to the largest |b| of the series (floor 1e-10); NaN = NaN."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return math.inf
    a, b = np.nan_to_num(a), np.nan_to_num(b)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-10))


# --- closed forms -------------------------------------------------------------
# dx = A dt + sqrt(2 D) dW with A linear in x keeps a Gaussian Gaussian:
# dm/dt = E[A], dv/dt = 2 Cov(x, A) + 2 E[D].
M0, V0 = 0.0, 0.3


def drift_t_moments(t, m0=M0, v0=V0):
    """A = 2t - x, D = 1/2: dm/dt = 2t - m, so m = (m0 + 2) e^-t + 2(t - 1)
    (particular solution 2t - 2, constant from m(0) = m0); dv/dt = -2v + 1."""
    t = np.asarray(t, float)
    return m0 * np.exp(-t) + 2 * (t - 1) + 2 * np.exp(-t), v0 * np.exp(-2 * t) + 0.5 * (1 - np.exp(-2 * t))


D_M0, D_V0 = 0.5, 0.2


def diffusion_t_moments(t, m0=D_M0, v0=D_V0):
    """A = -x, D = 0.2 + 0.3 t: m = m0 e^-t; dv/dt = -2v + 0.4 + 0.6 t, so
    v = v0 e^-2t + int_0^t (0.4 + 0.6 s) e^-2(t-s) ds
      = v0 e^-2t + 0.2 (1 - e^-2t) + 0.3 t - 0.15 + 0.15 e^-2t
      = v0 e^-2t + 0.05 + 0.3 t - 0.05 e^-2t."""
    t = np.asarray(t, float)
    return m0 * np.exp(-t), v0 * np.exp(-2 * t) + 0.05 + 0.3 * t - 0.05 * np.exp(-2 * t)


def rk4(f, y0, T, steps=4000):
    y, t, h = np.array(y0, float), 0.0, T / steps
    for _ in range(steps):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        y, t = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t + h
    return y


worst = 0.0
for T in (0.5, 1.0, 2.0):
    y = rk4(lambda t, y: np.array([2 * t - y[0], -2 * y[1] + 1.0]), [M0, V0], T)
    worst = max(worst, float(np.max(np.abs(y - np.array(drift_t_moments(T))))))
    y = rk4(lambda t, y: np.array([-y[0], -2 * y[1] + 2 * (0.2 + 0.3 * t)]), [D_M0, D_V0], T)
    worst = max(worst, float(np.max(np.abs(y - np.array(diffusion_t_moments(T))))))
check(worst < 1e-10 and abs(drift_t_moments(2.0, 0.0)[0] - 2.2707) < 1e-4,
      f"the closed forms solve the moment ODEs (RK4 difference {worst:.1e}; m(2) = {float(drift_t_moments(2.0, 0.0)[0]):.4f} from m0 = 0)")

# --- 1. a drift in t ----------------------------------------------------------
LO, HI = -8.0, 14.0
DRIFT_T = ["-model", "expr", "-vars", "x", "-expr_drift_x", "(2*t-x)", "-expr_diffusion_x", "0.5", "-grid_lo", LO, "-grid_hi", HI,
           "-init_mean", M0, "-init_cov", V0]
TIGHT = ["-ts_rtol", "1e-9", "-ts_atol", "1e-11"]


def drift_in_t():
    grids, e_mean, e_var, e_l1 = [110, 220, 440], [], [], []
    for n in grids:
        out = tmpdir(f"arch-drift-{n}")
        run("run", DRIFT_T + ["-grid_n", n, "-t_final", "2", "-output_every", "0.25", "-snapshot_every", "2", "-output_dir", out] + TIGHT)
        c = read_csv(out + "/diagnostics.csv")
        m, v = drift_t_moments(c["t"])
        dens, attrs = read_density(out + "/density_0001.h5")
        exact, vol = gaussian_density([n], [LO], [HI], [m[-1]], [[v[-1]]])
        e_mean.append(abs(c["mean_x"][-1] - m[-1]))
        e_var.append(abs(c["var_x"][-1] - v[-1]))
        e_l1.append(l1_error(dens, exact, vol))
        print(f"  {n} cells: t = 2: mean {c['mean_x'][-1]:.6f} (exact {m[-1]:.6f}), var {c['var_x'][-1]:.6f} (exact {v[-1]:.6f}), L1 {e_l1[-1]:.2e}")
    # at h = 0.05 the grid's O(h^2) error is about 1e-3 in both moments (measured through an equivalent ramp)
    rows_mean, rows_var = float(np.max(np.abs(c["mean_x"] - m))), float(np.max(np.abs(c["var_x"] - v)))
    check(len(c["t"]) == 9 and rows_mean < 2e-3 and rows_var < 2e-3,
          f"drift 2t - x: mean_x and var_x follow the closed form at all {len(c['t'])} rows on {grids[-1]} cells (max errors {rows_mean:.1e}, {rows_var:.1e} < 2e-3)")
    hs = [(HI - LO) / n for n in grids]
    for label, errs in (("mean", e_mean), ("variance", e_var), ("L1 density", e_l1)):
        orders = observed_orders(hs, errs)
        check(min(orders) >= 1.8, f"drift 2t - x: the {label} error at t = 2 converges at second order: "
              + " -> ".join(f"{e:.2e}" for e in errs) + ", orders " + ", ".join(f"{o:.2f}" for o in orders))


section("drift in t", drift_in_t)

# --- 2. a diffusion in t ------------------------------------------------------
DIFF_T = ["-model", "expr", "-vars", "x", "-expr_drift_x", "(-x)", "-expr_diffusion_x", "0.2+0.3*t", "-grid_lo", "-6", "-grid_hi", "6",
          "-init_mean", D_M0, "-init_cov", D_V0]


def diffusion_in_t():
    errs = []
    for n in (120, 240):
        out = tmpdir(f"arch-diff-{n}")
        run("run", DIFF_T + ["-grid_n", n, "-t_final", "2", "-output_every", "0.25", "-output_dir", out] + TIGHT)
        c = read_csv(out + "/diagnostics.csv")
        m, v = diffusion_t_moments(c["t"])
        errs.append(abs(c["var_x"][-1] - v[-1]))
    rows_mean, rows_var = float(np.max(np.abs(c["mean_x"] - m))), float(np.max(np.abs(c["var_x"] - v)))
    # measured O(h^2) errors at h = 0.05: 2.5e-4 in the mean, 1.3e-4 in the variance
    check(rows_mean < 5e-4 and rows_var < 5e-4,
          f"diffusion 0.2 + 0.3 t: var_x follows v0 e^-2t + 0.05 + 0.3 t - 0.05 e^-2t at every row (max error {rows_var:.1e}, mean {rows_mean:.1e}; "
          f"v(2) = {c['var_x'][-1]:.5f}, exact {v[-1]:.5f})")
    order = math.log(errs[0] / errs[1], 2) if errs[1] > 0 else math.inf
    check(order >= 1.8, f"diffusion 0.2 + 0.3 t: the variance error at t = 2 converges at second order ({errs[0]:.2e} -> {errs[1]:.2e}, order {order:.2f})")


section("diffusion in t", diffusion_in_t)

# --- 3. a ramped parameter = the same ramp written with t -----------------------
FIXED = ["-ts_adapt_type", "none", "-ts_dt", "0.005"]


def ramp_equals_formula():
    common_opts = ["-model", "expr", "-vars", "x", "-expr_diffusion_x", "0.5", "-grid_n", "200", "-grid_lo", LO, "-grid_hi", HI, "-init_mean", M0,
                   "-init_cov", V0, "-t_final", "2", "-output_every", "0.25", "-snapshot_every", "2"] + FIXED
    out = tmpdir("arch-ramp")
    run("run", common_opts + ["-expr_param", "a=0", "-expr_drift_x", "(a-x)", "-protocol", "a:ramp:0@0,4@2", "-output_dir", out + "/ramp"])
    run("run", common_opts + ["-expr_drift_x", "(2*t-x)", "-output_dir", out + "/formula"])
    r, f = read_csv(out + "/ramp/diagnostics.csv"), read_csv(out + "/formula/diagnostics.csv")
    diff = max(colscale_diff(f[k], r[k]) for k in ("mean_x", "var_x"))
    check(np.array_equal(r["t"], f["t"]) and diff < 1e-6,
          f"-protocol a:ramp:0@0,4@2 on (a-x) = the formula (2*t-x): mean_x, var_x agree to {diff:.1e} (< 1e-6 relative) with fixed steps")
    p, q = read_density(out + "/ramp/density_0001.h5")[0], read_density(out + "/formula/density_0001.h5")[0]
    diff = float(np.max(np.abs(p - q)) / np.max(p))
    check(diff < 1e-6, f"... and so do their densities at t = 2 ({diff:.1e})")


section("ramp = formula in t", ramp_equals_formula)

# --- 4. crosscheck on the drift in t --------------------------------------------
def crosscheck_drift_in_t():
    out = tmpdir("arch-crosscheck")
    p = run("crosscheck", DRIFT_T + ["-grid_n", "200", "-mc_particles", "20000", "-t_final", "1", "-output_every", "0.25", "-output_dir", out],
            ranks=2, expect_ok=False)
    worst = re.search(r"max \|z\| = [0-9.]+[^\n]*", p.stdout + p.stderr)
    check(p.returncode == 0 and read_json(out + "/crosscheck.json")["passed"] is True,
          f"crosscheck (20000 particles) passes on the drift 2t - x (exit {p.returncode}; {worst.group(0) if worst else p.stderr.strip()[-200:]})")


section("crosscheck on a drift in t", crosscheck_drift_in_t)

# --- 5. restarts with schedules, formulas and linear_M -----------------------------
BISTABLE = ["-model", "bistable", "-bistable_h", "0", "-grid_n", "128", "-protocol", "h:0@0,0.5@1", "-t_final", "2", "-output_every", "0.1",
            "-snapshot_every", "1", "-checkpoint_every", "0.5", "-ts_adapt_type", "none", "-ts_dt", "0.01"]


def refused(label, opts, checkpoint):
    p = run("run", opts + ["-restart", checkpoint, "-output_dir", tmpdir("arch-refuse")], expect_ok=False)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and (checkpoint in p.stderr or "checkpoint" in p.stderr),
          f"a restart with {label} is refused with one line naming the checkpoint (exit {p.returncode}): {p.stderr.strip()[:300]}")


def with_option(opts, name, value):
    opts = list(opts)
    opts[opts.index(name) + 1] = value
    return opts


def restarts():
    ref, out = tmpdir("arch-ck-ref"), tmpdir("arch-ck")
    run("run", BISTABLE + ["-output_dir", ref])
    p = run("run", BISTABLE + ["-output_dir", out, "-ts_max_steps", "130"], ranks=2, expect_ok=False)
    rows = read_csv(out + "/diagnostics.csv")["t"]
    check(p.returncode == 3 and os.path.exists(out + "/checkpoint.h5") and 1 < rows[-1] < 2,
          f"bistable with h:0@0,0.5@1 stopped by -ts_max_steps 130 after the switch: exit 3, checkpoint at t = 1.3 (exit {p.returncode}, last row t = {rows[-1]})")
    saved = tmpdir("arch-ck-saved") + "/checkpoint.h5"  # the checkpoint at t = 1.3, before the restart overwrites it
    os.makedirs(os.path.dirname(saved))
    shutil.copy(out + "/checkpoint.h5", saved)
    p = run("run", BISTABLE + ["-output_dir", out, "-restart", "auto"], expect_ok=False)
    check(p.returncode == 0, f"-restart auto continues the scheduled run to t = 2 (exit {p.returncode}: {p.stderr.strip()[:300]})")
    r, s = read_csv(ref + "/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
    same_rows = len(r["t"]) == len(s["t"]) and np.array_equal(r["t"], s["t"])
    diff = max(colscale_diff(s[k], r[k]) for k in r) if same_rows and list(r) == list(s) else math.inf
    check(diff <= 1e-10, f"the restarted diagnostics.csv equals the uninterrupted run's ({len(s['t'])} rows, max diff {diff:.1e} <= 1e-10)")
    if os.path.exists(out + "/density_0002.h5"):
        a, b = read_density(ref + "/density_0002.h5")[0], read_density(out + "/density_0002.h5")[0]
        diff = float(np.max(np.abs(a - b)) / np.max(a))
    else:
        diff = math.inf
    check(diff <= 1e-10, f"... and so does the density at t = 2 ({diff:.1e})")
    refused("another -protocol (h:0@0,0.7@1)", with_option(BISTABLE, "-protocol", "h:0@0,0.7@1"), saved)

    expr = ["-model", "expr", "-vars", "x", "-expr_param", "k=1", "-expr_drift_x", "(-k * x + 0.5 * t)", "-expr_diffusion_x", "0.5",
            "-grid_n", "64", "-grid_lo", "-6", "-grid_hi", "6", "-t_final", "0.5", "-output_every", "0.1", "-ts_adapt_type", "none", "-ts_dt", "0.01"]
    out = tmpdir("arch-ck-expr")
    p = run("run", expr + ["-output_dir", out, "-ts_max_steps", "20"], expect_ok=False)
    check(p.returncode == 3, f"an expression run stops after a checkpoint (exit {p.returncode})")
    refused("another expression formula", with_option(expr, "-expr_drift_x", "(-k * x + 0.6 * t)"), out + "/checkpoint.h5")
    refused("another diffusion formula", with_option(expr, "-expr_diffusion_x", "0.5 + 0 * t"), out + "/checkpoint.h5")
    p = run("run", expr + ["-output_dir", out, "-restart", "auto"], expect_ok=False)
    check(p.returncode == 0, f"... while the same formulas (with spaces) restart (exit {p.returncode}: {p.stderr.strip()[:300]})")

    linear = ["-model", "linear", "-vars", "x1,x2", "-linear_M", "-1,0.3,0.6,-0.8", "-linear_b", "0.2,-0.1", "-linear_D", "0.5,0.3",
              "-grid_n", "32", "-grid_lo", "-5", "-grid_hi", "5", "-t_final", "0.5", "-ts_adapt_type", "none", "-ts_dt", "0.01"]
    out = tmpdir("arch-ck-linear")
    p = run("run", linear + ["-output_dir", out, "-ts_max_steps", "10"], expect_ok=False)
    check(p.returncode == 3, f"a linear run stops after a checkpoint (exit {p.returncode})")
    refused("another -linear_M", with_option(linear, "-linear_M", "-1,0.3,0.5,-0.8"), out + "/checkpoint.h5")


section("restarts", restarts)

# --- 6. analyze reads formulas with spaces back from the snapshots ------------------
def analyze_spaces():
    out = tmpdir("arch-analyze")
    opts = ["-model", "expr", "-vars", "x,y", "-expr_drift_x", "(-x + 0.5 * t)", "-expr_diffusion_x", "0.5", "-expr_drift_y", "(x - 2 * y)",
            "-expr_diffusion_y", "0.3 + 0.1 * t", "-grid_n", "48", "-grid_lo", "-5", "-grid_hi", "5", "-init_mean", "1,0", "-init_cov", "0.3,0.2",
            "-t_final", "1", "-output_every", "0.25", "-snapshot_every", "0.5", "-output_dir", out]
    run("run", opts)
    p = run("analyze", sorted(glob.glob(out + "/density_*.h5")), ranks=2, expect_ok=False)
    check(p.returncode == 0, f"analyze of an expression run whose formulas contain spaces (exit {p.returncode}: {p.stderr.strip()[:300]})")
    a, r = read_csv(out + "/analysis/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
    at = [int(np.argmin(np.abs(r["t"] - t))) for t in a["t"]]
    cols = [k for k in r if not k.endswith("_cum")]
    check(list(a) == analyze_columns(list(r)) and np.allclose(r["t"][at], a["t"], rtol=0, atol=1e-12) and len(at) == 3,
          f"analyze writes the run's columns at the snapshot times {list(a['t'])}")
    diff = max(colscale_diff(a[k], r[k][at]) for k in cols)
    check(diff <= 1e-10, f"analyze reproduces every column but *_cum at the snapshot times (max diff {diff:.1e} <= 1e-10)")


section("analyze with spaces in formulas", analyze_spaces)

# --- 7. options prefixes and -help ------------------------------------------------
def ksp_views(text):
    """[(prefix, ksp type, pc type)] of every top-level KSP view in PETSc's output."""
    views, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)KSP Object: (?:\((\S+)\) )?", line)
        if not m:
            continue
        indent, prefix = m.group(1), m.group(2) or ""
        ksp_type = pc_type = None
        for j in range(i + 1, len(lines)):
            if ksp_type is None and lines[j].strip().startswith("type:"):
                ksp_type = lines[j].split(":", 1)[1].strip()
            if re.match(rf"^{indent}PC Object:", lines[j]):
                pc_type = next((x.split(":", 1)[1].strip() for x in lines[j + 1:j + 4] if x.strip().startswith("type:")), None)
                break
            if re.match(rf"^{indent}KSP Object:", lines[j]):
                break
        views.append((prefix, ksp_type, pc_type))
    return views


def prefixes():
    p = run("run", ["-model", "linear", "-grid_n", "24", "-init", "stationary", "-t_final", "0.1", "-stationary_ksp_type", "gmres",
                    "-stationary_pc_type", "jacobi", "-ksp_type", "bcgs", "-pc_type", "ilu", "-stationary_ksp_view", "-ksp_view",
                    "-output_dir", tmpdir("arch-prefix")], expect_ok=False)
    views = ksp_views(p.stdout)
    stationary = [v for v in views if v[0] == "stationary_"]
    stepper = [v for v in views if v[0] != "stationary_"]
    check(p.returncode == 0 and stationary and all(v[1:] == ("gmres", "jacobi") for v in stationary),
          f"the stationary solve is a KSP (stationary_) of type gmres with PC jacobi: {sorted(set(stationary))}")
    check(stepper and all(v[1:] == ("bcgs", "ilu") for v in stepper) and all("stationary" not in v[0] for v in stepper),
          f"the time stepper's KSP is not prefixed stationary_ and is bcgs/ilu: {sorted(set(stepper))} ({len(stepper)} views)")
    # -help lists the options each object reads; the stationary solver exists with -init stationary
    p = run("run", ["-model", "linear", "-grid_n", "16", "-t_final", "0.01", "-help", "-output_dir", tmpdir("arch-help")], expect_ok=False)
    text = p.stdout + p.stderr
    for option in ("-protocol", "-restart", "-stationary_ksp_"):
        check(re.search(rf"(^|\s){re.escape(option)}", text) is not None, f"infotherm run -model linear -help lists {option}")
    p = run("run", ["-model", "linear", "-grid_n", "16", "-t_final", "0.01", "-init", "stationary", "-help", "-output_dir", tmpdir("arch-help2")], expect_ok=False)
    text = p.stdout + p.stderr
    check(re.search(r"(^|\s)-stationary_ksp_type\b", text) is not None, "infotherm run -init stationary -help lists -stationary_ksp_type")


section("options prefixes", prefixes)

# --- 8. summary.json: schedules, base values, linear M b D ---------------------------
def numbers_in(node):
    """Every number of a JSON subtree, numbers written inside strings included."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in numbers_in(k) + numbers_in(v)]
    if isinstance(node, list):
        return [x for v in node for x in numbers_in(v)]
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [float(node)]
    if isinstance(node, str):
        return [float(x) for x in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", node)]
    return []


def find_keys(node, pred, path=""):
    """[(path, value)] of every key of the tree whose name satisfies pred."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if pred(k):
                found.append((f"{path}/{k}", v))
            found += find_keys(v, pred, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += find_keys(v, pred, f"{path}[{i}]")
    return found


def summaries():
    out = tmpdir("arch-summary")
    run("run", ["-model", "bistable", "-bistable_h", "0.2", "-grid_n", "64", "-protocol", "h:0@0,0.5@1", "-t_final", "1.5", "-output_every", "0.5", "-output_dir", out])
    s = read_json(out + "/summary.json")
    sched = find_keys(s, lambda k: "protocol" in k.lower() or "schedule" in k.lower())
    nums = [x for _, v in sched for x in numbers_in(v)]
    mentions_h = any(re.search(r"(^|[^a-z_])h([^a-z_]|$)", repr(v)) for _, v in sched)
    check(sched and 0.5 in nums and 1.0 in nums and mentions_h,
          f"summary.json records the schedule of h with its points 0.5 and 1 under a protocol/schedule key: {[p for p, _ in sched]} {[v for _, v in sched]}"[:400])
    check(s.get("parameters", {}).get("h") == 0.2, f"summary.json's parameters hold the base value h = 0.2, not a scheduled one: {s.get('parameters')}")

    out = tmpdir("arch-summary-linear")
    run("run", ["-model", "linear", "-vars", "x1,x2", "-linear_M", "-1,0.3,0.6,-0.8", "-linear_b", "0.2,-0.1", "-linear_D", "0.5,0.3",
                "-grid_n", "24", "-grid_lo", "-5", "-grid_hi", "5", "-t_final", "0.1", "-output_dir", out])
    s = read_json(out + "/summary.json")
    s.pop("final", None)
    for names, values in ((("M", "linear_M"), [-1, 0.3, 0.6, -0.8]), (("b", "linear_b"), [0.2, -0.1]), (("D", "linear_D"), [0.5, 0.3])):
        found = find_keys(s, lambda k: k in names)
        ok = any(len(numbers_in(v)) == len(values) and np.allclose(numbers_in(v), values, rtol=1e-12, atol=0) for _, v in found)
        check(ok, f"summary.json of a linear run records {names[0]} = {values}: {found}")


section("summary.json", summaries)
finish()
