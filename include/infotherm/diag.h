/* Diagnostics: every quantity of doc/physics.md §3 computed from a density field
   and the discrete face currents of the operator at the evaluation time,
   named exactly as there. The diagnostics compute their own faces (they never
   touch the solver's L), or, in a run of a model that does not depend on
   time, read the solver's (ItDiagShareFaces), the same at every time.
   Marginals are gathered in one reduction and the scalar sums in another,
   per evaluation. */
#pragma once
#include <infotherm/fp.h>

#define IT_DIAG_NAME_LEN 64
/* More than this fraction of the mass in the outermost cells means the box is too small. */
#define IT_BOUNDARY_MASS_LIMIT 1e-6

typedef struct _p_ItDiag *ItDiag;
typedef char              ItColumnName[IT_DIAG_NAME_LEN];

/* Reads -sensor, -bits, -temperature, -time_unit, -atp_kT. reference: the
   density of kl_to_stationary (NULL: no KL columns). Collective. */
PetscErrorCode ItDiagCreate(ItGrid grid, ItModel model, Vec reference, ItDiag *diag);
PetscErrorCode ItDiagEvaluate(ItDiag diag, PetscReal t, Vec p);
PetscErrorCode ItDiagAccumulate(ItDiag diag);
PetscErrorCode ItDiagRelease(ItDiag diag);
PetscErrorCode ItDiagShareFaces(ItDiag diag, ItFaces faces);
PetscErrorCode ItDiagTakeFaces(ItDiag diag, ItFaces *faces);
PetscErrorCode ItDiagGetStartRates(ItDiag diag, PetscReal rate[]);
/* Whether the flows' *_cum integrals may use their time derivatives (the
   Hermite rule between time steps; default yes): analyze integrates
   snapshots by the quadratic its error columns assume. Not collective. */
void           ItDiagSetFlowSlopes(ItDiag diag, PetscBool use);
PetscErrorCode ItDiagView(ItDiag diag, PetscViewer viewer);
PetscErrorCode ItDiagDestroy(ItDiag *diag);

/* The columns (doc/physics.md names, -bits suffixes) and the last evaluation. */
PetscInt            ItDiagGetColumnCount(ItDiag diag);
const char         *ItDiagGetColumnName(ItDiag diag, PetscInt k);
const ItColumnName *ItDiagGetColumnNames(ItDiag diag);
PetscErrorCode      ItDiagFindColumn(ItDiag diag, const char name[], PetscInt *k);
/* Every column the diagnostics can have, one a line (infotherm help -columns). */
void             ItDiagListColumns(FILE *out);
const PetscReal *ItDiagGetValues(ItDiag diag);
PetscReal        ItDiagGetTime(ItDiag diag);
PetscReal        ItDiagGetBoundaryMass(ItDiag diag);
void             ItDiagGetWallMass(ItDiag diag, PetscReal wall[]);
void             ItDiagGetMass(ItDiag diag, PetscReal *mass, PetscReal *negative);
PetscErrorCode   ItDiagGetPositivity(ItDiag diag, PetscReal *negative_mass, PetscReal *t,
                                     PetscReal *minimum);
/* The sensor set X of doc/physics.md §3 (-sensor) and the unit of information. */
PetscBool ItDiagIsSensor(ItDiag diag, PetscInt axis);
PetscBool ItDiagUsesBits(ItDiag diag);

/* The cumulative integrals' state (for checkpoints): n reals. */
PetscInt       ItDiagGetStateSize(ItDiag diag);
PetscErrorCode ItDiagGetState(ItDiag diag, PetscReal state[]);
PetscErrorCode ItDiagSetState(ItDiag diag, const PetscReal state[]);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItDiagOptionNames[]; /* src/diag/diag.c */
