/* Fokker–Planck operator: the finite-volume discretisation of
   ∂t p = -Σ_i ∂i J_i, J_i = A_i p - ∂i(D_i p), on the grid's cells, as face
   fluxes of Scharfetter–Gummel type with zero flux through the walls. */
#pragma once
#include <petscmat.h>
#include <infotherm/grid.h>

typedef struct _p_ItFP *ItFP;

struct _p_ItFP {
  ItGrid    grid;
  ItModel   model;
  Mat       L; /* dp/dt = L p */
  PetscReal t; /* time at which L was assembled */
  /* Face coefficients along each axis: the face on the low side of owned cell
     c carries J = flux_lo[c] p_{c-1} - flux_hi[c] p_c; one extra face past the
     last owned cell. Indexed like ItFPFaceOffset; zero on the walls. */
  PetscReal *flux_lo[IT_MAX_DIM], *flux_hi[IT_MAX_DIM];
  /* The same for the irreversible drift when a variable is odd (-parity);
     otherwise these alias flux_lo, flux_hi. */
  PetscReal *irr_lo[IT_MAX_DIM], *irr_hi[IT_MAX_DIM];
  /* the first face where D <= 0 or A/D is not finite, found during assembly */
  PetscInt  bad_axis;
  PetscReal bad_x;
  /* the scheduled parameter values L was assembled with (-protocol) */
  PetscReal assembled[IT_MAX_PROTOCOLS];
};

PetscErrorCode ItFPCreate(ItGrid grid, ItModel model, ItFP *fp);
PetscErrorCode ItFPAssemble(ItFP fp, PetscReal t);
PetscErrorCode ItFPUpdate(ItFP fp, PetscReal t);
PetscErrorCode ItFPDestroy(ItFP *fp);

/* The current through a face, J = lo p_{c-1} - hi p_c, and its discrete
   affinity ln(lo p_{c-1} / (hi p_c)): the two have the same sign, so their
   product, the face's entropy production, is never negative. */
static inline PetscReal ItFPFaceCurrent(PetscReal lo, PetscReal hi, PetscReal p_lo,
                                        PetscReal p_hi) {
  return lo * p_lo - hi * p_hi;
}

/* Offset of the low face of cell c along `axis` in the face arrays. */
static inline PetscInt ItFPFaceOffset(ItGrid grid, PetscInt axis, const PetscInt c[]) {
  PetscInt m[IT_MAX_DIM] = {grid->xm[0], grid->xm[1], grid->xm[2]};

  m[axis]++;
  return ((c[2] - grid->xs[2]) * m[1] + (c[1] - grid->xs[1])) * m[0] + (c[0] - grid->xs[0]);
}
