"""A model's parameters are options with the model's name as a prefix
(-bistable_sigma_w, doc/options.md); the bare names of earlier releases
(-sigma_w) still work for one release: the same numbers as the new names, on
the command line or in an options file, with one line on stderr however many
old names are given and however many ranks run; -options_suppress_deprecated_warnings
(PETSc's switch) silences it. An old name given together with its new one, an
old name without a value, a misspelt name and another model's parameter are
refused with one line. The same holds for the options a model reads besides
its parameters (-tuning -> -inference_tuning, -tuning1 -> -population_tuning1,
-w_noise -> -hebbian_w_noise): one line on stderr for parameters and options
together. A snapshot of an earlier release, which stores the
bare names in /options, is analyzed as one with the new names, with the
warning; the command line's new name wins over its stored old one."""
import os
import shutil

import h5py
from common import *

BASE = ["-model", "bistable", "-grid_n", "64"]
NEW = ["-bistable_sigma_w", "0.45", "-bistable_h", "0.1"]
OLD = ["-sigma_w", "0.45", "-h", "0.1"]


def warnings(proc):
    return [l for l in proc.stderr.splitlines() if l.strip()]


def stationary(options, name, ranks=1):
    out = tmpdir(name)
    proc = run("stationary", BASE + options + ["-output_dir", out], ranks=ranks)
    return proc, out


def same(ref, out, label):
    """The same numbers: the two runs' stationary.csv are the same bytes."""
    with open(os.path.join(ref, "stationary.csv"), "rb") as a, open(os.path.join(out, "stationary.csv"), "rb") as b:
        check(a.read() == b.read(), label + ": stationary.csv, byte for byte")


for ranks in (1, 2):
    ref, ref_out = stationary(NEW, f"new{ranks}", ranks)
    check(not warnings(ref), f"the new names on {ranks} rank(s): nothing on stderr ({warnings(ref)})")
    if ranks == 1:
        first = ref_out
    proc, out = stationary(OLD, f"old{ranks}", ranks)
    said = warnings(proc)
    check(len(said) == 1 and said[0].startswith("infotherm: warning: deprecated option names")
          and "-sigma_w -> -bistable_sigma_w" in said[0] and "-h -> -bistable_h" in said[0],
          f"the old names on {ranks} rank(s): one line on stderr naming both ({said})")
    same(ref_out, out, f"the old names on {ranks} rank(s) give the new names' numbers")

opts = tmpdir("old.opts")
with open(opts, "w") as f:
    f.write("-model bistable\n-sigma_w 0.45   # an options file of an earlier release\n-h 0.1\n")
proc, out = stationary(["-options_file", opts], "file")
check(len(warnings(proc)) == 1, f"old names in an options file: one warning ({warnings(proc)})")
same(first, out, "old names in an options file give the new names' numbers")

proc, out = stationary(OLD + ["-options_suppress_deprecated_warnings"], "quiet")
check(not warnings(proc), f"-options_suppress_deprecated_warnings: nothing on stderr ({warnings(proc)})")
same(first, out, "silenced, the same numbers")

snaps = tmpdir("snapshots")
run("run", BASE + NEW + ["-t_final", "0.2", "-output_every", "0.1", "-snapshot_every", "0.1", "-output_dir", snaps])
old_snaps = tmpdir("old-snapshots")
os.makedirs(old_snaps)
for name in ("density_0001.h5", "density_0002.h5"):
    shutil.copy(os.path.join(snaps, name), old_snaps)
    with h5py.File(os.path.join(old_snaps, name), "r+") as f:  # as an earlier release stored them
        for new, bare in (("bistable_sigma_w", "sigma_w"), ("bistable_h", "h")):
            f["options"].attrs.create(bare, f["options"].attrs[new], dtype=f["options"].attrs.get_id(new).dtype)
            del f["options"].attrs[new]
analyzed = {}
for label, folder, extra in (("new", snaps, []), ("old", old_snaps, []), ("old+new", old_snaps, ["-bistable_h", "0.1"])):
    out = tmpdir("analysis-" + label)
    proc = run("analyze", [folder + "/density_0001.h5", folder + "/density_0002.h5", "-output_dir", out] + extra)
    analyzed[label] = (warnings(proc), out)
check(not analyzed["new"][0] and len(analyzed["old"][0]) == 1 and "-h -> -bistable_h" in analyzed["old"][0][0]
      and len(analyzed["old+new"][0]) == 1 and "-h -> " not in analyzed["old+new"][0][0],
      f"analyze: snapshots storing the old names warn once; a new name on the command line wins over a stored old one "
      f"({analyzed['new'][0]}, {analyzed['old'][0]}, {analyzed['old+new'][0]})")
for label in ("old", "old+new"):
    with open(analyzed["new"][1] + "/diagnostics.csv", "rb") as a, open(analyzed[label][1] + "/diagnostics.csv", "rb") as b:
        check(a.read() == b.read(), f"analyze of the snapshots with {label} names: the same diagnostics.csv, byte for byte")

expect_refused("an old name in an options file and its new name on the command line", "stationary",
               ["-options_file", opts, "-bistable_sigma_w", "0.3"], ["-sigma_w", "-bistable_sigma_w", "both"], ranks=(1, 2))
expect_refused("an old name without a value", "stationary", BASE + ["-sigma_w"], ["-sigma_w", "without a value"])
expect_refused("a misspelt new name", "stationary", BASE + ["-bistable_sigma_ww", "0.3"],
               ["-bistable_sigma_ww", "did you mean -bistable_sigma_w"])
expect_refused("a misspelt old name", "stationary", BASE + ["-sigma_ww", "0.3"],
               ["-sigma_ww", "did you mean -bistable_sigma_w"])
expect_refused("another model's parameter", "stationary", BASE + ["-inference_tau_r", "0.3"],
               ["-inference_tau_r", "model inference"])
expect_refused("an old name of another model", "stationary", BASE + ["-tau_r", "0.3"], ["-tau_r"])

# a model's own options: the tuning curves and the synaptic noise
TUNED = ["-model", "inference", "-grid_n", "32"]
ref_out = tmpdir("tuning-new")
ref = run("stationary", TUNED + ["-inference_tuning", "bell", "-inference_tau_r", "0.2", "-output_dir", ref_out])
check(not warnings(ref), f"-inference_tuning: nothing on stderr ({warnings(ref)})")
out = tmpdir("tuning-old")
proc = run("stationary", TUNED + ["-tuning", "bell", "-tau_r", "0.2", "-output_dir", out])
said = warnings(proc)
check(len(said) == 1 and "-tuning -> -inference_tuning" in said[0] and "-tau_r -> -inference_tau_r" in said[0],
      f"-tuning and -tau_r: one line naming both ({said})")
same(ref_out, out, "-tuning bell gives -inference_tuning bell's numbers")
# info shows the model (its tuning curves and noise among the rest)
for model, old, new, value in (("population", "-tuning2", "-population_tuning2", "bell"),
                               ("hebbian", "-w_noise", "-hebbian_w_noise", "multiplicative"),
                               ("population_plastic", "-tuning1", "-population_plastic_tuning1", "linear")):
    views = {}
    for label, name in (("new", new), ("old", old)):
        proc = run("info", ["-model", model, name, value])
        views[label] = (proc.stdout, warnings(proc))
    check(not views["new"][1] and len(views["old"][1]) == 1 and f"{old} -> {new}" in views["old"][1][0],
          f"{model}: {old} warns once, {new} not ({views['old'][1]})")
    check(views["old"][0] == views["new"][0] and value in views["new"][0],
          f"{model}: {old} {value} and {new} {value} give the same model (info)")
# a snapshot of an earlier release that stores -tuning: analyzed as one storing -inference_tuning
snaps, old_snaps = tmpdir("tuning-snapshots"), tmpdir("tuning-old-snapshots")
run("run", TUNED + ["-inference_tuning", "bell", "-t_final", "0.2", "-output_every", "0.1", "-snapshot_every", "0.1",
                    "-output_dir", snaps])
os.makedirs(old_snaps)
for name in ("density_0001.h5", "density_0002.h5"):
    shutil.copy(os.path.join(snaps, name), old_snaps)
    with h5py.File(os.path.join(old_snaps, name), "r+") as f:
        stored = f["options"].attrs
        stored.create("tuning", stored["inference_tuning"], dtype=stored.get_id("inference_tuning").dtype)
        del stored["inference_tuning"]
analyzed = {}
for label, folder, extra in (("new", snaps, []), ("old", old_snaps, []), ("old+new", old_snaps, ["-inference_tuning", "bell"])):
    out = tmpdir("tuning-analysis-" + label)
    proc = run("analyze", [folder + "/density_0001.h5", folder + "/density_0002.h5", "-output_dir", out] + extra)
    analyzed[label] = (warnings(proc), out)
check(not analyzed["new"][0] and len(analyzed["old"][0]) == 1 and "-tuning -> -inference_tuning" in analyzed["old"][0][0]
      and not analyzed["old+new"][0],
      f"analyze: a stored -tuning warns once, -inference_tuning on the command line wins over it "
      f"({analyzed['new'][0]}, {analyzed['old'][0]}, {analyzed['old+new'][0]})")
for label in ("old", "old+new"):
    with open(analyzed["new"][1] + "/diagnostics.csv", "rb") as a, open(analyzed[label][1] + "/diagnostics.csv", "rb") as b:
        check(a.read() == b.read(), f"analyze of the snapshots storing -tuning ({label}): the same diagnostics.csv, byte for byte")
expect_refused("-tuning and -inference_tuning both given", "stationary",
               TUNED + ["-tuning", "bell", "-inference_tuning", "linear"], ["-tuning", "-inference_tuning", "both"])
expect_refused("-w_noise without a value", "info", ["-model", "hebbian", "-w_noise"], ["-w_noise", "without a value"])
expect_refused("another model's option, old name", "stationary", BASE + ["-tuning", "bell"], ["-tuning"])
expect_refused("another model's option, new name", "stationary", BASE + ["-inference_tuning", "bell"],
               ["-inference_tuning", "-model bistable"])
finish()
