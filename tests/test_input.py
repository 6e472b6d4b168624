"""Strict input: every case of bad input
stops the run with a non-zero exit status and exactly one line on stderr
naming the option to change, before anything is written (the output folder is
never created); some cases run on 2 ranks too. Good input that used to fail
(a formula that starts with '-', quoted formulas with spaces in an options
file) runs. Cases share processes where they can: most are refused within a
fraction of a second."""
import os
import re
from common import *

# a single rank runs as an MPI singleton: without the helper process Open MPI would start for it,
# it starts in half the time
os.environ.setdefault("OMPI_MCA_ess_singleton_isolated", "1")

EXPR = ["-model", "expr", "-vars", "v,r", "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1",
        "-expr_drift_r", "(-r)", "-expr_diffusion_r", "1", "-grid_n", "16"]


refused = expect_refused  # common.py


def expr_with(option, formula):
    """EXPR with one formula replaced."""
    opts = list(EXPR)
    opts[opts.index(option) + 1] = formula
    return opts


def info(options):
    """stdout of `infotherm info` (which writes nothing); "" if it failed."""
    proc = run("info", options, expect_ok=False)
    return proc.stdout if proc.returncode == 0 else ""


# --- item 4: expression pitfalls -------------------------------------------------
refused("a parameter named like a variable", "run", EXPR + ["-expr_param", "v=5"], ["-expr_param", "'v'", "variable"], ranks=(1, 2))
refused("a parameter named t", "run", EXPR + ["-expr_param", "t=5"], ["-expr_param", "'t'"])
refused("a parameter named like a muparser constant", "run", EXPR + ["-expr_param", "_e=5"], ["-expr_param", "'_e'", "muparser"])
refused("a parameter named like a muparser function", "run", EXPR + ["-expr_param", "sin=5"], ["-expr_param", "'sin'", "muparser"])
refused("a parameter named like a formula option (-expr_drift_v)", "run", EXPR + ["-expr_param", "drift_v=5"], ["-expr_param", "'drift_v'", "-expr_drift_<var>"])
refused("a duplicate parameter", "run", EXPR + ["-expr_param", "a=1,b=2,a=3"], ["-expr_param", "'a'", "twice"], ranks=(1, 2))
refused("a parameter named like an option", "run", EXPR + ["-expr_param", "t_final=3"], ["'t_final'", "option"])
refused("a parameter value that is not a number", "run", EXPR + ["-expr_param", "a=x"], ["-expr_param", "'x'"])
refused("a variable named t", "run", ["-model", "expr", "-vars", "t,x"], ["-vars", "'t'"])
refused("more variables than a model holds", "run", ["-model", "expr", "-vars", "a,b,c,d,e,f,g"], ["-vars"])
refused("muparser's assignment in a formula", "run", expr_with("-expr_drift_r", "(-r)+0*(v=0)"),
        ["-expr_drift_r", "assign"], ranks=(1, 2))
refused("a formula longer than the buffer", "run", EXPR + ["-expr_drift_v", "v" + "+0*v" * 140], ["-expr_drift_v", "561 characters"])
# comparisons are not assignments; a formula that starts with '-' works on the command line
text = info(EXPR + ["-expr_drift_v", "-v + 0.3*(v<=1) - 0.1*(v>=2) + (v==0) + (v!=0)*0", "-expr_drift_r", "-r/2"])
check("A_v = (-v + 0.3*(v<=1)" in text and "A_r = (-r/2)" in text, "formulas that start with '-' run, wrapped in parentheses")

# in an options file: quoted formulas may hold spaces; one that starts with '-' and a letter must be wrapped
opts = tmpdir("opts") + ".opts"
with open(opts, "w") as f:
    f.write('-model expr\n-vars v\n-expr_param tau=2,s=0.5\n-expr_drift_v "(-v + 0.3) / tau"  # comment\n'
            '-expr_diffusion_v "s^2 + 0 * v"\n-grid_n 16\n')
text = info(["-options_file", opts])
check("A_v = (-v + 0.3) / tau" in text and "D_v = s^2 + 0 * v" in text, "quoted formulas with spaces in an options file")
with open(opts, "w") as f:
    f.write('-model expr\n-vars v\n-expr_drift_v "-v + 0.3"\n-expr_diffusion_v 1\n')
refused("an options file formula that starts with '-'", "run", ["-options_file", opts], [opts, "line 3", "-expr_drift_v", "parentheses"], ranks=(1, 2))

# --- item 5: counts that wrap, steps the run cannot take ---------------------------
LIN = ["-model", "linear", "-grid_n", "16"]
refused("particles beyond 32 bits", "mc", LIN + ["-mc_particles", "4294967396"], ["-mc_particles 4294967396"], ranks=(1, 2))
refused("particle coordinates beyond 32-bit indices", "mc", LIN + ["-mc_particles", "1100000000", "-memory_check", "false"], ["-mc_particles", "coordinates"])
refused("a seed beyond 32 bits", "mc", LIN + ["-mc_seed", "4294967297"], ["-mc_seed"])
refused("cells beyond 32 bits", "run", ["-model", "linear", "-grid_n", "4294967360,48"], ["-grid_n 4294967360"], ranks=(1, 2))
refused("a grid whose cell count overflows", "run", ["-model", "linear", "-grid_n", "50000,50000"], ["-grid_n", "2.5e+09 cells"])
refused("more grid values than axes", "run", ["-model", "hebbian", "-grid_n", "16,16,16,16"], ["-grid_n", "got 4"])
refused("more grid values than any model's axes", "run", ["-model", "hebbian", "-grid_n", "16,16,16,16,16,16,16"], ["-grid_n", "more than 6"])
refused("a Monte Carlo step that does not move t", "mc", LIN + ["-mc_dt", "1e-300"], ["-mc_dt", "2^52"], ranks=(1, 2))
refused("threads beyond 32 bits", "run", EXPR + ["-expr_threads", "4294967297"], ["-expr_threads"])

# --- item 8: values that would fail are refused before the folder is touched ------
BRO = ["-model", "brownian", "-grid_n", "32", "-t_final", "0.1"]
refused("a zero time step", "run", BRO + ["-ts_dt", "0"], ["-ts_dt"], ranks=(1, 2))
refused("an infinite final time", "run", BRO + ["-t_final", "inf"], ["-t_final"])
refused("an infinite final time (mc)", "mc", BRO + ["-t_final", "inf"], ["-t_final"])
refused("a negative output interval", "run", BRO + ["-output_every", "-1"], ["-output_every"])
refused("a zero snapshot interval", "run", BRO + ["-snapshot_every", "0"], ["-snapshot_every"])
refused("a negative checkpoint interval", "run", BRO + ["-checkpoint_every", "-1"], ["-checkpoint_every"])
refused("a vanishing checkpoint interval", "run", BRO + ["-checkpoint_every", "1e-300"], ["-checkpoint_every", "intervals"])
refused("a vanishing output interval", "run", BRO + ["-output_every", "1e-300"], ["-output_every", "intervals"], ranks=(1, 2))
refused("a NaN checkpoint wall time", "run", BRO + ["-checkpoint_wall", "nan"], ["-checkpoint_wall"])
refused("an infinite model parameter", "run", BRO + ["-brownian_sigma_v", "inf"], ["-brownian_sigma_v"])
refused("a huge model parameter", "run", BRO + ["-brownian_sigma_v", "1e150"], ["fastest rate", "along v", "-t_final"])
refused("a huge diffusion of the linear model", "run", ["-model", "linear", "-linear_D", "1e150,1"], ["fastest rate", "D_x1"], ranks=(1, 2))
refused("an infinite diffusion of the linear model", "run", ["-model", "linear", "-linear_D", "inf,1"], ["-linear_D"])
refused("a NaN in the linear drift", "run", ["-model", "linear", "-linear_M", "nan,0,0,-1"], ["-linear_M"])
refused("a NaN in a schedule", "run", ["-model", "bistable", "-protocol", "h:0@0,nan@1"], ["-protocol"])
refused("a huge scheduled value", "run", ["-model", "bistable", "-t_final", "1", "-protocol", "sigma_w:0.5@0,1e150@0.5"], ["fastest rate", "along w"])
refused("a huge diffusion in crosscheck", "crosscheck", ["-model", "linear", "-grid_n", "16", "-linear_D", "1e150,1"], ["fastest rate"])

# --- item 11: messages that name the cause, the variable, the point and t ---------
said = refused("a drift that is not finite", "run", expr_with("-expr_drift_v", "log(v)"),
               ["the drift A_v is not finite", "v = ", "r = ", "t = 0", "-expr_drift_v"], ranks=(1, 2))
check(len(set(said)) == 1, "the same point on 1 and 2 ranks")
refused("a diffusion that turns negative", "run", expr_with("-expr_diffusion_r", "r"),
        ["the diffusion D_r is not positive", "v = ", "r = -", "-expr_diffusion_r"])
refused("a diffusion that turns negative later", "run", ["-model", "expr", "-vars", "v", "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1 - t",
                                                         "-grid_n", "16", "-t_final", "2"], ["D_v is not positive", "t = 2"])
said = refused("a diffusion too small for the drift (A/D overflows)", "run", ["-model", "linear", "-linear_D", "3e-308,1"],
               ["D_x1 = 3e-308 is too small for the drift A_x1", "x1 = ", "x2 = ", "Peclet", "A/D overflows"], ranks=(1, 2))
check(len(set(said)) == 1, "the same point on 1 and 2 ranks")
# D = 1e-300 ran with exit status 0: the reverse rate underflowed to 0 and the diagnostics dropped those faces
refused("a diffusion too small for the drift (a rate underflows)", "run", ["-model", "linear", "-linear_D", "1e-300,1"], ["D_x1 = 1e-300", "Peclet"])
refused("a Gaussian narrower than a cell", "run", ["-model", "linear", "-init_cov", "1e-300,1"],
        ["narrower than a cell", "variable 1", "-init_cov", "-grid_n"], ranks=(1, 2))

# --- item 6: options that nothing reads ---------------------------------------------
refused("a misspelt option", "run", BRO + ["-t_finl", "1"], ["nothing reads -t_finl", "did you mean -t_final?", "-options_left no"], ranks=(1, 2))
refused("an option written with '='", "run", BRO + ["-grid_n=32"], ["-grid_n=32", "-grid_n 32"])
refused("an option with two dashes", "run", BRO + ["--t_final", "1"], ["--t_final", "one '-'", "-t_final"], ranks=(1, 2))
refused("an option of another model", "run", BRO + ["-inference_tuning", "bell"], ["-inference_tuning", "-model brownian"])
refused("a misspelt Monte Carlo option", "mc", LIN + ["-mc_partciles", "5"], ["-mc_partciles", "-mc_particles"])
refused("several unknown options", "run", BRO + ["-t_finl", "1", "-grid_n=32"], ["-t_finl", "nor -"])
# an options file serves every command: what another command reads, and PETSc's solvers' options, pass
opts = tmpdir("all") + ".opts"
with open(opts, "w") as f:
    f.write("-model linear\n-grid_n 16\n-t_final 0.2\n-output_every 0.1\n-snapshot_every 0.1\n-init_mean 0.5,0\n"
            "-init_cov 1,1\n-checkpoint_every 0.1\n-mc_particles 1000\n-mc_dt 0.01\n-crosscheck_z 5\n-ts_type arkimex\n"
            "-ksp_rtol 1e-12\n-stationary_ksp_type gmres\n-stationary_pc_type lu\n-kl_reference none\n-bits\n")
for command in ("info", "stationary"):
    out = tmpdir("all")
    proc = run(command, ["-options_file", opts, "-output_dir", out], expect_ok=False)
    check(proc.returncode == 0, f"{command} with options that other commands read: {proc.stderr.strip()}")
proc = run("info", BRO + ["-t_finl", "1", "-some_tool_option", "-options_left", "no"], expect_ok=False)
check(proc.returncode == 0, f"-options_left no runs with options that nothing reads: {proc.stderr.strip()}")
# analyze: what another run stored in its snapshot is not checked, what the command line gives is
out = tmpdir("stored")
run("run", ["-model", "linear", "-grid_n", "16", "-t_final", "0.1", "-output_dir", out, "-other_tool", "3", "-options_left", "no"],
    expect_ok=False)
proc = run("analyze", [out + "/density_0001.h5", "-output_dir", out + "/a"], ranks=2, expect_ok=False)
check(proc.returncode == 0, f"analyze of a snapshot that stores an option nothing reads: {proc.stderr.strip()}")
refused("a misspelt option in analyze", "analyze", [out + "/density_0001.h5", "-sensr", "x1"], ["-sensr", "-sensor"])

# every option that a command reads after the check (it sits after "Grid options" in -help) is in
# a module's table of option names (beside its options block, registered in src/model/option_names.c),
# or one of PETSc's (src/app/options.c)
tables = option_tables()
check(len(tables) >= 15 and "ItAppPETScOptionNames" in tables, f"{len(tables)} tables of option names in src/")
for command, options in (("run", ["-t_final", "0.01"]), ("stationary", []), ("mc", ["-t_final", "0.01", "-mc_particles", "100"]),
                         ("crosscheck", ["-t_final", "0.01", "-mc_particles", "100"]), ("analyze", [out + "/density_0001.h5"])):
    o = tmpdir("help")
    args = options if command == "analyze" else ["-model", "linear", "-grid_n", "16"] + options
    text = run(command, args + ["-output_dir", o, "-help"], expect_ok=False).stdout
    late = set(re.findall(r"^[ \t]+-([A-Za-z]\w*)", text.split("Grid options:")[-1].split("-----", 1)[-1], re.M))
    missing = unknown_options(late, tables)
    check(len(late) > 5 and not missing, f"{command} -help: every option read after the check is known ({len(late)} read; missing {missing})")

finish()
