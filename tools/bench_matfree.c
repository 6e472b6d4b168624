/* tools/bench_nd.sh --matfree: the Fokker–Planck operator applied from its
   face coefficients cell by cell (a MatShell through the grid's offset
   helpers, visiting the cells as ItFPAssemble does) against the assembled AIJ
   MatMult: seconds per apply, the matrix's nonzeros, and the largest
   difference of the two results. Options as for infotherm (-model, -grid_n, ...). */
#include <infotherm/fp.h>

typedef struct {
  ItFaces faces;
  ItGrid  grid;
  Vec     local;
} ItShell;

/* y = L x from the faces: each face's current J = lo x_{c-1} - hi x_c enters
   the cell above with + and leaves the cell below. */
static PetscErrorCode ItShellMult(Mat A, Vec x, Vec y) {
  ItShell           *s;
  ItGrid             grid;
  const PetscScalar *xl;
  PetscScalar       *ya;
  const PetscReal   *lo[IT_MAX_DIM], *hi[IT_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  grid = s->grid;
  for (PetscInt a = 0; a < grid->dim; a++)
    PetscCall(ItFacesGetAxis(s->faces, a, &lo[a], &hi[a], NULL, NULL));
  PetscCall(DMGlobalToLocalBegin(grid->da, x, INSERT_VALUES, s->local));
  PetscCall(DMGlobalToLocalEnd(grid->da, x, INSERT_VALUES, s->local));
  PetscCall(VecGetArrayRead(s->local, &xl));
  PetscCall(VecGetArray(y, &ya));
  ItGridForOwned(grid, c, l) {
    const PetscInt o = ItGridGhostedOffset(grid, c);
    PetscReal      v = 0;
    for (PetscInt a = 0; a < grid->dim; a++) {
      const PetscReal ih = 1 / grid->h[a];
      const PetscInt  fl = ItFPFaceOffset(grid, a, c);
      PetscInt        fh;
      c[a]++;
      fh = ItFPFaceOffset(grid, a, c);
      c[a]--;
      v -= (hi[a][fl] + lo[a][fh]) * ih * xl[o];
      if (c[a] > 0) {
        c[a]--;
        v += lo[a][fl] * ih * xl[ItGridGhostedOffset(grid, c)];
        c[a]++;
      }
      if (c[a] < grid->n[a] - 1) {
        c[a]++;
        v += hi[a][fh] * ih * xl[ItGridGhostedOffset(grid, c)];
        c[a]--;
      }
    }
    ya[l] = v;
  }
  PetscCall(VecRestoreArrayRead(s->local, &xl));
  PetscCall(VecRestoreArray(y, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  ItModel        model;
  ItGrid         grid;
  ItFP           fp;
  ItShell        s;
  Mat            L, S;
  Vec            x, y, z;
  PetscLogDouble t0, t1, t2;
  PetscReal      diff, norm;
  PetscInt       nloc, N;
  const PetscInt reps = 10;
  MatInfo        info;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, 0));
  PetscCall(ItFPGetMatrix(fp, &L));
  PetscCall(ItFacesCreate(grid, model, &s.faces));
  PetscCall(ItFacesCompute(s.faces, 0));
  s.grid = grid;
  PetscCall(DMCreateLocalVector(grid->da, &s.local));
  PetscCall(DMCreateGlobalVector(grid->da, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(VecDuplicate(x, &z));
  PetscCall(VecSetRandom(x, NULL));
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetSize(x, &N));
  PetscCall(MatCreateShell(PETSC_COMM_WORLD, nloc, nloc, N, N, &s, &S));
  PetscCall(MatShellSetOperation(S, MATOP_MULT, (void (*)(void))ItShellMult));
  PetscCall(MatMult(L, x, y)); /* warm up both */
  PetscCall(MatMult(S, x, z));
  PetscCall(PetscTime(&t0));
  for (PetscInt k = 0; k < reps; k++) PetscCall(MatMult(L, x, y));
  PetscCall(PetscTime(&t1));
  for (PetscInt k = 0; k < reps; k++) PetscCall(MatMult(S, x, z));
  PetscCall(PetscTime(&t2));
  PetscCall(VecAXPY(z, -1, y));
  PetscCall(VecNorm(z, NORM_INFINITY, &diff));
  PetscCall(VecNorm(y, NORM_INFINITY, &norm));
  PetscCall(MatGetInfo(L, MAT_GLOBAL_SUM, &info));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%" PetscInt_FMT " unknowns: AIJ MatMult %.4g s (%.0f nonzeros, %.0f B per "
                        "unknown), faces' MatShell %.4g s (the faces: %d B per unknown); largest "
                        "relative difference %.1e\n",
                        N, (t1 - t0) / reps, info.nz_used, (12 * info.nz_used + 4.0 * N) / N,
                        (t2 - t1) / reps, (int)(16 * grid->dim), (double)(diff / norm)));
  PetscCall(MatDestroy(&S));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&s.local));
  PetscCall(ItFacesDestroy(&s.faces));
  PetscCall(ItFPDestroy(&fp));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscFinalize());
  return 0;
}
