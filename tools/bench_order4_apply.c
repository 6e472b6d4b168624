/* The fourth-order operator's matrix-free product (ItFPApplyFaces) and its
   faces' computation timed on their own: the CPU seconds (CLOCK_PROCESS_CPUTIME_ID, less
   sensitive to a loaded machine than wall time) per product and per cell,
   per ItFacesCompute and per guard renewal (ItFacesSetDensity with a new
   density); the product's largest relative difference from the per-cell
   reference (ItFacesAxisDivergence summed over the axes), and an XOR of the
   result's bits over all ranks, so that two builds can be compared bit for
   bit. Options as for infotherm (-model, -grid_n, -fp_order 4, ...), and
   -reps N (products timed, default 20). Built by tools/bench_order4_apply.sh. */
#include "../tests/operator_checks.h"
#include <stdint.h>
#include <string.h>
#include <time.h>

static double ItBenchCPU(void) {
  struct timespec t;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A smooth positive density (a Gaussian about the box's centre, width a
   sixth of the box, scaled by s): the guard's variances follow s. */
static PetscErrorCode ItBenchDensity(ItGrid grid, PetscReal s, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscScalar      *a;

  PetscFunctionBegin;
  PetscCall(VecGetArray(p, &a));
  ItGridForOwned(grid, c, l) {
    PetscReal e = 0;
    for (PetscInt b = 0; b < info->dim; b++) {
      const PetscReal w = s * (info->hi[b] - info->lo[b]) / 6,
                      x = ItGridCoordinate(grid, b, c[b]) - 0.5 * (info->lo[b] + info->hi[b]);
      e += 0.5 * x * x / (w * w);
    }
    a[l] = PetscExpReal(-e) * (1 + 0.1 * PetscSinReal((PetscReal)(7 * l)));
  }
  PetscCall(VecRestoreArray(p, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  ItModel            model;
  ItGrid             grid;
  ItFaces            faces;
  Vec                x, y, z;
  const PetscScalar *ya;
  PetscInt           reps = 20, N;
  double             t0, t1, t2, t3, t4, t5, best = 1e300;
  PetscReal          diff, norm;
  uint64_t           bits = 0, all;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-reps", &reps, NULL));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscCall(ItFacesCreate(grid, model, &faces));
  PetscCall(DMCreateGlobalVector(info->da, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(VecDuplicate(x, &z));
  PetscCall(VecGetSize(x, &N));
  PetscCall(ItBenchDensity(grid, 1, x));
  t0 = ItBenchCPU();
  PetscCall(ItFacesCompute(faces, 0));
  t1 = ItBenchCPU();
  PetscCall(ItFacesSetDensity(faces, x)); /* the guard on: a renewal */
  t2 = ItBenchCPU();
  PetscCall(ItBenchDensity(grid, 0.5, x));
  PetscCall(ItFacesSetDensity(faces, x)); /* a narrower density: another renewal */
  t3 = ItBenchCPU();
  PetscCall(ItFPApplyFaces(faces, x, y)); /* warm up */
  t5 = ItBenchCPU();
  for (PetscInt k = 0; k < reps; k++) { /* the least loaded product too */
    const double s = ItBenchCPU();
    PetscCall(ItFPApplyFaces(faces, x, y));
    best = PetscMin(best, ItBenchCPU() - s);
  }
  t4 = ItBenchCPU();
  PetscCall(ItTestApplyReference(grid, faces, x, z)); /* cell by cell, axis by axis */
  PetscCall(VecGetArrayRead(y, &ya));
  for (PetscInt l = 0; l < info->nlocal; l++) {
    uint64_t u;
    memcpy(&u, &ya[l], sizeof(u));
    bits ^= u * (uint64_t)(info->rstart + l + 1); /* the position counts */
  }
  PetscCall(VecRestoreArrayRead(y, &ya));
  PetscCallMPI(MPI_Allreduce(&bits, &all, 1, MPI_UINT64_T, MPI_BXOR, PETSC_COMM_WORLD));
  PetscCall(VecNorm(y, NORM_INFINITY, &norm));
  PetscCall(VecAXPY(z, -1, y));
  PetscCall(VecNorm(z, NORM_INFINITY, &diff));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%" PetscInt_FMT " cells, order %" PetscInt_FMT
                        " (rank 0's CPU): faces %.4g s, renewals %.4g s, %.4g s; product %.4g "
                        "ms (%.1f ns a cell, rank 0's %" PetscInt_FMT
                        " cells; the fastest of %" PetscInt_FMT " %.1f ns); against the "
                        "per-cell sum %.1e; bits %016llx\n",
                        N, info->order_fp, t1 - t0, t2 - t1, t3 - t2, 1e3 * (t4 - t5) / reps,
                        1e9 * (t4 - t5) / reps / info->nlocal, info->nlocal, reps,
                        1e9 * best / info->nlocal, (double)(diff / norm), (unsigned long long)all));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&z));
  PetscCall(ItFacesDestroy(&faces));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscFinalize());
  return 0;
}
