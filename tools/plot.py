#!/usr/bin/python3
"""Plots an infotherm results directory.

    tools/plot.py RESULTS_DIR [--stationary] [--snapshot FILE] [--log] [--dpi N]

Reads RESULTS_DIR/diagnostics.csv, RESULTS_DIR/summary.json and the last
density snapshot of `run` (with --stationary, or when the folder holds no
run: stationary.csv, stationary_summary.json and density_stationary.h5 of
`stationary`), and writes into RESULTS_DIR

  diagnostics.png  the time series of every column of diagnostics.csv, grouped
                   in panels (mass, entropies, information, means, variances,
                   entropy budget, heat, information flows, cumulative, other);
                   panels whose columns are absent are skipped. A stationary
                   directory (rows at t = inf only) is drawn as bar charts of
                   the stationary values instead. Under -error_estimate each
                   curve carries a band q +- q_uncertainty (bars on the bar
                   charts), and rows whose bar is not trusted are marked x /
                   drawn red (doc/physics.md §5); _err and _extrap are never
                   drawn as curves.
  mc.png           a Monte Carlo table (mc.csv of `mc`, crosscheck_mc.csv of
                   `crosscheck`): every estimate over time with a band of
                   +-2 standard errors.
  crosscheck.png   a `crosscheck` folder: tools/plot_crosscheck.py's figure
                   (and diagnostics.png from crosscheck_diagnostics.csv).
  spectrum.png     a `spectrum` folder: the rates lambda_k (and their
                   imaginary parts) against k, with error bars from
                   lambda_uncertainty under -error_estimate.
  density.png      the last density: 1 variable a line, 2 variables a heat
                   map, 3 variables the three 2-D marginals as heat maps, 4 to
                   6 variables a corner plot (every 1-D marginal on the
                   diagonal, every pair's marginal as a heat map below it).

Column names and snapshot layout follow doc/physics.md §3 and doc/design.md: the HDF5
dataset /density is in natural ordering (slowest axis first, i.e. shape
(n_{d-1}, .., n1, n0)), with attributes time, dim, n<i>, lo<i>, hi<i> and one integer
attribute per variable name holding its axis. Cell centres are
lo + (i + 1/2) h. Prints the path of every file it writes.

Needs Debian's python3 with numpy, matplotlib and h5py (/usr/bin/python3).
"""
import argparse
import glob
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# the reader is the package's (python/infotherm of this source tree, else the installed one)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_ROOT, "python", "infotherm")):
    sys.path.insert(0, os.path.join(_ROOT, "python"))
import infotherm  # noqa: E402

try:
    import h5py  # noqa: E402,F401  (infotherm.read_density needs it)
except ImportError:  # the density plot is optional; the diagnostics still work
    h5py = None

NATS = "nats"


# ---------------------------------------------------------------- reading ---

def read_summary(directory, name="summary.json"):
    """summary.json (or name) as a dict (infotherm.read_json), or {} when it is missing or unreadable."""
    path = os.path.join(directory, name)
    try:
        return infotherm.read_json(path)
    except (OSError, ValueError) as err:
        print(f"plot.py: note: no usable {path} ({err})", file=sys.stderr)
        return {}


def read_diagnostics(directory, name="diagnostics.csv"):
    """(names, data) of diagnostics.csv (or name): names of the columns, data[row, col]
    (infotherm.read_columns, leaving out a last row being written right now)."""
    path = os.path.join(directory, name)
    try:
        table = infotherm.read_columns(path, partial=True)
    except ValueError as err:
        raise SystemExit(f"plot.py: error: {path}: {err}")
    names = table.columns
    data = np.stack([table[n] for n in names], axis=1) if len(table) else np.zeros((0, len(names)))
    if names[0] != "t":
        raise SystemExit(f"plot.py: error: the first column of {path} is '{names[0]}', not 't'")
    return names, data


def snapshot_index(path):
    m = re.search(r"density_(\d+)\.h5$", path)
    return int(m.group(1)) if m else None


def find_snapshot(directory, stationary_only):
    """The snapshot to draw: density_stationary.h5 for a stationary directory,
    else the highest-numbered density_NNNN.h5 (falling back on the other)."""
    numbered = sorted((p for p in glob.glob(os.path.join(directory, "density_*.h5"))
                       if snapshot_index(p) is not None), key=snapshot_index)
    stationary = os.path.join(directory, "density_stationary.h5")
    has_stationary = os.path.exists(stationary)
    if stationary_only and has_stationary:
        return stationary
    if numbered:
        return numbered[-1]
    return stationary if has_stationary else None


def read_density(path, fallback_names):
    """(p, coords, edges, names, time, model): p indexed [x0, x1, ...] (infotherm.read_density)."""
    p, attrs = infotherm.read_density(path)
    scalar = lambda v: v.item() if hasattr(v, "item") else v  # noqa: E731
    dim = p.ndim
    known = {"time", "dim", "model"}
    names = [None] * dim
    for key, value in attrs.items():
        if key in known or re.fullmatch(r"(n|lo|hi)\d+", key):
            continue
        try:
            axis = int(scalar(value))
        except (TypeError, ValueError):
            continue
        if 0 <= axis < dim and names[axis] is None:
            names[axis] = key
    for i in range(dim):
        if names[i] is None:
            names[i] = fallback_names[i] if i < len(fallback_names) else f"x{i}"
    coords, edges = [], []
    for i in range(dim):
        n = int(scalar(attrs.get(f"n{i}", p.shape[i])))
        lo = float(scalar(attrs.get(f"lo{i}", 0.0)))
        hi = float(scalar(attrs.get(f"hi{i}", float(n))))
        h = (hi - lo) / n
        coords.append(lo + (np.arange(n) + 0.5) * h)
        edges.append(lo + np.arange(n + 1) * h)
    time = float(scalar(attrs.get("time", float("nan"))))
    model = scalar(attrs.get("model", b""))
    if isinstance(model, bytes):
        model = model.decode(errors="replace")
    return p, coords, edges, names, time, str(model)


# --------------------------------------------------------------- grouping ---

def panel_groups(columns, variables):
    """Ordered list of (title, [columns]); every column lands in exactly one."""
    var_alt = "|".join(re.escape(v) for v in sorted(variables, key=len, reverse=True)) or r"[^_]+"

    def unit_suffix(name, prefix):
        """For heat_rate_<var>[_<unit>]: the unit, or '' for k_B T per time."""
        rest = name[len(prefix):]
        m = re.fullmatch(rf"({var_alt})(?:_(.+))?", rest)
        if m:
            return m.group(2) or ""
        return rest.split("_")[-1] if "_" in rest else ""

    rules = [
        ("mass − 1", lambda c: c == "mass"),
        (f"entropy [{NATS}]", lambda c: c == "entropy" or (c.startswith("entropy_")
                                                            and not c.startswith(("entropy_production", "entropy_flow", "entropy_rate"))
                                                            and not c.endswith("_cum"))),
        (f"information [{NATS}]", lambda c: (c.startswith(("mutual_information", "mi_"))) and not c.endswith("_cum")),
        (f"KL divergence to stationary [{NATS}]", lambda c: c.startswith("kl_to_stationary")),
        ("means", lambda c: c.startswith("mean_")),
        ("variances and decoding error", lambda c: c.startswith(("var_", "decoding_mse"))),
        (f"entropy budget [{NATS}/time]", lambda c: not c.endswith("_cum") and (
            c.startswith(("entropy_production", "entropy_flow", "entropy_rate", "kl_rate")))),
        ("heat", lambda c: c.startswith("heat_rate_") and not c.endswith("_cum")),
        (f"information flows [{NATS}/time]", lambda c: c.startswith("info_flow") and not c.endswith("_cum")),
        ("cost per bit [k_B T/bit]", lambda c: c.startswith("cost_per_bit")),
        ("cumulative (time integrals)", lambda c: c.endswith("_cum")),
    ]
    groups, used = [], set()
    for title, pred in rules:
        members = [c for c in columns if c not in used and pred(c)]
        if not members:
            continue
        used.update(members)
        if title == "heat":  # one panel per unit (k_B T/time, W, ATP/s, ...)
            by_unit = {}
            for c in members:
                by_unit.setdefault(unit_suffix(c, "heat_rate_"), []).append(c)
            for unit, cols in by_unit.items():
                groups.append((f"heat rate [{unit or 'k_B T/time'}]", cols))
        else:
            if title.startswith("variances") and not any(c.startswith("decoding_mse") for c in members):
                title = "variances"
            groups.append((title, members))
    rest = [c for c in columns if c not in used]
    if rest:
        groups.append(("other", rest))
    return groups


# --------------------------------------------------------------- plotting ---

def describe(summary):
    bits = []
    if summary.get("model"):
        bits.append(f"model {summary['model']}")
    if summary.get("command"):
        bits.append(summary["command"])
    grid = summary.get("grid") or {}
    if grid.get("n"):
        bits.append("grid " + "×".join(str(n) for n in grid["n"]))
    if "ranks" in summary:
        bits.append(f"{summary['ranks']} rank(s)")
    if "wall_time" in summary:
        bits.append(f"{summary['wall_time']:.3g} s")
    if summary.get("box_too_small"):
        bits.append("BOX TOO SMALL")
    return ", ".join(bits)


def panel_layout(npanels):
    ncols = 1 if npanels == 1 else 2
    nrows = math.ceil(npanels / ncols)
    return nrows, ncols


ERROR_BAR_SUFFIXES = ("_err", "_extrap", "_uncertainty", "_trusted")


def plot_diagnostics(names, data, summary, out_path, dpi):
    # -error_estimate's columns are drawn as bands (and error bars) on their
    # quantity's curve from <q>_uncertainty, untrusted rows marked; never as
    # curves of their own (doc/physics.md §5)
    columns = [c for c in names[1:] if not c.endswith(ERROR_BAR_SUFFIXES)]
    t = data[:, 0]
    finite = np.isfinite(t)
    stationary_only = not finite.any()
    groups = panel_groups(columns, summary.get("variables") or [])
    nrows, ncols = panel_layout(len(groups))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 2.9 * nrows + 0.6),
                             squeeze=False, sharex=not stationary_only,
                             constrained_layout=True)
    axes = axes.ravel()
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    index = {c: k + 1 for k, c in enumerate(names[1:])}
    for ax, (title, cols) in zip(axes, groups):
        ax.set_title(title, fontsize=10)
        if stationary_only:
            plot_stationary_panel(ax, title, cols, data[-1], index)
        else:
            plot_time_panel(ax, title, cols, data, finite, index)
    if not stationary_only:
        for ax in axes[max(0, len(groups) - ncols):len(groups)]:
            ax.set_xlabel("t")
        for ax in axes[:len(groups)]:
            ax.tick_params(labelbottom=True)
    head = "stationary state" if stationary_only else f"t = {t[finite][0]:g} … {t[finite][-1]:g}"
    fig.suptitle(f"{describe(summary)}\n{head}", fontsize=11)
    fig.savefig(out_path, dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


LINESTYLES = ["-", "--", "-.", ":"]


def plot_time_panel(ax, title, cols, data, finite, index):
    t = data[finite, 0]
    marker = "o" if finite.sum() < 5 else None
    logy = title.startswith("KL")
    is_mass = title.startswith("mass")
    drawn = []
    for k, c in enumerate(cols):
        y = data[finite, index[c]]
        if c == "mass":
            y = y - 1.0
        if logy:
            y = np.where(y > 0, y, np.nan)
        # line styles cycle so that coinciding curves (e.g. mutual_information
        # and mi_v_r with two variables) stay visible
        line, = ax.plot(t, y, marker=marker, ms=3, lw=1.4, ls=LINESTYLES[k % len(LINESTYLES)], label=c)
        drawn.append(y)
        if c + "_uncertainty" in index:  # -error_estimate: the band q ± q_uncertainty
            u = data[finite, index[c + "_uncertainty"]]
            ax.fill_between(t, y - u, y + u, color=line.get_color(), alpha=0.25, lw=0)
            untrusted = data[finite, index[c + "_trusted"]] == 0 if c + "_trusted" in index else np.zeros(len(t), bool)
            if untrusted.any():
                ax.plot(t[untrusted], y[untrusted], ls="none", marker="x", ms=5, color=line.get_color(),
                        label=f"{c}: error bar not trusted")
        # rows at t = inf (a stationary value) as a dashed level
        for row in data[~finite]:
            level = row[index[c]] - (1.0 if c == "mass" else 0.0)
            if np.isfinite(level):
                ax.axhline(level, ls="--", lw=0.9, color=line.get_color())
    if logy and np.isfinite(np.nanmax(ax.get_ylim())):
        ax.set_yscale("log")
    elif not is_mass and len(t) > 5:
        symlog_if_spiky(ax, t, drawn)
    if is_mass:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3), useOffset=False)
    if any(title.startswith(k) for k in ("entropy budget", "heat", "information flows", "cumulative")):
        ax.axhline(0, color="0.6", lw=0.6)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2 if len(cols) > 4 else 1, loc="best")


def symlog_if_spiky(ax, t, curves):
    """A start-up spike (e.g. the entropy production of a narrow initial
    density) would flatten the rest of the curve: then the y axis becomes
    logarithmic, or, for curves that change sign, linear below a tenth of
    the late-time scale and logarithmic beyond (a curve crossing that
    threshold shows a slight bend which is the scale's, not the data's)."""
    signed = np.concatenate(curves)
    signed = signed[np.isfinite(signed)]
    late = np.abs(np.concatenate([y[t >= t[0] + 0.2 * (t[-1] - t[0])] for y in curves]))
    late = late[np.isfinite(late)]
    if signed.size == 0 or late.size == 0:
        return
    scale = np.percentile(late, 95)
    if not (scale > 0 and np.abs(signed).max() > 30 * scale):
        return
    if signed.min() > 0:
        ax.set_yscale("log")
    else:
        ax.set_yscale("symlog", linthresh=scale / 10, linscale=1.0)


def plot_stationary_panel(ax, title, cols, row, index):
    values = np.array([row[index[c]] - (1.0 if c == "mass" else 0.0) for c in cols])
    shown = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    pos = np.arange(len(cols))
    xerr = [row[index[c + "_uncertainty"]] if c + "_uncertainty" in index else 0.0 for c in cols]
    colors = ["C3" if c + "_trusted" in index and row[index[c + "_trusted"]] == 0 else "C0" for c in cols]
    ax.barh(pos, shown, height=0.6, color=colors, xerr=np.nan_to_num(xerr), capsize=3)  # C3: bar not trusted
    ax.set_yticks(pos)
    ax.set_yticklabels(cols, fontsize=8)
    ax.set_ylim(len(cols) - 0.4, -0.6)  # first column on top, room for one bar
    # values below 1e-6 of the largest (round-off around 0) do not set the axis
    big = np.abs(shown).max()
    visible = shown[np.abs(shown) >= 1e-6 * big] if big > 0 else shown
    lo, hi = min(0.0, visible.min()), max(0.0, visible.max())
    if lo == hi:  # every value is 0
        ax.set_xlim(-1.0, 1.0)
    else:
        span = hi - lo
        ax.set_xlim(lo - (0.3 * span if lo < 0 else 0), hi + (0.3 * span if hi > 0 else 0))
    ax.axvline(0, color="0.4", lw=0.6)
    for k, (v, x) in enumerate(zip(values, shown)):
        left = x < 0 and lo < 0
        ax.annotate(f"{v:.8g}", (x, k), xytext=(-4 if left else 4, 0), textcoords="offset points",
                    ha="right" if left else "left", va="center", fontsize=8, color="0.1")
    if title.startswith("mass"):
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3), useOffset=False)
    ax.grid(alpha=0.3, axis="x")


def time_label(time):
    if math.isinf(time):
        return "stationary"
    return f"t = {time:.6g}"


def heat_map(fig, ax, p2, ex, ey, xlabel, ylabel, log):
    """p2 indexed [x, y]; drawn with x horizontal on the cell edges."""
    z = p2.T
    if log:
        floor = max(z.max() * 1e-12, np.finfo(float).tiny)
        z = np.log10(np.maximum(z, floor))
        label = "log10 density"
    else:
        label = "density"
    mesh = ax.pcolormesh(ex, ey, z, shading="flat", cmap="viridis", rasterized=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(mesh, ax=ax, label=label, shrink=0.9)


def marginal_of(p, h, keep):
    """The marginal of p over the axes in keep (in increasing order)."""
    other = tuple(i for i in range(p.ndim) if i not in keep)
    return p.sum(axis=other) * (np.prod([h[i] for i in other]) if other else 1.0)


def corner_plot(p, coords, edges, names, h, log):
    """Four variables or more: every 1-D marginal on the diagonal, every pair's
    marginal below it (a d x d corner plot)."""
    dim = p.ndim
    fig, axes = plt.subplots(dim, dim, figsize=(2.9 * dim, 2.6 * dim), constrained_layout=True)
    for a in range(dim):
        for b in range(dim):
            ax = axes[a][b]
            if b > a:
                ax.axis("off")
            elif a == b:
                ax.plot(coords[a], marginal_of(p, h, (a,)), lw=1.5)
                ax.set_xlabel(names[a])
                ax.set_ylabel(f"p({names[a]})")
                ax.set_xlim(edges[a][0], edges[a][-1])
                if log:
                    ax.set_yscale("log")
                ax.grid(alpha=0.3)
            else:
                heat_map(fig, ax, marginal_of(p, h, (b, a)), edges[b], edges[a], names[b], names[a], log)
    return fig


def plot_density(path, summary, out_path, dpi, log):
    p, coords, edges, names, time, model = read_density(path, summary.get("variables") or [])
    dim = p.ndim
    h = [e[1] - e[0] for e in edges]
    mass = p.sum() * np.prod(h)
    title = f"{model or summary.get('model', '')}: {time_label(time)}, mass {mass:.12g}\n{os.path.basename(path)}"
    if dim == 1:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        ax.plot(coords[0], p, lw=1.5)
        ax.set_xlabel(names[0])
        ax.set_ylabel(f"p({names[0]})")
        ax.set_xlim(edges[0][0], edges[0][-1])
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    elif dim == 2:
        fig, ax = plt.subplots(figsize=(6.8, 5.2), constrained_layout=True)
        heat_map(fig, ax, p, edges[0], edges[1], names[0], names[1], log)
    elif dim == 3:
        fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), constrained_layout=True)
        for ax, (a, b) in zip(axes, [(0, 1), (0, 2), (1, 2)]):
            other = 3 - a - b
            marginal = p.sum(axis=other) * h[other]  # p indexed [x0, x1, x2]
            heat_map(fig, ax, marginal, edges[a], edges[b], names[a], names[b], log)
            ax.set_title(f"p({names[a]}, {names[b]})", fontsize=10)
    else:
        fig = corner_plot(p, coords, edges, names, h, log)
    fig.suptitle(title, fontsize=11)
    fig.savefig(out_path, dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


# ------------------------------------------------- mc, crosscheck, spectrum ---

def plot_mc(directory, table, summary, out_path, dpi):
    """mc.csv: every estimate over time, its +-2 standard errors as a band."""
    names, data = read_diagnostics(directory, table)
    columns = [c for c in names[1:] if not c.endswith("_stderr")]
    groups = panel_groups(columns, summary.get("variables") or [])
    nrows, ncols = panel_layout(len(groups))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 2.9 * nrows + 0.6), squeeze=False,
                             sharex=True, constrained_layout=True)
    axes = axes.ravel()
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    stderr2 = data.copy()
    index = {c: k + 1 for k, c in enumerate(names[1:])}
    for c in columns:  # the band's half-width: 2 standard errors
        if c + "_stderr" in index:
            stderr2[:, index[c + "_stderr"]] *= 2
            index[c + "_uncertainty"] = index[c + "_stderr"]
    finite = np.isfinite(data[:, 0])
    for ax, (title, cols) in zip(axes, groups):
        ax.set_title(title + " (Monte Carlo ± 2 se)", fontsize=10)
        plot_time_panel(ax, title, cols, stderr2, finite, index)
        ax.set_xlabel("t")
    fig.suptitle(f"{describe(summary)}\nMonte Carlo", fontsize=11)
    fig.savefig(out_path, dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def plot_spectrum(directory, summary, out_path, dpi):
    """spectrum.csv: lambda_k and its imaginary part against k, with error bars."""
    data = infotherm.read_columns(os.path.join(directory, "spectrum.csv"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, part in zip(axes, ("lambda", "lambda_imag")):
        err = data.get(part + "_uncertainty")
        ax.errorbar(data["k"], data[part], yerr=None if err is None else np.nan_to_num(err), fmt="o", capsize=3,
                    label=part + (" ± uncertainty" if err is not None else ""))
        if part + "_trusted" in data:
            bad = data[part + "_trusted"] == 0
            if bad.any():
                ax.plot(data["k"][bad], data[part][bad], "x", color="C3", ms=8, label="error bar not trusted")
        ax.set_xlabel("k")
        ax.set_title("relaxation rates Re λ_k" if part == "lambda" else "Im λ_k")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(describe(summary), fontsize=11)
    fig.savefig(out_path, dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def plot_other_folders(directory, dpi):
    """The mc, crosscheck and spectrum outputs of the folder: the paths written."""
    written = []
    for table, summary_name in (("mc.csv", "mc_summary.json"), ("crosscheck_mc.csv", "crosscheck_mc_summary.json")):
        if os.path.exists(os.path.join(directory, table)):
            out = os.path.join(directory, "mc.png")
            plot_mc(directory, table, read_summary(directory, summary_name), out, dpi)
            written.append(out)
    if os.path.exists(os.path.join(directory, "crosscheck.json")):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import contextlib
        import io
        import plot_crosscheck
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its path; main() prints every path
            plot_crosscheck.main([directory, "--dpi", str(dpi)])
        written.append(os.path.join(directory, "crosscheck.png"))
    if os.path.exists(os.path.join(directory, "spectrum.csv")):
        out = os.path.join(directory, "spectrum.png")
        plot_spectrum(directory, read_summary(directory, "spectrum_summary.json"), out, dpi)
        written.append(out)
    return written


# ------------------------------------------------------------------- main ---

def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot an infotherm results directory: diagnostics.png (time series "
                    "of diagnostics.csv) and density.png (the last density snapshot).")
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="directory written by infotherm run/stationary")
    parser.add_argument("--stationary", action="store_true",
                        help="plot the outputs of `stationary` (the default when the folder holds no run)")
    parser.add_argument("--snapshot", metavar="FILE",
                        help="density snapshot to draw instead of the last one")
    parser.add_argument("--log", action="store_true",
                        help="logarithmic density scale (shows the tails)")
    parser.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    args = parser.parse_args(argv)

    directory = args.results_dir
    if not os.path.isdir(directory):
        parser.error(f"{directory} is not a directory")
    stationary = args.stationary or (not os.path.exists(os.path.join(directory, "diagnostics.csv"))
                                     and os.path.exists(os.path.join(directory, "stationary.csv")))
    table, summary_name = ("stationary.csv", "stationary_summary.json") if stationary else ("diagnostics.csv", "summary.json")
    if os.path.exists(os.path.join(directory, "crosscheck_diagnostics.csv")):
        table, summary_name = "crosscheck_diagnostics.csv", "crosscheck_summary.json"
    written = plot_other_folders(directory, args.dpi)
    if written and not os.path.exists(os.path.join(directory, table)):  # mc or spectrum alone
        for path in written:
            print(path)
        return 0
    summary = read_summary(directory, summary_name)

    csv_path = os.path.join(directory, table)
    stationary_only = stationary
    if os.path.exists(csv_path):
        names, data = read_diagnostics(directory, table)
        if data.shape[0] == 0:
            print(f"plot.py: note: {csv_path} has no rows yet", file=sys.stderr)
        else:
            stationary_only = not np.isfinite(data[:, 0]).any()
            out = os.path.join(directory, "diagnostics.png")
            plot_diagnostics(names, data, summary, out, args.dpi)
            written.append(out)
    else:
        print(f"plot.py: note: no {csv_path}", file=sys.stderr)

    snapshot = args.snapshot or find_snapshot(directory, stationary_only)
    if snapshot is None:
        print(f"plot.py: note: no density_*.h5 in {directory}", file=sys.stderr)
    elif h5py is None:
        print("plot.py: note: h5py is not available; no density.png (use /usr/bin/python3)", file=sys.stderr)
    else:
        out = os.path.join(directory, "density.png")
        plot_density(snapshot, summary, out, args.dpi, args.log)
        written.append(out)

    if not written:
        print(f"plot.py: error: nothing to plot in {directory}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
