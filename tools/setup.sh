#!/usr/bin/env bash
# Installs what infotherm needs to build, test and plot, then configures and
# builds it in build/. Quick when everything is already present.
#
#   tools/setup.sh           build, run and plot
#   tools/setup.sh --tests   also what the test suite needs (a local Slurm: slurmd,
#                            slurmctld, slurm-client, munge)
#   tools/setup.sh --index64 build against the 64-bit-index PETSc and SLEPc (petsc64-dev, slepc64-dev,
#                            meson -Dindex64=true) for grids over 2^31 unknowns;
#                            without it build/ goes back to the default PETSc
#
# On a Debian machine as root it uses apt-get; on a cluster without root it
# finds PETSc, SLEPc, MPI and FFTW through pkg-config (modules, Spack) and skips apt.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(petsc-dev slepc-dev libopenmpi-dev openmpi-bin libfftw3-dev libfftw3-mpi-dev
  libmuparser-dev librandom123-dev libjansson-dev meson ninja-build pkg-config
  python3-numpy python3-matplotlib python3-h5py python3-pandas python3-xarray python3-h5netcdf
  openssh-client)  # Open MPI's mpiexec looks for an rsh agent even on one node

index64=false
for arg in "$@"; do
  case $arg in
    --tests) packages+=(slurmd slurmctld slurm-client munge) ;;
    --index64) index64=true; packages+=(petsc64-dev slepc64-dev) ;;
    *) echo "setup: unknown argument $arg (--tests, --index64)" >&2; exit 2 ;;
  esac
done
pc=PETSc slepc_pc=SLEPc
[ "$index64" = true ] && pc=PETSc64 slepc_pc=SLEPc64

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif pkg-config --exists $pc $slepc_pc fftw3 muparser jansson 2>/dev/null; then
    echo "setup: no root; using PETSc, SLEPc, FFTW, muparser and jansson found by pkg-config" >&2
  else
    echo "setup: missing ${missing[*]} and cannot apt-get (not root); load PETSc, SLEPc, MPI, FFTW, muparser and jansson modules so pkg-config finds them" >&2
    exit 1
  fi
fi

# warnings are errors in CI (doc/style.md)
werror=false
[ "${CI:-}" = true ] && werror=true
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release -Dwerror="$werror" -Dindex64="$index64" >/dev/null
else
  # --reconfigure: a build/ set up before an option existed learns it
  meson setup --reconfigure build -Dwerror="$werror" -Dindex64="$index64" >/dev/null
fi
ninja -C build >/dev/null
