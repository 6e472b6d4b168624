/* Diagnostics: every quantity of PHYSICS.md §3 computed from a density field
   and the operator's own face currents, named exactly as there. Marginals are
   gathered in one reduction and the scalar sums in another, per evaluation. */
#pragma once
#include <infotherm/fp.h>

#define IT_DIAG_NAME_LEN 64
/* More than this fraction of the mass in the outermost cells means the box is too small. */
#define IT_BOUNDARY_MASS_LIMIT 1e-6

typedef struct _p_ItDiag *ItDiag;

/* Column indices (-1 when a column is absent). */
typedef struct {
  PetscInt mass, entropy, entropy_var[IT_MAX_DIM], mean[IT_MAX_DIM], var[IT_MAX_DIM];
  PetscInt mutual_information, mi_pair[IT_MAX_DIM], kl_to_stationary, kl_rate, entropy_rate;
  PetscInt entropy_production, entropy_production_var[IT_MAX_DIM], entropy_flow[IT_MAX_DIM];
  PetscInt heat_rate[IT_MAX_DIM], heat_rate_W[IT_MAX_DIM], heat_rate_ATP[IT_MAX_DIM];
  PetscInt info_flow_X, info_flow_Y, decoding_mse, cost_per_bit;
  PetscInt entropy_production_cum, entropy_flow_cum[IT_MAX_DIM], info_flow_X_cum;
} ItDiagColumns;

struct _p_ItDiag {
  ItFP     fp;
  ItGrid   grid;
  ItModel  model;
  PetscInt ncol;
  char (*name)[IT_DIAG_NAME_LEN]; /* column names, PHYSICS.md §3 */
  PetscReal    *value;            /* values of the last evaluation */
  PetscReal     t;                /* time of the last evaluation */
  ItDiagColumns col;
  PetscReal     boundary_mass; /* fraction of the mass in the outermost cells */
  /* options */
  PetscBool sensor[IT_MAX_DIM]; /* the set X (-sensor) */
  PetscInt  nsensor;
  PetscBool bits; /* information in bits (-bits) */
  PetscReal temperature, time_unit, atp_kT;
  /* reference density for kl_to_stationary (ghosted), if any */
  Vec reference;
  /* work: ghosted density and its logarithm; marginals (local part, then summed) */
  Vec        p_local;
  PetscReal *lnp, *lnref;
  PetscInt   nmarg, off1[IT_MAX_DIM], offpair[IT_MAX_DIM], offdec;
  PetscReal *marg_local, *marg;
  /* cumulative integrals by the trapezoidal rule over every evaluation in time */
  PetscBool have_prev;
  PetscReal t_prev, rate_prev[IT_MAX_DIM + 2], cum[IT_MAX_DIM + 2];
};

PetscErrorCode ItDiagCreate(ItFP fp, ItDiag *diag);
PetscErrorCode ItDiagSetReference(ItDiag diag, Vec reference);
PetscErrorCode ItDiagEvaluate(ItDiag diag, PetscReal t, Vec p);
PetscErrorCode ItDiagAccumulate(ItDiag diag);
PetscErrorCode ItDiagView(ItDiag diag, PetscViewer viewer);
PetscErrorCode ItDiagDestroy(ItDiag *diag);
