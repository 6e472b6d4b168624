/* The multigrid's levels applied from the face coefficients, without an
   assembled matrix: J = scale (shift I - L) of the Scharfetter–Gummel faces
   (src/fp/fp.c) as a MatShell whose product and residual run a row of cells
   at a time along the storage order's fastest axis a0, each axis's faces
   streamed by their stride, and a symmetric Gauss–Seidel smoother on the same
   rows as a PCSHELL. Row c of J: the diagonal
     J_cc = scale (shift + Σ_a (hi_a[c] + lo_a[c + e_a]) / h_a),
   the neighbours J_{c,c-e_a} = -scale lo_a[c] / h_a and
   J_{c,c+e_a} = -scale hi_a[c + e_a] / h_a (lo_a[c], hi_a[c]: the low face of
   cell c along a; a wall has no neighbour), a pinned row (the stationary
   solve) replaced by its value times the unknown, as MatZeroRows does to an
   assembled one. A sweep exchanges the ghosts once (DMGlobalToLocal), then
   runs forward and backward through the owned block in the ghosted array, the
   neighbours on other ranks held at their exchanged values: the processor-
   local symmetric sweep of PETSc's SOR (SOR_LOCAL_SYMMETRIC_SWEEP, ω = 1),
   reading the faces instead of a matrix's entries and column indices (a
   periodic axis that one rank owns whole wraps within the sweep, as the
   assembled SOR's). Each row first gathers, reading each axis's faces once
   in loops the compiler vectorises, the diagonal and every neighbour but the
   a0 one the pass has just updated, then runs the recurrence along the row.
   Measured against the assembled path (doc/performance.md "The multigrid's
   levels from the face coefficients"): the same iterations, a quarter fewer
   bytes per unknown, about the same time. A symmetric pre-smoothing of the
   multigrid also leaves its level's residual, from its backward pass's
   changes instead of a product (ItSmoothSweepResidual), and a smoother may
   sweep one direction before the coarse correction and the other after
   (ItSmoothDirection; doc/performance.md "Fewer flops per stationary
   solve"). Not for faces with a
   threshold_reset axis (the re-injection couples distant rows):
   ItSmoothSupported says which, and those keep the assembled path. */
#include <infotherm/solve.h>

typedef struct {
  ItGrid       grid;
  ItFaces      faces;
  PetscReal    shift, scale;
  PetscBool    pinned; /* a row is pinned (on some rank) */
  PetscInt     pin;    /* the pinned row's offset in the owned array, -1: none here */
  PetscScalar  pin_value;
  PetscScalar *work; /* four rows: the gathered right-hand side, the a0 coupling, the diagonal,
                        a row's values before the backward pass */
  /* the residual the last sweep left (ItSmoothSweepResidual) and of which b and x: for the
     next operation on this matrix only, if it is MatResidual of the same vectors */
  Vec fused_r, fused_b, fused_x;
} ItSmoothOp;

/* A level's rows: strides of the ghosted array and of each axis's faces along
   that axis, and the faces scaled by scale / h per axis. */
typedef struct {
  ItGrid           grid;
  PetscInt         d, a0, m0, rows;
  PetscInt         gs[IT_MAX_DIM], fs[IT_MAX_DIM];
  PetscReal        w[IT_MAX_DIM]; /* scale / h_a */
  const PetscReal *lo[IT_MAX_DIM], *hi[IT_MAX_DIM];
  PetscInt         wrap[IT_MAX_DIM]; /* a periodic axis this rank owns whole: its n, else 0 */
} ItSmoothGeometry;

/* One row of cells along a0: its first cell's offsets in the owned and the
   ghosted array and in each axis's faces, and along each axis the cells
   [i_lo, m0) that have a low neighbour and [0, i_hi) that have a high one. */
typedef struct {
  PetscInt c[IT_MAX_DIM], l0, o, off[IT_MAX_DIM], i_lo[IT_MAX_DIM], i_hi[IT_MAX_DIM];
} ItSmoothRow;

static PetscErrorCode ItSmoothMult(Mat A, Vec x, Vec y);

static void ItSmoothGeometryGet(const ItSmoothOp *s, ItSmoothGeometry *G) {
  ItGrid            grid = s->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);

  G->grid = grid;
  G->d    = info->dim;
  G->a0   = info->order[0];
  G->m0   = info->xm[G->a0];
  G->rows = info->nlocal / G->m0;
  ItGridStrides(grid, G->gs, G->fs);
  for (PetscInt a = 0; a < info->dim; a++) {
    G->w[a] = s->scale / info->h[a];
    G->wrap[a] =
        info->boundary[a] == IT_BOUNDARY_PERIODIC && info->xm[a] == info->n[a] ? info->n[a] : 0;
    (void)ItFacesGetAxis(s->faces, a, &G->lo[a], &G->hi[a], NULL, NULL);
  }
}

/* The row that starts at cell c (c[a0] = xs[a0]), offset l0 in the owned array. */
static void ItSmoothRowFrom(const ItSmoothGeometry *G, const PetscInt c[], PetscInt l0,
                            ItSmoothRow *R) {
  const ItGridInfo *info = ItGridGetInfo(G->grid);

  for (PetscInt a = 0; a < IT_MAX_DIM; a++) R->c[a] = c[a];
  R->l0 = l0;
  R->o  = ItGridGhostedOffset(G->grid, c);
  for (PetscInt a = 0; a < G->d; a++) {
    const PetscBool periodic = (PetscBool)(info->boundary[a] == IT_BOUNDARY_PERIODIC);
    const PetscInt  last     = info->n[a] - 1;
    R->off[a]                = ItFPFaceOffset(G->grid, a, c);
    if (a == G->a0) {
      R->i_lo[a] = periodic || c[a] > 0 ? 0 : 1;
      R->i_hi[a] = periodic ? G->m0 : PetscMin(G->m0, last - c[a]);
    } else {
      R->i_lo[a] = periodic || c[a] > 0 ? 0 : G->m0;
      R->i_hi[a] = periodic || c[a] < last ? G->m0 : 0;
    }
  }
}

/* Row r of the owned block (rows in storage order). */
static void ItSmoothRowGet(const ItSmoothGeometry *G, PetscInt r, ItSmoothRow *R) {
  PetscInt c[IT_MAX_DIM];

  ItGridOwnedCell(G->grid, r * G->m0, c); /* the row's first cell */
  ItSmoothRowFrom(G, c, r * G->m0, R);
}

/* The next row in storage order (forward) or the one before, without the
   divisions of ItSmoothRowGet (in 5-D a row is a few dozen cells, and the
   rows' set-up weighed). */
static void ItSmoothRowStep(const ItSmoothGeometry *G, ItSmoothRow *R, PetscBool forward) {
  const ItGridInfo *info = ItGridGetInfo(G->grid);
  PetscInt          c[IT_MAX_DIM];

  for (PetscInt a = 0; a < IT_MAX_DIM; a++) c[a] = R->c[a];
  for (PetscInt k = 1; k < G->d; k++) {
    const PetscInt a = info->order[k];
    if (forward ? ++c[a] < info->xs[a] + info->xm[a] : --c[a] >= info->xs[a]) break;
    c[a] = forward ? info->xs[a] : info->xs[a] + info->xm[a] - 1;
  }
  ItSmoothRowFrom(G, c, R->l0 + (forward ? G->m0 : -G->m0), R);
}

/* The row's diagonal into dg. */
static inline void ItSmoothRowDiagonal(const ItSmoothGeometry *G, const ItSmoothRow *R,
                                       PetscReal shift, PetscScalar dg[]) {
  const PetscInt m0 = G->m0;

  for (PetscInt i = 0; i < m0; i++) dg[i] = shift;
  for (PetscInt a = 0; a < G->d; a++) {
    const PetscReal  w  = G->w[a];
    const PetscReal *hl = G->hi[a] + R->off[a], *lh = G->lo[a] + R->off[a] + G->fs[a];
    for (PetscInt i = 0; i < m0; i++) dg[i] += w * (hl[i] + lh[i]);
  }
}

/* y = J x on one row (x: the ghosted array at the row's first cell), or with
   b the residual y = b - J x. */
static inline void ItSmoothRowApply(const ItSmoothGeometry *G, const ItSmoothRow *R,
                                    const ItSmoothOp *s, const PetscScalar *x, const PetscScalar *b,
                                    PetscScalar y[], PetscScalar dg[]) {
  const PetscInt m0 = G->m0;

  ItSmoothRowDiagonal(G, R, s->scale * s->shift, dg);
  for (PetscInt i = 0; i < m0; i++) y[i] = dg[i] * x[i];
  for (PetscInt a = 0; a < G->d; a++) {
    const PetscReal  w = G->w[a];
    const PetscInt   g = G->gs[a], i_lo = R->i_lo[a], i_hi = R->i_hi[a];
    const PetscReal *ll = G->lo[a] + R->off[a], *hh = G->hi[a] + R->off[a] + G->fs[a];
    for (PetscInt i = i_lo; i < m0; i++) y[i] -= w * ll[i] * x[i - g];
    for (PetscInt i = 0; i < i_hi; i++) y[i] -= w * hh[i] * x[i + g];
  }
  if (s->pin >= R->l0 && s->pin < R->l0 + m0) y[s->pin - R->l0] = s->pin_value * x[s->pin - R->l0];
  if (b)
    for (PetscInt i = 0; i < m0; i++) y[i] = b[i] - y[i];
}

/* One Gauss–Seidel pass over a row in place in the ghosted array x (at the
   row's first cell), forward (increasing i) or backward: every neighbour
   but the a0 one the pass meets first is gathered with the diagonal's
   inverse, then x_i = r_i + c_i x_{i∓1} runs along the row. Along a
   periodic axis that this rank owns whole, the wrapped neighbour is a cell
   of this sweep, as in the assembled SOR: along a0 the row's last (first)
   cell takes its first (last) cell's new value, and the ghost copies of the
   cells next to the seam are rewritten as soon as those cells are. */
static inline void ItSmoothRowSweep(const ItSmoothGeometry *G, const ItSmoothRow *R,
                                    const ItSmoothOp *s, PetscBool forward, const PetscScalar *b,
                                    PetscScalar *x, PetscScalar *out, PetscScalar r[],
                                    PetscScalar cc[], PetscScalar dg[]) {
  const PetscInt m0 = G->m0, a0 = G->a0, wrap0 = G->wrap[a0] > 0;
  PetscScalar    seam = 0; /* the wrapped a0 neighbour's coefficient at the row's far end */

  {
    const PetscReal sshift = s->scale * s->shift;
    for (PetscInt i = 0; i < m0; i++) {
      dg[i] = sshift;
      r[i]  = b[i];
    }
  }
  for (PetscInt a = 0; a < G->d; a++) { /* the other axes: diagonal and both neighbours, one pass */
    const PetscReal  w  = G->w[a];
    const PetscInt   g  = G->gs[a];
    const PetscReal *ll = G->lo[a] + R->off[a], *hl = G->hi[a] + R->off[a];
    const PetscReal *lh = ll + G->fs[a], *hh = hl + G->fs[a];
    const PetscBool  low = (PetscBool)(R->i_lo[a] == 0), high = (PetscBool)(R->i_hi[a] == m0);
    if (a == a0) continue;
    if (low && high)
      for (PetscInt i = 0; i < m0; i++) {
        dg[i] += w * (hl[i] + lh[i]);
        r[i] += w * (ll[i] * x[i - g] + hh[i] * x[i + g]);
      }
    else if (low)
      for (PetscInt i = 0; i < m0; i++) {
        dg[i] += w * (hl[i] + lh[i]);
        r[i] += w * ll[i] * x[i - g];
      }
    else if (high)
      for (PetscInt i = 0; i < m0; i++) {
        dg[i] += w * (hl[i] + lh[i]);
        r[i] += w * hh[i] * x[i + g];
      }
    else
      for (PetscInt i = 0; i < m0; i++) dg[i] += w * (hl[i] + lh[i]);
  }
  { /* a0 last: its diagonal part, the neighbour the pass meets second, and the scaling by the
       diagonal's inverse in the same pass; the one it meets first is the recurrence's */
    const PetscReal  w  = G->w[a0];
    const PetscReal *ll = G->lo[a0] + R->off[a0], *hl = G->hi[a0] + R->off[a0];
    const PetscReal *lh = ll + 1, *hh = hl + 1;
    const PetscInt   end = forward ? (wrap0 ? m0 - 1 : R->i_hi[a0]) : m0;
    const PetscInt   beg = forward ? 0 : (wrap0 ? 1 : R->i_lo[a0]);
    if (forward)
      for (PetscInt i = 0; i < m0; i++) {
        const PetscScalar inv = 1 / (dg[i] + w * (hl[i] + lh[i]));
        const PetscScalar nb  = i < end ? hh[i] * x[i + 1] : 0;
        r[i]                  = (r[i] + w * nb) * inv;
        cc[i]                 = w * ll[i] * inv;
        dg[i]                 = inv;
      }
    else
      for (PetscInt i = 0; i < m0; i++) {
        const PetscScalar inv = 1 / (dg[i] + w * (hl[i] + lh[i]));
        const PetscScalar nb  = i >= beg ? ll[i] * x[i - 1] : 0;
        r[i]                  = (r[i] + w * nb) * inv;
        cc[i]                 = w * hh[i] * inv;
        dg[i]                 = inv;
      }
    if (forward && R->i_lo[a0] > 0) cc[0] = 0;
    if (!forward && R->i_hi[a0] < m0) cc[m0 - 1] = 0;
    if (wrap0) seam = forward ? w * hh[m0 - 1] * dg[m0 - 1] : w * ll[0] * dg[0];
  }
  if (s->pin >= R->l0 && s->pin < R->l0 + m0) {
    r[s->pin - R->l0]  = b[s->pin - R->l0] / s->pin_value;
    cc[s->pin - R->l0] = 0;
    if (s->pin - R->l0 == (forward ? m0 - 1 : 0)) seam = 0;
  }
  if (forward) {
    x[0] = R->i_lo[a0] == 0 ? r[0] + cc[0] * x[-1] : r[0];
    for (PetscInt i = 1; i < m0; i++) x[i] = r[i] + cc[i] * x[i - 1];
    if (wrap0) x[m0 - 1] += seam * x[0];
  } else {
    x[m0 - 1] = R->i_hi[a0] == m0 ? r[m0 - 1] + cc[m0 - 1] * x[m0] : r[m0 - 1];
    for (PetscInt i = m0 - 2; i >= 0; i--) x[i] = r[i] + cc[i] * x[i + 1];
    if (wrap0) x[0] += seam * x[m0 - 1];
  }
  if (out)
    for (PetscInt i = 0; i < m0; i++) out[i] = x[i]; /* the row is final: into the owned array */
  if (wrap0) {                                       /* the row's own ghosts across the seam */
    x[-1] = x[m0 - 1];
    x[m0] = x[0];
  }
  for (PetscInt a = 0; a < G->d; a++) { /* the row's ghost image across another axis' seam */
    const PetscInt n = G->wrap[a];
    if (a == a0 || n == 0 || (R->c[a] != 0 && R->c[a] != n - 1)) continue;
    for (PetscInt i = 0; i < m0; i++) x[i + (R->c[a] == 0 ? n : -n) * G->gs[a]] = x[i];
  }
}

static PetscErrorCode ItSmoothGetContext(Mat A, ItSmoothOp **s) {
  PetscFunctionBegin;
  PetscCheck(ItSmoothIsOperator(A), PetscObjectComm((PetscObject)A), PETSC_ERR_ARG_WRONG,
             "the matrix is not a level operator applied from the faces");
  PetscCall(MatShellGetContext(A, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* y = J x, or with b the residual y = b - J x, through the ghosted x. */
static PetscErrorCode ItSmoothApply(Mat A, Vec b, Vec x, Vec y) {
  ItSmoothOp        *s;
  ItSmoothGeometry   G;
  const ItGridInfo  *info;
  Vec                local;
  const PetscScalar *xl, *ba = NULL;
  PetscScalar       *ya;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  s->fused_r = NULL;
  ItSmoothGeometryGet(s, &G);
  info = ItGridGetInfo(G.grid);
  PetscCall(DMGetLocalVector(info->da, &local));
  PetscCall(DMGlobalToLocal(info->da, x, INSERT_VALUES, local));
  PetscCall(VecGetArrayRead(local, &xl));
  if (b) PetscCall(VecGetArrayRead(b, &ba));
  PetscCall(VecGetArray(y, &ya));
  {
    ItSmoothRow R;
    ItSmoothRowGet(&G, 0, &R);
    for (PetscInt r = 0; r < G.rows; r++, ItSmoothRowStep(&G, &R, PETSC_TRUE))
      ItSmoothRowApply(&G, &R, s, xl + R.o, ba ? ba + R.l0 : NULL, ya + R.l0, s->work);
  }
  PetscCall(VecRestoreArray(y, &ya));
  if (b) PetscCall(VecRestoreArrayRead(b, &ba));
  PetscCall(VecRestoreArrayRead(local, &xl));
  PetscCall(DMRestoreLocalVector(info->da, &local));
  /* the assembled product's flops (2 per entry less one per row, and one more for a
     residual), so that counts of fine-grid products compare across the two paths */
  PetscCall(PetscLogFlops(info->nlocal * (4.0 * G.d + 1 + (b ? 1 : 0))));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSmoothMult(Mat A, Vec x, Vec y) {
  PetscFunctionBegin;
  PetscCall(ItSmoothApply(A, NULL, x, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSmoothResidual(Mat A, Vec b, Vec x, Vec r) {
  ItSmoothOp *s;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  if (s->fused_r && r == s->fused_r && b == s->fused_b && x == s->fused_x) {
    s->fused_r = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItSmoothApply(A, b, x, r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSmoothGetDiagonal(Mat A, Vec d) {
  ItSmoothOp      *s;
  ItSmoothGeometry G;
  PetscScalar     *da;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  ItSmoothGeometryGet(s, &G);
  PetscCall(VecGetArray(d, &da));
  for (PetscInt r = 0; r < G.rows; r++) {
    ItSmoothRow R;
    ItSmoothRowGet(&G, r, &R);
    ItSmoothRowDiagonal(&G, &R, s->scale * s->shift, da + R.l0);
  }
  if (s->pin >= 0) da[s->pin] = s->pin_value;
  PetscCall(VecRestoreArray(d, &da));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSmoothDestroy(Mat A) {
  ItSmoothOp *s;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  PetscCall(PetscFree(s->work));
  PetscCall(PetscFree(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether faces can be applied and smoothed here: not with a threshold_reset
   axis (its re-injection R, or at order 4 its closures). Not collective. */
PetscBool ItSmoothSupported(ItFaces faces) {
  return (PetscBool)(!ItFacesGetReset(faces) && !ItFacesGetClosure(faces));
}

/* J = scale (shift I - L) of the faces' Scharfetter–Gummel coefficients as a
   MatShell (shift 0, scale 1, no pinned row until set): MatMult, MatResidual
   and MatGetDiagonal from the faces, and the symmetric Gauss–Seidel of
   ItSmoothSetUpPC. The faces stay the caller's and are read at every
   product (a new time changes them in place). Collective. */
PetscErrorCode ItSmoothCreateOperator(ItGrid grid, ItFaces faces, Mat *A) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItSmoothOp       *s;
  Vec               v;
  VecType           type;

  PetscFunctionBegin;
  PetscCheck(ItSmoothSupported(faces), info->comm, PETSC_ERR_SUP,
             "a threshold_reset axis needs the assembled operator (-fp_matrix_free false)");
  PetscCall(PetscNew(&s));
  s->grid  = grid;
  s->faces = faces;
  s->scale = 1;
  s->pin   = -1;
  PetscCall(PetscMalloc1(4 * info->xm[info->order[0]], &s->work));
  PetscCall(MatCreateShell(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                           s, A));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT, (void (*)(void))ItSmoothMult));
  PetscCall(MatShellSetOperation(*A, MATOP_RESIDUAL, (void (*)(void))ItSmoothResidual));
  PetscCall(MatShellSetOperation(*A, MATOP_GET_DIAGONAL, (void (*)(void))ItSmoothGetDiagonal));
  PetscCall(MatShellSetOperation(*A, MATOP_DESTROY, (void (*)(void))ItSmoothDestroy));
  PetscCall(DMGetGlobalVector(info->da, &v)); /* the grid's vectors (and their type) */
  PetscCall(VecGetType(v, &type));
  PetscCall(MatShellSetVecType(*A, type));
  PetscCall(DMRestoreGlobalVector(info->da, &v));
  PetscCall(PetscObjectSetName((PetscObject)*A, "FokkerPlanckFaces"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether A is a matrix of ItSmoothCreateOperator. Not collective. */
PetscBool ItSmoothIsOperator(Mat A) {
  PetscBool shell    = PETSC_FALSE;
  void (*mult)(void) = NULL;

  if (!A || PetscObjectTypeCompare((PetscObject)A, MATSHELL, &shell) || !shell) return PETSC_FALSE;
  if (MatShellGetOperation(A, MATOP_MULT, &mult)) return PETSC_FALSE;
  return (PetscBool)(mult == (void (*)(void))ItSmoothMult);
}

/* The shift and scale of J = scale (shift I - L). Not collective. */
PetscErrorCode ItSmoothOperatorSetShift(Mat A, PetscReal shift, PetscReal scale) {
  ItSmoothOp *s;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  s->shift = shift;
  s->scale = scale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Replaces row `row` (global index; -1: none) by value times the unknown.
   Not collective. */
PetscErrorCode ItSmoothOperatorSetPin(Mat A, PetscInt row, PetscScalar value) {
  ItSmoothOp *s;
  PetscInt    lo, hi;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  s->pinned    = (PetscBool)(row >= 0);
  s->pin       = row >= lo && row < hi ? row - lo : -1;
  s->pin_value = value;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diagonal entry of row `row` (global index, owned here) of an
   assembled matrix or of one of ItSmoothCreateOperator. Not collective. */
PetscErrorCode ItSmoothDiagonalAt(Mat A, PetscInt row, PetscScalar *value) {
  ItSmoothOp      *s;
  ItSmoothGeometry G;
  ItSmoothRow      R;
  PetscInt         lo, hi;
  PetscScalar     *dg;

  PetscFunctionBegin;
  if (!ItSmoothIsOperator(A)) {
    PetscCall(MatGetValue(A, row, row, value));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(MatShellGetContext(A, &s));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  PetscCheck(row >= lo && row < hi, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "row %" PetscInt_FMT " is not owned here", row);
  if (row - lo == s->pin) {
    *value = s->pin_value;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  ItSmoothGeometryGet(s, &G);
  ItSmoothRowGet(&G, (row - lo) / G.m0, &R);
  dg = s->work + 2 * G.m0;
  ItSmoothRowDiagonal(&G, &R, s->scale * s->shift, dg);
  *value = dg[(row - lo) % G.m0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same J assembled (for a preconditioner that needs entries: the
   stationary solve's BoomerAMG and LU fall-backs), its pinned row as
   MatZeroRows leaves it. Collective. */
PetscErrorCode ItSmoothOperatorAssemble(Mat A, Mat *J) {
  ItSmoothOp *s;
  PetscInt    lo, row;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  PetscCall(ItFPCreateMatrix(s->grid, J));
  PetscCall(ItFPAssembleShifted(s->faces, s->shift, s->scale, *J));
  PetscCall(MatGetOwnershipRange(A, &lo, NULL));
  row = s->pin >= 0 ? lo + s->pin : 0;
  PetscCall(MatSetOption(*J, MAT_KEEP_NONZERO_PATTERN, PETSC_TRUE));
  if (s->pinned) PetscCall(MatZeroRows(*J, s->pin >= 0 ? 1 : 0, &row, s->pin_value, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* `sweeps` Gauss–Seidel sweeps of J x = b from x (from 0 when zero), each
   with one ghost exchange: symmetric (both: forward then backward), or one
   direction each, the first `forward` and the next ones alternating. */
static PetscErrorCode ItSmoothSweeps(Mat A, Vec b, Vec x, PetscInt sweeps, PetscBool zero,
                                     PetscBool both, PetscBool forward) {
  ItSmoothOp        *s;
  ItSmoothGeometry   G;
  const ItGridInfo  *info;
  Vec                local;
  const PetscScalar *ba;
  PetscScalar       *xl, *xa, *r, *cc, *dg;
  PetscReal          flops = 0;

  PetscFunctionBegin;
  PetscCall(ItSmoothGetContext(A, &s));
  s->fused_r = NULL;
  ItSmoothGeometryGet(s, &G);
  info = ItGridGetInfo(G.grid);
  r    = s->work;
  cc   = s->work + G.m0;
  dg   = s->work + 2 * G.m0;
  PetscCall(DMGetLocalVector(info->da, &local));
  PetscCall(VecGetArrayRead(b, &ba));
  for (PetscInt k = 0; k < sweeps; k++) {
    const PetscBool from_zero = (PetscBool)(zero && k == 0);
    ItSmoothRow     R;
    if (from_zero)
      PetscCall(VecSet(local, 0));
    else
      PetscCall(DMGlobalToLocal(info->da, x, INSERT_VALUES, local));
    PetscCall(VecGetArray(local, &xl));
    PetscCall(VecGetArray(x, &xa));
    if (both || forward) {
      ItSmoothRowGet(&G, 0, &R);
      for (PetscInt q = 0; q < G.rows; q++, ItSmoothRowStep(&G, &R, PETSC_TRUE))
        ItSmoothRowSweep(&G, &R, s, PETSC_TRUE, ba + R.l0, xl + R.o, both ? NULL : xa + R.l0, r, cc,
                         dg);
    }
    if (both || !forward) {
      ItSmoothRowGet(&G, G.rows - 1, &R);
      for (PetscInt q = G.rows - 1; q >= 0; q--, ItSmoothRowStep(&G, &R, PETSC_FALSE))
        ItSmoothRowSweep(&G, &R, s, PETSC_FALSE, ba + R.l0, xl + R.o, xa + R.l0, r, cc, dg);
    }
    PetscCall(VecRestoreArray(x, &xa));
    PetscCall(VecRestoreArray(local, &xl));
    /* as PETSc's SOR of the assembled matrix counts them (measured on MatSOR_SeqAIJ: a
       symmetric sweep 2 per entry and 1 per row from zero, 3 per entry from a guess; one
       direction 1 per entry from zero, 2 from a guess), so that counts of fine-grid
       products per solve compare across the two paths */
    if (both)
      flops += (2.0 * G.d + 1) * (from_zero ? 2 : 3) + (from_zero ? 1 : 0);
    else
      flops += (2.0 * G.d + 1) * (from_zero ? 1 : 2);
    forward = (PetscBool)!forward;
  }
  PetscCall(VecRestoreArrayRead(b, &ba));
  PetscCall(DMRestoreLocalVector(info->da, &local));
  PetscCall(PetscLogFlops(info->nlocal * flops));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the backward pass over row R (x: its new values in the ghosted
   array, old: them before the pass), the row's change δ into the residual
   of the cells that read this row's old values in that pass: along a0 the
   next cell (and across a seam this rank owns whole, the row's last cell
   from its first), along another axis the row above in this rank's block
   (and across such a seam, the last row from the first). Returns the flops. */
static PetscReal ItSmoothRowSpread(const ItSmoothGeometry *G, const ItSmoothRow *R,
                                   const PetscScalar *x, PetscScalar old[], PetscScalar res[]) {
  const ItGridInfo *info = ItGridGetInfo(G->grid);
  const PetscInt    m0 = G->m0, a0 = G->a0;
  PetscReal         flops = m0;

  for (PetscInt i = 0; i < m0; i++) old[i] = x[i] - old[i]; /* δ */
  {
    const PetscReal  w  = G->w[a0];
    const PetscReal *ll = G->lo[a0] + R->off[a0];
    for (PetscInt i = 1; i < m0; i++) res[i] += w * ll[i] * old[i - 1];
    if (G->wrap[a0]) res[m0 - 1] += w * G->hi[a0][R->off[a0] + m0] * old[0];
    flops += 2.0 * m0;
  }
  for (PetscInt a = 0; a < G->d; a++) {
    const PetscReal w = G->w[a];
    const PetscInt  f = G->fs[a];
    if (a == a0) continue;
    if (R->c[a] + 1 < info->xs[a] + info->xm[a]) { /* the row above, swept before this one */
      const PetscReal *lu = G->lo[a] + R->off[a] + f;
      PetscScalar     *ru = res + f;
      for (PetscInt i = 0; i < m0; i++) ru[i] += w * lu[i] * old[i];
      flops += 2.0 * m0;
    }
    if (G->wrap[a] && R->c[a] == 0) { /* the last row read this one across the seam */
      const PetscInt   n  = G->wrap[a];
      const PetscReal *hu = G->hi[a] + R->off[a] + n * f;
      PetscScalar     *ru = res + (n - 1) * f;
      for (PetscInt i = 0; i < m0; i++) ru[i] += w * hu[i] * old[i];
      flops += 2.0 * m0;
    }
  }
  return flops;
}

/* The neighbours on other ranks (x: the ghosted array at the row's first
   cell) times sign into the row's residual: after the exchange (+1) the
   values the sweep did not read, and before it (-1) those it did. Returns
   the flops. */
static PetscReal ItSmoothRowOffRank(const ItSmoothGeometry *G, const ItSmoothRow *R, PetscReal sign,
                                    const PetscScalar *x, PetscScalar res[]) {
  const ItGridInfo *info = ItGridGetInfo(G->grid);
  const PetscInt    m0 = G->m0, a0 = G->a0;
  PetscReal         flops = 0;

  for (PetscInt a = 0; a < G->d; a++) {
    const PetscReal  w  = sign * G->w[a];
    const PetscInt   g  = G->gs[a];
    const PetscReal *ll = G->lo[a] + R->off[a], *hh = G->hi[a] + R->off[a] + G->fs[a];
    const PetscBool  low = (PetscBool)(R->c[a] == info->xs[a] && R->i_lo[a] == 0);
    const PetscBool  high =
        (PetscBool)(R->c[a] + (a == a0 ? m0 : 1) == info->xs[a] + info->xm[a] && R->i_hi[a] == m0);
    if (G->wrap[a]) continue; /* a seam this rank owns whole: swept */
    if (a == a0) {
      if (low) res[0] += w * ll[0] * x[-1];
      if (high) res[m0 - 1] += w * hh[m0 - 1] * x[m0];
      flops += 2.0 * (low + high);
      continue;
    }
    if (low)
      for (PetscInt i = 0; i < m0; i++) res[i] += w * ll[i] * x[i - g];
    if (high)
      for (PetscInt i = 0; i < m0; i++) res[i] += w * hh[i] * x[i + g];
    flops += 2.0 * m0 * (low + high);
  }
  return flops;
}

/* `sweeps` symmetric sweeps of J x = b from x (from 0 when zero) whose last
   one leaves the residual b - J x in res as well, from the changes of its
   backward pass instead of a product: that pass solved each row with the
   values it found, so a cell's residual is what its neighbours changed after
   it read them, the rows below it (their forward values) and the neighbours
   on other ranks (read at their values before the sweep, exchanged after
   it). MatResidual of the same b, x and res then returns at once
   (ItSmoothResidual). In 2-D 5 flops a cell and one ghost exchange, where
   the product costs 10 and the same exchange. */
static PetscErrorCode ItSmoothSweepResidual(Mat A, Vec b, Vec x, Vec res, PetscInt sweeps,
                                            PetscBool zero) {
  ItSmoothOp        *s;
  ItSmoothGeometry   G;
  const ItGridInfo  *info;
  Vec                local;
  const PetscScalar *ba;
  PetscScalar       *xl, *xa, *ra, *r, *cc, *dg, *old;
  PetscReal          flops;
  ItSmoothRow        R;

  PetscFunctionBegin;
  if (sweeps > 1) PetscCall(ItSmoothSweeps(A, b, x, sweeps - 1, zero, PETSC_TRUE, PETSC_TRUE));
  zero = (PetscBool)(zero && sweeps == 1);
  PetscCall(ItSmoothGetContext(A, &s));
  ItSmoothGeometryGet(s, &G);
  info = ItGridGetInfo(G.grid);
  r    = s->work;
  cc   = s->work + G.m0;
  dg   = s->work + 2 * G.m0;
  old  = s->work + 3 * G.m0;
  flops =
      info->nlocal * (zero ? 2.0 * (2.0 * G.d + 1) + 1 : 3.0 * (2.0 * G.d + 1)); /* as logged
                                                                              by ItSmoothSweeps */
  PetscCall(DMGetLocalVector(info->da, &local));
  if (zero)
    PetscCall(VecSet(local, 0));
  else
    PetscCall(DMGlobalToLocal(info->da, x, INSERT_VALUES, local));
  PetscCall(VecGetArrayRead(b, &ba));
  PetscCall(VecGetArray(local, &xl));
  PetscCall(VecGetArray(x, &xa));
  PetscCall(VecGetArray(res, &ra));
  ItSmoothRowGet(&G, 0, &R);
  for (PetscInt q = 0; q < G.rows; q++, ItSmoothRowStep(&G, &R, PETSC_TRUE))
    ItSmoothRowSweep(&G, &R, s, PETSC_TRUE, ba + R.l0, xl + R.o, NULL, r, cc, dg);
  PetscCall(PetscArrayzero(ra, info->nlocal));
  ItSmoothRowGet(&G, G.rows - 1, &R);
  for (PetscInt q = G.rows - 1; q >= 0; q--, ItSmoothRowStep(&G, &R, PETSC_FALSE)) {
    for (PetscInt i = 0; i < G.m0; i++) old[i] = xl[R.o + i];
    ItSmoothRowSweep(&G, &R, s, PETSC_FALSE, ba + R.l0, xl + R.o, xa + R.l0, r, cc, dg);
    flops += ItSmoothRowSpread(&G, &R, xl + R.o, old, ra + R.l0);
  }
  if (!zero) { /* the values of the other ranks' cells the sweep read (0 from zero) */
    ItSmoothRowGet(&G, 0, &R);
    for (PetscInt q = 0; q < G.rows; q++, ItSmoothRowStep(&G, &R, PETSC_TRUE))
      flops += ItSmoothRowOffRank(&G, &R, -1, xl + R.o, ra + R.l0);
  }
  PetscCall(VecRestoreArray(x, &xa));
  PetscCall(VecRestoreArray(local, &xl));
  PetscCall(DMGlobalToLocal(info->da, x, INSERT_VALUES, local));
  PetscCall(VecGetArray(local, &xl));
  ItSmoothRowGet(&G, 0, &R);
  for (PetscInt q = 0; q < G.rows; q++, ItSmoothRowStep(&G, &R, PETSC_TRUE))
    flops += ItSmoothRowOffRank(&G, &R, 1, xl + R.o, ra + R.l0);
  PetscCall(VecRestoreArray(local, &xl));
  if (s->pin >= 0) { /* its row has no neighbours: solved exactly but for round-off */
    const PetscScalar *xr;
    PetscCall(VecGetArrayRead(x, &xr));
    ra[s->pin] = ba[s->pin] - s->pin_value * xr[s->pin];
    PetscCall(VecRestoreArrayRead(x, &xr));
  }
  PetscCall(VecRestoreArray(res, &ra));
  PetscCall(VecRestoreArrayRead(b, &ba));
  PetscCall(DMRestoreLocalVector(info->da, &local));
  PetscCall(PetscLogFlops(flops));
  s->fused_r = res;
  s->fused_b = b;
  s->fused_x = x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A level smoother's state: its sweeps and whether its next call from a
   guess is a post-smoothing. */
typedef struct {
  ItSmoothDirection direction;
  PetscBool         post;
  PetscInt          post_sweeps; /* a post-smoothing's sweeps (0: the KSP's) */
  Vec               residual;    /* the multigrid's residual on this level (NULL: none) */
} ItSmoothPC;

/* The preconditioner's apply: one sweep from zero (symmetric, or forward). */
static PetscErrorCode ItSmoothPCApply(PC pc, Vec b, Vec x) {
  Mat         P;
  ItSmoothPC *sp;

  PetscFunctionBegin;
  PetscCall(PCGetOperators(pc, NULL, &P));
  PetscCall(PCShellGetContext(pc, &sp));
  PetscCall(ItSmoothSweeps(P, b, x, 1, PETSC_TRUE,
                           (PetscBool)(sp->direction != IT_SMOOTH_ALTERNATING), PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* KSPRICHARDSON's fast path (as PCSOR's): `its` sweeps, no residual. PCMG
   calls a level's smoother before its coarse correction and after it, the
   first call of a visit from zero but a W-cycle's second visit of a level
   from a guess: a call from zero is a pre-smoothing, and the calls from a
   guess alternate between post- and pre-smoothing. IT_SMOOTH_SYMMETRIC:
   symmetric sweeps; IT_SMOOTH_ALTERNATING: forward before, backward after;
   IT_SMOOTH_SYMMETRIC_BACKWARD: symmetric before, backward after. A symmetric
   pre-smoothing leaves the residual in the multigrid's vector too
   (ItSmoothPCSetResidual); a post-smoothing may take more sweeps than the
   KSP's (ItSmoothPCSetPostSweeps). */
static PetscErrorCode ItSmoothPCApplyRichardson(PC pc, Vec b, Vec x, Vec w, PetscReal rtol,
                                                PetscReal abstol, PetscReal dtol, PetscInt its,
                                                PetscBool zero, PetscInt *done,
                                                PCRichardsonConvergedReason *reason) {
  Mat         P;
  ItSmoothPC *sp;
  PetscBool   post, both;

  PetscFunctionBegin;
  (void)w, (void)rtol, (void)abstol, (void)dtol;
  PetscCall(PCGetOperators(pc, NULL, &P));
  PetscCall(PCShellGetContext(pc, &sp));
  post     = (PetscBool)(!zero && sp->post);
  sp->post = (PetscBool)!post;
  if (post) its = PetscMax(its, sp->post_sweeps);
  both = (PetscBool)(sp->direction == IT_SMOOTH_SYMMETRIC ||
                     (sp->direction == IT_SMOOTH_SYMMETRIC_BACKWARD && !post));
  if (both && !post && sp->residual)
    PetscCall(ItSmoothSweepResidual(P, b, x, sp->residual, its, zero));
  else
    PetscCall(ItSmoothSweeps(P, b, x, its, zero, both, (PetscBool)!post));
  *done   = its;
  *reason = PCRICHARDSON_CONVERGED_ITS;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSmoothPCDestroy(PC pc) {
  ItSmoothPC *sp;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &sp));
  PetscCall(VecDestroy(&sp->residual));
  PetscCall(PetscFree(sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A pre-smoothing from zero of the smoother pc (of ItSmoothSetUpPC, symmetric)
   also leaves the residual in `residual`, the vector the multigrid computes
   its level's residual into (PCMGSetR): its MatResidual then costs nothing
   (ItSmoothSweepResidual). NULL: no more. Not collective. */
PetscErrorCode ItSmoothPCSetResidual(PC pc, Vec residual) {
  ItSmoothPC *sp;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &sp));
  PetscCheck(sp, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONGSTATE,
             "the smoother is not set up (ItSmoothSetUpPC)");
  if (residual) PetscCall(PetscObjectReference((PetscObject)residual));
  PetscCall(VecDestroy(&sp->residual));
  sp->residual = residual;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post-smoothing of the smoother pc (of ItSmoothSetUpPC) takes `sweeps`
   sweeps, or its KSP's iterations if more (0: those). Not collective. */
PetscErrorCode ItSmoothPCSetPostSweeps(PC pc, PetscInt sweeps) {
  ItSmoothPC *sp;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &sp));
  PetscCheck(sp, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONGSTATE,
             "the smoother is not set up (ItSmoothSetUpPC)");
  sp->post_sweeps = sweeps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* pc as the Gauss–Seidel of its preconditioning matrix, one of
   ItSmoothCreateOperator (read at every apply, so a new shift or pin
   applies at once): symmetric sweeps, or (IT_SMOOTH_ALTERNATING) one
   direction per sweep as ItSmoothPCApplyRichardson alternates them.
   Collective. */
PetscErrorCode ItSmoothSetUpPC(PC pc, ItSmoothDirection direction) {
  ItSmoothPC *sp    = NULL;
  PetscBool   shell = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSHELL, &shell));
  if (shell) PetscCall(PCShellGetContext(pc, &sp)); /* set up before: kept */
  if (!sp) {
    PetscCall(PCSetType(pc, PCSHELL));
    PetscCall(PetscNew(&sp));
    PetscCall(PCShellSetContext(pc, sp));
    PetscCall(PCShellSetDestroy(pc, ItSmoothPCDestroy));
  }
  sp->direction = direction;
  sp->post      = PETSC_FALSE;
  PetscCall(PCShellSetApply(pc, ItSmoothPCApply));
  PetscCall(PCShellSetApplyRichardson(pc, ItSmoothPCApplyRichardson));
  PetscCall(PCShellSetName(pc, direction == IT_SMOOTH_SYMMETRIC
                                   ? "symmetric Gauss-Seidel on the face coefficients"
                               : direction == IT_SMOOTH_ALTERNATING
                                   ? "Gauss-Seidel on the face coefficients, forward before the "
                                     "coarse correction and backward after"
                                   : "Gauss-Seidel on the face coefficients, symmetric before the "
                                     "coarse correction and backward after"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -fp_matrix_free: whether the multigrid's levels (but the coarsest) and the
   smoothers work from the faces. Collective. */
PetscErrorCode ItSmoothFromOptions(MPI_Comm comm, PetscBool *matrix_free) {
  PetscFunctionBegin;
  *matrix_free = PETSC_TRUE;
  PetscOptionsBegin(comm, NULL, "Multigrid options", "ItMG");
  PetscCall(PetscOptionsBool(
      "-fp_matrix_free",
      "the multigrid's operators (all but the coarsest level) applied from the face coefficients "
      "and smoothed by symmetric Gauss-Seidel on them; false: assembled, with PETSc's SOR",
      NULL, *matrix_free, matrix_free, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}
