exec(open("tests/test_hostile.py").read().split("# ------------------------------------------------------- hangs")[0])
W="wrong numbers"
# densities that are not normalised: scaled, integer, subnormal
import h5py
base = tmpdir("density-base")
run("stationary", ["-model", "linear", "-grid_n", "16", "-output_dir", base])
source = base + "/density_stationary.h5"


def altered(name, change):
    path = tmpdir(name) + ".h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        d = f["density"]
        data, attrs = np.array(d[...]), dict(d.attrs)
        data = change(data)
        del f["density"]
        n = f.create_dataset("density", data=data)
        for k, v in attrs.items():
            n.attrs[k] = v
    return path


twice = altered("twice", lambda a: 2 * a)
integer = altered("integer", lambda a: np.round(a * 1000).astype(np.int64))
tiny = altered("subnormal", lambda a: a * 1e-310)
refused(W, "analyze a snapshot x 2", "analyze", [twice], twice)
refused(W, "analyze an integer dataset", "analyze", [integer], integer)
refused(W, "-kl_reference subnormal", "run", TINY + ["-kl_reference", tiny], tiny)
refused(W, "-init_file subnormal", "run", TINY + ["-init", "file", "-init_file", tiny], tiny)
refused(W, "-init_file x 2", "run", TINY + ["-init", "file", "-init_file", twice], twice)
# a checkpoint x 2
out = tmpdir("ckpt2")
run("run", TINY + ["-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
with h5py.File(out + "/checkpoint.h5", "r+") as f:
    f["density"][...] = 2 * f["density"][...]
refused(W, "restart from a checkpoint x 2", "run", TINY + ["-restart", "auto", "-output_dir", out], "checkpoint.h5", folder=out)

# a restart must not change what the columns mean
out = tmpdir("restart-meaning")
run("run", TINY + ["-temperature", "300", "-time_unit", "1e-3", "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
refused(W, "restart with another -temperature", "run", TINY + ["-temperature", "3", "-time_unit", "1e-3", "-restart", "auto", "-output_dir", out], "-temperature", folder=out)
refused(W, "restart with -t_final before the checkpoint", "run", TINY + ["-temperature", "300", "-time_unit", "1e-3", "-t_final", "1e-9", "-output_every", "1e-9", "-restart", "auto", "-output_dir", out], "-t_final", folder=out)
out = tmpdir("restart-kl")
run("run", TINY + ["-kl_reference", source, "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
other = tmpdir("other-ref")
run("stationary", ["-model", "linear", "-grid_n", "16", "-linear_D", "2,2", "-output_dir", other])
refused(W, "restart with another -kl_reference", "run", TINY + ["-kl_reference", other + "/density_stationary.h5", "-restart", "auto", "-output_dir", out], "-kl_reference", folder=out)

# a snapshot's time that is not a time; list options with an empty entry; integers that wrap
def set_time(value):
    def change(f):
        f["density"].attrs["time"] = value
    return change


def altered_attrs(name, change):
    path = tmpdir(name) + ".h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        change(f)
    return path


nan_time = altered_attrs("nan-time", set_time(float("nan")))
neg_time = altered_attrs("neg-time", set_time(-5.0))
refused(W, "analyze a snapshot at time NaN", "analyze", [nan_time], nan_time)
refused(W, "analyze a snapshot at time -5", "analyze", [neg_time], neg_time)
refused(W, "-grid_n 16,", "run", TINY + ["-grid_n", "16,"], "-grid_n")
refused(W, "-grid_n ,16", "run", TINY + ["-grid_n", ",16"], "-grid_n")
refused(W, "-grid_distribute x1,,x2", "run", TINY + ["-grid_distribute", "x1,,x2"], "-grid_distribute")
refused(W, "-spectrum_nev 4294967297", "spectrum", TINY + ["-spectrum_nev", "4294967297"], "-spectrum_nev")

# ----------------------------------------------------------------- crashes ---
C = "crashes"
ofdir = tmpdir("optfiles")
os.makedirs(ofdir)


def optfile(name, data):
    path = os.path.join(ofdir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


selfinc = optfile("self.opts", b"-model linear\n-options_file " + os.path.join(ofdir, "self.opts").encode() + b"\n")
a = optfile("a.opts", b"-model linear\n-options_file " + os.path.join(ofdir, "b.opts").encode() + b"\n")
optfile("b.opts", b"-grid_n 16\n-options_file " + a.encode() + b"\n")
os.symlink(selfinc, os.path.join(ofdir, "link.opts"))
vialink = optfile("vialink.opts", b"-options_file " + os.path.join(ofdir, "link.opts").encode() + b"\n")
refused(C, "an options file that includes itself", "run", ["-options_file", selfinc], selfinc)
refused(C, "options files that include each other", "run", ["-options_file", a], a)
refused(C, "an options file that includes itself through a symlink", "run", ["-options_file", vialink], vialink)
refused(C, "a directory as the options file", "run", ["-options_file", ofdir], ofdir)
big = optfile("big.opts", b"-model linear\n" + b"# padding\n" * 200000)
refused(C, "an options file of 2 MB", "run", ["-options_file", big], big)
nul = optfile("nul.opts", b"-model linear\n-grid_n 16\x00garbage\n-t_final 2\n")
refused(C, "a NUL byte in an options file", "run", ["-options_file", nul], nul)
binary = optfile("binary.opts", bytes(range(1, 256)) * 4)
refused(C, "binary content as the options file", "run", ["-options_file", binary], binary)
two = optfile("two.opts", b"-model linear\n-grid_n 16 -t_final 1\n")
refused(C, "two options on a line", "run", ["-options_file", two], two)
bom = optfile("bom.opts", b"\xef\xbb\xbf-model linear\n")
refused(C, "a byte-order mark", "run", ["-options_file", bom], bom)
nextline = optfile("nextline.opts", b"-model linear\n-t_final\n1\n")
refused(C, "a value on the next line", "run", ["-options_file", nextline], nextline)


# malformed HDF5 densities: one line naming the file, status 1
def reshaped(f, shape_of):
    d = f["density"]
    data, attrs = np.array(d[...]), dict(d.attrs)
    del f["density"]
    n = f.create_dataset("density", data=shape_of(data))
    for k, v in attrs.items():
        n.attrs[k] = v


def string_dim(f):
    f["density"].attrs["dim"] = "two"


def no_n1(f):
    del f["density"].attrs["n1"]


for label, change in [("a dataset of the wrong shape", lambda f: reshaped(f, lambda a: a.reshape(-1)[: a.size // 2])),
                      ("a 1-D dataset", lambda f: reshaped(f, lambda a: a.reshape(-1))),
                      ("a string dim", string_dim),
                      ("no attribute n1", no_n1)]:
    bad = altered_attrs("malformed", change)
    refused(C, f"analyze {label}", "analyze", [bad], bad)
    refused(C, f"-init_file {label}", "run", TINY + ["-init", "file", "-init_file", bad], bad, ranks=(1,))
refused(C, "-spectrum_eps_target nan", "spectrum", TINY + ["-spectrum_eps_target", "nan"], "-spectrum_eps_target")
refused(C, "-spectrum_eps_type power", "spectrum", TINY + ["-spectrum_eps_type", "power"], "-spectrum_eps_type")

print("cases by class:", ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
finish()
