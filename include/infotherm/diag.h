/* Diagnostics: the quantities of PHYSICS.md §3 computed from a density field,
   named exactly as there; every evaluation is one batched reduction. */
#pragma once
#include <infotherm/fp.h>

#define IT_DIAG_NAME_LEN 64

typedef struct _p_ItDiag *ItDiag;

struct _p_ItDiag {
  ItFP      fp;
  PetscInt  ncol;
  char    (*name)[IT_DIAG_NAME_LEN]; /* column names, PHYSICS.md §3 */
  PetscReal *value;                  /* values of the last evaluation */
  PetscReal  boundary_mass;          /* mass in the outermost layer of cells */
};

PetscErrorCode ItDiagCreate(ItFP fp, ItDiag *diag);
PetscErrorCode ItDiagEvaluate(ItDiag diag, PetscReal t, Vec p);
PetscErrorCode ItDiagDestroy(ItDiag *diag);

/* More than this fraction of the mass in the outermost cells means the box is too small. */
#define IT_BOUNDARY_MASS_LIMIT 1e-6
