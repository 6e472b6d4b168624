"""Running the program from Python: run(command, **options) builds the
command line (an option per keyword: grid_n=[64, 64] is -grid_n 64,64,
bits=True is -bits), runs the binary and returns load() of its folder, or
raises InfothermError with the program's one-line message. call(command,
[options]) is its plain twin for scripts that build the command line
themselves (tools/, tests/ through infotherm.convergence): the finished process."""
import os
import shutil
import subprocess
import tempfile

from .results import load

HERE = os.path.dirname(os.path.abspath(__file__))


class InfothermError(RuntimeError):
    """The program refused or failed: str(e) is its one-line message; e.status
    its exit status (1 bad input, 2 internal error, 3 stopped after a
    checkpoint), e.stderr and e.argv the rest."""

    def __init__(self, message, status, argv, stderr):
        super().__init__(message)
        self.status, self.argv, self.stderr = status, argv, stderr


def binary():
    """The infotherm binary: $INFOTHERM, else `infotherm` on PATH, else
    build/infotherm of the source tree this package sits in."""
    if os.environ.get("INFOTHERM"):
        return os.environ["INFOTHERM"]
    found = shutil.which("infotherm")
    if found:
        return found
    built = os.path.join(HERE, "..", "..", "build", "infotherm")
    if os.path.exists(built):
        return os.path.abspath(built)
    raise FileNotFoundError("no infotherm binary: set INFOTHERM, put infotherm on PATH, or build it (ninja -C build)")


def _value(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def arguments(options):
    """The command line of keyword options: True a flag, False and None left out, lists comma-joined."""
    argv = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        argv.append("-" + name)
        if value is not True:
            argv.append(_value(value))
    return argv


def run(command, *files, ranks=1, mpiexec=None, output_dir=None, timeout=None, **options):
    """Runs `infotherm command files... -option value ...` and returns load(output_dir).

    output_dir defaults to a new temporary folder (result.folder says which);
    ranks > 1 runs under mpiexec (mpiexec= a list to use another launcher).
    Raises InfothermError with the program's one-line message when it fails."""
    if output_dir is None:
        output_dir = tempfile.mkdtemp(prefix=f"infotherm-{command}-")
        os.rmdir(output_dir)  # the program makes it, and refuses a folder with its files in
    argv = [binary(), command] + [str(f) for f in files] + arguments(options) + ["-output_dir", str(output_dir)]
    if ranks > 1:
        launcher = list(mpiexec) if mpiexec else ["mpiexec"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        argv = launcher + ["-n", str(ranks)] + argv
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("infotherm: error")]
        message = lines[0][len("infotherm: error: "):] if lines else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise InfothermError(message, proc.returncode, argv, proc.stderr)
    return load(output_dir)


def scratch(name):
    """A fresh path for an output folder under the temporary directory (not
    created: the program makes it and refuses a folder with its files in)."""
    path = tempfile.mkdtemp(prefix=f"infotherm-{name}-")
    os.rmdir(path)
    return path


def call(command, options, ranks=1, mpiexec=None, check=True, timeout=None):
    """Runs `infotherm command options...` (a list; values made strings) on
    `ranks` MPI ranks and returns the CompletedProcess (stdout, stderr as
    text). With check, a non-zero exit raises InfothermError."""
    argv = [binary(), command] + [str(o) for o in options]
    if ranks > 1:
        launcher = list(mpiexec) if mpiexec else ["mpiexec"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        argv = launcher + ["-n", str(ranks)] + argv
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("infotherm: error")]
        message = lines[0][len("infotherm: error: "):] if lines else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise InfothermError(message, proc.returncode, argv, proc.stderr)
    return proc
