/* Fourth-order closures at the threshold and the reset of a threshold_reset
   axis (-fp_order 4; doc/numerics.md, "Threshold and reset at order 4").
   The interior faces' fourth-order flux (src/fp/fp.c) reads the point values
   p_i at the cell centres and carries F = J - h^2 J''/24 + O(h^4) at the face
   (J = A p - ∂(D p)), so that (F_hi - F_lo)/h = J'(x_i) + O(h^4).
   Threshold: the two faces next to it (whose stencil leaves the box) take the
   same functional of the quartic through cells n-4 .. n-1 and p(V_th) = 0,
     F = Σ_j (α_j A_j p_j - β_j D_j p_j / h),
   α_j = (ℓ_j - ℓ_j''/24)(0), β_j = (ℓ_j' - ℓ_j'''/24)(0), ℓ_j the Lagrange
   polynomials (in units of h, the face at 0); the threshold face's F is the
   firing rate. Reset, V_r on face r: p is continuous there but its
   derivatives jump, the re-injected current ν making J jump by ν: with
   q = D p and ρ = A/D at V_r, [q'] = -ν, [q''] = -ρ ν, [q'''] = -(ρ' + ρ^2) ν
   and [(A p)^(k)] likewise (from [J] = ν and [J'] = [J''] = 0, the
   stationary state's; a transient's dν/dt enters [J''] and is left out). The
   three faces whose stencil straddles V_r keep the interior stencil but read
   the cells across V_r as the other side's smooth continuation (the cell's
   value less the jump's cubic Taylor polynomial): face r-1 the lower piece's
   flux, face r+1 the upper's, face r their mean, with the current split half
   and half into cells r-1 and r. The corrections are linear in ν, so the
   reset's shape (the re-injected density per unit current) gains them: the
   two cells' halves plus the straddling faces' correction currents, which sum
   to zero. Mass stays exact (every face's current enters its two cells with
   opposite signs, and the shape sums to one). Each closure face is blended
   with its Scharfetter–Gummel face by the interior's weight theta. When V_r
   lies inside a cell, or fewer than four cells separate it from the box's
   ends, the reset keeps the linear weights of order 2, the three faces whose
   stencils straddle it fall back to Scharfetter–Gummel's (a kink between
   their cells spoils the fourth-order stencil), and the threshold's
   polynomial takes only the cells above it (a cubic through three, ...; face
   n-1 Scharfetter–Gummel's with fewer than two). The threshold faces'
   divergence C_a, the threshold's loss O_a and the re-injection R4 (shape
   times loss) are sparse matrices applied after the stencil (their cells may
   lie beyond the two ghosts). */
#include <infotherm/fp.h>

struct _p_ItFPClosure {
  ItGrid      grid;
  ItModelWork work;
  PetscInt    reset_face[IT_MAX_DIM]; /* the face holding V_r (-1: inside a cell or too close) */
  /* the first cell of the piece above V_r: the threshold's quartic takes cells
     max(n-4, upper) .. n-1 (fewer than four when V_r is that close); without
     the reset's corrections (reset_face -1) the faces upper-1 .. upper+1,
     whose stencils straddle V_r, are Scharfetter–Gummel's */
  PetscInt  upper[IT_MAX_DIM];
  Mat       C[IT_MAX_DIM]; /* the closure faces' divergence along a threshold_reset axis */
  Mat       O[IT_MAX_DIM]; /* the threshold's loss rate per unit volume at the last cells */
  Mat       R4;            /* its re-injection at the reset cells (the axes not delayed) */
  Vec       S;             /* the reset's shape per unit current (the refractory source's) */
  PetscReal bytes;         /* in the memory ledger's faces (after the first assembly) */
};

/* The functional's weights alpha, beta (see above) of the Lagrange polynomials
   through the m points s[] (in units of h, the face at 0). */
static void ItFPClosureWeights(PetscInt m, const PetscReal s[], PetscReal alpha[],
                               PetscReal beta[]) {
  for (PetscInt j = 0; j < m; j++) {
    /* the coefficients of l_j(x) = Π_{k≠j} (x - s_k)/(s_j - s_k), lowest first */
    PetscReal c[8] = {1, 0, 0, 0, 0, 0, 0, 0}, den = 1;
    PetscInt  deg = 0;
    for (PetscInt k = 0; k < m; k++) {
      if (k == j) continue;
      for (PetscInt q = deg + 1; q > 0; q--) c[q] = c[q - 1] - s[k] * c[q];
      c[0] = -s[k] * c[0];
      deg++;
      den *= s[j] - s[k];
    }
    /* l(0) = c0, l'(0) = c1, l''(0) = 2 c2, l'''(0) = 6 c3 */
    alpha[j] = (c[0] - 2 * c[2] / 24) / den;
    beta[j]  = (c[1] - 6 * c[3] / 24) / den;
  }
}

/* The reset's corrections continue each piece across V_r by the jump's cubic
   Taylor polynomial, whose terms grow as (rho h)^k, rho = A/D at V_r (the
   inverse decay length of the density below a reset the drift pushes up
   to): beyond rho h = IT_CLOSURE_RHO_H they make the faces worse than none
   (rho h: the largest over the other variables' cells at V_r, with the
   model's parameters at t = 0, once per grid; the axis keeps all of its
   reset corrections or none)
   (the lif model at mu = 1.2, rho = 26.7: 2.3 at 32 cells, the rate 2.25 %
   off with them and 1.6 % without; from 14 to 24 cells, rho h 2.9-4.7, the
   density oscillated below the reset, 2.9 % of it negative; 1.56 at 48
   cells, 0.41 % with and 0.67 % without). */
#define IT_CLOSURE_RHO_H 2.0

/* The largest |A_a/D_a| h_a at the reset point of axis a over the other
   variables' cells, with the model's parameters at t = 0. Collective. */
static PetscErrorCode ItFPClosureResetSteepness(ItFPClosure cl, ItModel model, PetscInt a,
                                                PetscInt k, PetscReal *rho_h) {
  const ItGridInfo *info = ItGridGetInfo(cl->grid);
  const PetscInt    d    = info->dim;
  PetscReal         p[IT_MAX_PARAMS], x[IT_MAX_DIM], A[IT_MAX_DIM], D[IT_MAX_DIM], local = 0;

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(model, 0, p));
  ItGridForOwned(cl->grid, c, l) {
    (void)l;
    if (c[a] != k) continue;
    for (PetscInt b = 0; b < d; b++) x[b] = ItGridCoordinate(cl->grid, b, c[b]);
    x[a] = info->reset[a];
    PetscCall(ItModelEvaluateWork(cl->work, 0, p, 1, x, A, D));
    if (D[a] > 0) local = PetscMax(local, PetscAbsReal(A[a] / D[a]) * info->h[a]);
  }
  PetscCall(ItGridMaxAbs(cl->grid, local, rho_h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective. NULL unless -fp_order 4 with a threshold_reset axis. */
PetscErrorCode ItFPClosureCreate(ItGrid grid, ItModel model, ItFPClosure *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItFPClosure       cl;

  PetscInt *rnz;

  PetscFunctionBegin;
  *out = NULL;
  if (info->order_fp != 4 || !info->threshold) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&cl));
  cl->grid = grid;
  PetscCall(ItModelWorkCreate(model, &cl->work));
  PetscCall(PetscCalloc1(info->nlocal, &rnz)); /* R4's rows: the reset cells, 4 columns each */
  for (PetscInt a = 0; a < info->dim; a++) {
    PetscInt *dnz, *onz, k, n = info->n[a];
    PetscReal w;
    cl->reset_face[a] = -1;
    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET) continue;
    ItGridResetCells(grid, a, &k, &w);
    /* on a face (w = 1/2 to round-off), four cells or more from either end, and rho h at most
       IT_CLOSURE_RHO_H */
    if (PetscAbsReal(w - 0.5) < 1e-9 && k + 1 >= 4 && k + 1 + 4 <= n) {
      PetscReal rho_h;
      PetscCall(ItFPClosureResetSteepness(cl, model, a, k, &rho_h));
      if (rho_h <= IT_CLOSURE_RHO_H) cl->reset_face[a] = k + 1;
    }
    cl->upper[a] = w > 0 ? k + 1 : k;
    ItGridForOwned(grid, c, l) {
      const PetscInt r = cl->reset_face[a];
      if (r >= 0 ? c[a] >= r - 2 && c[a] <= r + 1 : c[a] == k || c[a] == k + 1) rnz[l] += 4;
    }
    PetscCall(PetscMalloc2(info->nlocal, &dnz, info->nlocal, &onz));
    ItGridForOwned(grid, c, l) { /* faces n-1, n, and upper-1 .. upper+1 */
      const PetscInt u = cl->upper[a];
      dnz[l] = onz[l] = c[a] >= n - 3 || (c[a] >= u - 2 && c[a] <= u + 1) ? 12 : 0;
    }
    PetscCall(MatCreateAIJ(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                           0, dnz, 0, onz, &cl->C[a]));
    ItGridForOwned(grid, c, l) dnz[l] = onz[l] = c[a] == n - 1 ? 4 : 0;
    PetscCall(MatCreateAIJ(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                           0, dnz, 0, onz, &cl->O[a]));
    PetscCall(PetscFree2(dnz, onz));
    PetscCall(MatSetOption(cl->C[a], MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
    PetscCall(MatSetOption(cl->O[a], MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  }
  PetscCall(MatCreateAIJ(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                         0, rnz, 0, rnz, &cl->R4));
  PetscCall(PetscFree(rnz));
  PetscCall(MatSetOption(cl->R4, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  PetscCall(DMCreateGlobalVector(info->da, &cl->S));
  PetscCall(PetscObjectSetName((PetscObject)cl->R4, "Reset4"));
  *out = cl;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItFPClosureDestroy(ItFPClosure *cl) {
  PetscFunctionBegin;
  if (!*cl) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    PetscCall(MatDestroy(&(*cl)->C[a]));
    PetscCall(MatDestroy(&(*cl)->O[a]));
  }
  PetscCall(MatDestroy(&(*cl)->R4));
  PetscCall(VecDestroy(&(*cl)->S));
  ItMemoryAdd(IT_MEMORY_FACES, -(*cl)->bytes);
  PetscCall(ItModelWorkDestroy(&(*cl)->work));
  PetscCall(PetscFree(*cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether face `face` (1 .. n-1) along axis a reads cells on both sides of
   a reset that takes no corrections (fewer than four cells from an end, or
   inside a cell): it falls back to Scharfetter–Gummel's two-point current,
   which a kink between its cells does not spoil. */
static PetscBool ItFPClosureStraddles(ItFPClosure cl, PetscInt a, PetscInt face) {
  const PetscInt u = cl->upper[a];

  return (PetscBool)(cl->reset_face[a] < 0 && face >= 1 && face >= u - 1 && face <= u + 1);
}

/* Whether face `face` along axis a takes a closure (its Scharfetter–Gummel
   and fourth-order weights are then left out of the stencil). Not collective. */
PetscBool ItFPClosureFace(ItFPClosure cl, PetscInt a, PetscInt face) {
  const ItGridInfo *info = ItGridGetInfo(cl->grid);

  if (!cl->C[a]) return PETSC_FALSE;
  return (PetscBool)(face >= info->n[a] - 1 || ItFPClosureStraddles(cl, a, face));
}

/* Before the faces are set: the closures start empty. Collective. */
PetscErrorCode ItFPClosureBegin(ItFPClosure cl) {
  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    if (!cl->C[a]) continue;
    PetscCall(MatZeroEntries(cl->C[a]));
    PetscCall(MatZeroEntries(cl->O[a]));
  }
  PetscCall(MatZeroEntries(cl->R4));
  PetscCall(VecSet(cl->S, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The one-sided flux of face `face` along axis a of the pencil through c, at
   time t with parameters p: into cells[] (global indices) and weights wt[]
   (F = Σ wt p), *m of them. side < 0: the points below (cells face-5 ..
   face-1 at the reset, face-4 .. face-1 and V_th at the threshold), > 0:
   above (face .. face+4). Not collective. */
static PetscErrorCode ItFPClosureSide(ItFPClosure cl, PetscReal t, const PetscReal p[], PetscInt a,
                                      const PetscInt c[], PetscInt face, PetscInt first,
                                      PetscInt ncell, PetscBool zero_at_threshold, PetscInt cells[],
                                      PetscReal wt[]) {
  ItGrid            grid = cl->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscReal s[6], alpha[6], beta[6], x[5 * IT_MAX_DIM], A[5 * IT_MAX_DIM], D[5 * IT_MAX_DIM];
  PetscInt  cell[IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt b = 0; b < IT_MAX_DIM; b++) cell[b] = c[b];
  for (PetscInt j = 0; j < ncell; j++) {
    s[j] = first + j + 0.5 - face;
    for (PetscInt b = 0; b < d; b++) x[j * d + b] = ItGridCoordinate(grid, b, c[b]);
    x[j * d + a] = ItGridCoordinate(grid, a, first + j);
    cell[a]      = first + j;
    PetscCall(ItGridGlobalIndex(grid, cell, &cells[j]));
  }
  if (zero_at_threshold) s[ncell] = info->n[a] - face; /* p(V_th) = 0: no weight */
  ItFPClosureWeights(ncell + (zero_at_threshold ? 1 : 0), s, alpha, beta);
  PetscCall(ItModelEvaluateWork(cl->work, t, p, ncell, x, A, D));
  for (PetscInt j = 0; j < ncell; j++)
    wt[j] = alpha[j] * A[j * d + a] - beta[j] * D[j * d + a] / info->h[a];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The blend weight theta of the interior's fourth-order faces at face `face`
   (ItFacesPencilTheta, src/fp/fp.c): from the drift and diffusion at the
   face and the drift's change over a cell, theta = 1 / (1 + (Pe/Pe_half)^4 +
   (R/R_half)^4), R = h^2 / s^2. s^2 = D_a / k_a (k_a = |dA_a/dx_a|) in a
   transient; for the stationary command (ItGridSetStationaryWidth) the
   stationary law's width as the interior faces measure it,
     s^2 = (D_a + sum_b g_b^2 D_b / (k_a + k_b)^2) / k_a,
   g_b = dA_a/dx_b, k_b = |dA_b/dx_b| by central differences half a cell off
   the face along each other axis b (inside the box): what a driven variable
   (the lif_inference model's V, driven by v) inherits from its driver. A
   term whose points give no finite drift or no positive diffusion is left
   out. Not collective. */
static PetscErrorCode ItFPClosureTheta(ItFPClosure cl, PetscReal t, const PetscReal p[], PetscInt a,
                                       const PetscInt c[], PetscInt face, PetscReal *theta) {
  ItGrid            grid = cl->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  const PetscReal   h    = info->h[a];
  PetscReal         x[2 * IT_MAX_DIM * IT_MAX_DIM], A[2 * IT_MAX_DIM * IT_MAX_DIM],
      D[2 * IT_MAX_DIM * IT_MAX_DIM], drive = 0;
  PetscInt np = 2, along[2 * IT_MAX_DIM * IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt j = 0; j < 2; j++) {
    for (PetscInt b = 0; b < d; b++) x[j * d + b] = ItGridCoordinate(grid, b, c[b]);
    x[j * d + a] = info->lo[a] + (face - 0.5 * j) * h; /* the face and half a cell below */
  }
  for (PetscInt b = 0; info->stationary_width && b < d; b++) /* the face +- h_b/2 along b */
    for (PetscInt s = -1; b != a && s < 2; s += 2, np++) {
      PetscCall(PetscArraycpy(&x[np * d], &x[0], d));
      x[np * d + b] += 0.5 * s * info->h[b];
      along[np] = b;
    }
  PetscCall(ItModelEvaluateWork(cl->work, t, p, np, x, A, D));
  {
    const PetscReal ka = 2 * PetscAbsReal(A[a] - A[d + a]) / h;
    for (PetscInt q = 2; q < np; q += 2) { /* points q (-h_b/2) and q+1 (+h_b/2) */
      const PetscInt  b    = along[q];
      const PetscReal g    = (A[(q + 1) * d + a] - A[q * d + a]) / info->h[b],
                      kb   = PetscAbsReal(A[(q + 1) * d + b] - A[q * d + b]) / info->h[b],
                      Db   = 0.5 * (D[q * d + b] + D[(q + 1) * d + b]),
                      term = g * g * Db / ((ka + kb) * (ka + kb));
      if (Db > 0 && ka + kb > 0 && !PetscIsInfOrNanReal(term)) drive += term;
    }
    {
      const PetscReal Pe = PetscAbsReal(A[a]) * h / D[a] / info->peclet;
      const PetscReal R  = ka * h * h / (D[a] + drive) / info->resolution;
      *theta             = 1.0 / (1.0 + Pe * Pe * Pe * Pe + R * R * R * R);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reset's shape along axis a of the pencil through c: the density
   re-injected per unit current, into rows[] (global indices) and shape[], *ns
   of them. V_r on face r: halves into cells r-1 and r, and the straddling
   faces' jump corrections (see above); else the linear weights of
   ItGridResetCells. Not collective. */
static PetscErrorCode ItFPClosureShape(ItFPClosure cl, PetscReal t, const PetscReal p[], PetscInt a,
                                       const PetscInt c[], PetscInt *ns, PetscInt rows[],
                                       PetscReal shape[]) {
  ItGrid            grid = cl->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, r = cl->reset_face[a];
  const PetscReal   h = info->h[a];
  PetscInt          cell[IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt b = 0; b < IT_MAX_DIM; b++) cell[b] = c[b];
  if (r < 0) {
    PetscInt  k;
    PetscReal w;
    ItGridResetCells(grid, a, &k, &w);
    *ns     = 2;
    cell[a] = k;
    PetscCall(ItGridGlobalIndex(grid, cell, &rows[0]));
    cell[a] = k + 1;
    PetscCall(ItGridGlobalIndex(grid, cell, &rows[1]));
    shape[0] = (1 - w) / h;
    shape[1] = w / h;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    /* the interior stencil's value and derivative weights (src/fp/fp.c) */
    static const PetscReal al[4] = {-1.0 / 12, 7.0 / 12, 7.0 / 12, -1.0 / 12};
    static const PetscReal be[4] = {1.0 / 12, -15.0 / 12, 15.0 / 12, -1.0 / 12};
    const PetscReal        xr    = info->lo[a] + r * h;
    PetscReal              x[3 * IT_MAX_DIM], A[3 * IT_MAX_DIM], D[3 * IT_MAX_DIM], rho[3];
    PetscReal              jg[4], jf[4], kappa[3];

    for (PetscInt j = 0; j < 3; j++) { /* V_r - h/2, V_r, V_r + h/2 */
      for (PetscInt b = 0; b < d; b++) x[j * d + b] = ItGridCoordinate(grid, b, c[b]);
      x[j * d + a] = xr + (j - 1) * 0.5 * h;
    }
    PetscCall(ItModelEvaluateWork(cl->work, t, p, 3, x, A, D));
    for (PetscInt j = 0; j < 3; j++) rho[j] = A[j * d + a] / D[j * d + a];
    {
      const PetscReal q = rho[1], dq = (rho[2] - rho[0]) / h;
      /* the jumps per unit current of q = D p and of A p = rho q, orders 1-3 */
      jg[1] = -1, jg[2] = -q, jg[3] = -(dq + q * q);
      jf[1] = -q, jf[2] = -2 * dq - q * q, jf[3] = -4 * q * dq - q * q * q;
    }
    /* the correction current of face f (cells f-2 .. f+1) reading the cells across V_r as
       the lower (below) or the upper piece's continuation */
    for (PetscInt s = 0; s < 3; s++) {
      const PetscInt f = r - 1 + s;
      PetscReal      theta;
      kappa[s] = 0;
      for (PetscInt side = 0; side < 2; side++) { /* 0: below, 1: above */
        PetscReal k = 0;
        if ((f == r - 1 && side == 1) || (f == r + 1 && side == 0)) continue;
        for (PetscInt q = 0; q < 4; q++) {
          const PetscInt  j  = f - 2 + q;
          const PetscReal dx = ItGridCoordinate(grid, a, j) - xr;
          PetscReal       df = 0, dg = 0, pw = 1, fact = 1;
          if ((side == 0 && j < r) || (side == 1 && j >= r)) continue;
          for (PetscInt o = 1; o <= 3; o++) {
            pw *= dx;
            fact *= o;
            df += jf[o] * pw / fact;
            dg += jg[o] * pw / fact;
          }
          k += (side == 0 ? -1 : 1) * (al[q] * df - be[q] * dg / h);
        }
        kappa[s] += f == r ? 0.5 * k : k;
      }
      PetscCall(ItFPClosureTheta(cl, t, p, a, c, f, &theta));
      kappa[s] *= theta;
    }
    *ns = 4; /* cells r-2 .. r+1 */
    for (PetscInt j = 0; j < 4; j++) {
      cell[a] = r - 2 + j;
      PetscCall(ItGridGlobalIndex(grid, cell, &rows[j]));
      shape[j] = 0;
    }
    shape[1] += 0.5 / h, shape[2] += 0.5 / h;
    for (PetscInt s = 0; s < 3; s++) { /* face r-1+s between cells r-2+s and r-1+s */
      shape[s] -= kappa[s] / h;
      shape[s + 1] += kappa[s] / h;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Face `face` along axis a of the pencil through c (owned by this rank: the
   low face of an owned cell, or the threshold face past the last one), with
   its Scharfetter–Gummel coefficients lo, hi: its flux's rows into C_a, and
   at the threshold the loss O_a and (unless delayed) the re-injection R4.
   Not collective (MatSetValues; ItFPClosureEnd assembles). */
PetscErrorCode ItFPClosureSet(ItFPClosure cl, PetscReal t, const PetscReal p[], PetscInt a,
                              const PetscInt c[], PetscInt face, PetscReal lo, PetscReal hi,
                              PetscBool delayed) {
  ItGrid            grid = cl->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    n    = info->n[a];
  const PetscReal   h    = info->h[a];
  PetscInt          cells[12], m  = 0, cell[IT_MAX_DIM], rows[2];
  PetscReal         wt[12], theta = 1;

  PetscFunctionBegin;
  /* the threshold's two faces: cells first .. n-1 of the piece above the reset (four, or as
     many as lie above it) and p(V_th) = 0; face n-1 with fewer than two of them, and a face
     straddling a reset without corrections, Scharfetter–Gummel's */
  {
    const PetscInt first = PetscMax(n - 4, cl->upper[a]);
    if (face >= n - 1 && !(face == n - 1 && first > n - 2)) {
      PetscCall(ItFPClosureSide(cl, t, p, a, c, face, first, n - first, PETSC_TRUE, cells, wt));
      m = n - first;
      PetscCall(ItFPClosureTheta(cl, t, p, a, c, face, &theta));
    } else
      theta = 0;
  }
  for (PetscInt j = 0; j < m; j++) wt[j] *= theta;
  /* the Scharfetter–Gummel face's share (1 - theta): lo p_{face-1} - hi p_face */
  for (PetscInt b = 0; b < IT_MAX_DIM; b++) cell[b] = c[b];
  cell[a] = face - 1;
  PetscCall(ItGridGlobalIndex(grid, cell, &cells[m]));
  wt[m++] = (1 - theta) * lo;
  if (face < n) {
    cell[a] = face;
    PetscCall(ItGridGlobalIndex(grid, cell, &cells[m]));
    wt[m++] = -(1 - theta) * hi;
  }
  /* F leaves cell face-1 and enters cell face: rows (-F/h, +F/h) */
  {
    PetscScalar v[2 * 12];
    PetscInt    nrow = 0;
    cell[a]          = face - 1;
    PetscCall(ItGridGlobalIndex(grid, cell, &rows[nrow++]));
    if (face < n) {
      cell[a] = face;
      PetscCall(ItGridGlobalIndex(grid, cell, &rows[nrow++]));
    }
    for (PetscInt j = 0; j < m; j++) {
      v[j]     = -wt[j] / h;
      v[m + j] = wt[j] / h;
    }
    PetscCall(MatSetValues(cl->C[a], nrow, rows, m, cells, v, ADD_VALUES));
    if (face == n) { /* the loss, and its return at the reset */
      PetscInt  srow[6], ns;
      PetscReal shape[6];
      for (PetscInt j = 0; j < m; j++) v[j] = wt[j] / h;
      PetscCall(MatSetValues(cl->O[a], 1, rows, m, cells, v, ADD_VALUES));
      PetscCall(ItFPClosureShape(cl, t, p, a, c, &ns, srow, shape));
      PetscCall(VecSetValues(cl->S, ns, srow, shape, ADD_VALUES));
      if (!(delayed && info->refractory[a] > 0)) {
        PetscScalar vr[6 * 12];
        for (PetscInt i = 0; i < ns; i++)
          for (PetscInt j = 0; j < m; j++) vr[i * m + j] = shape[i] * wt[j];
        PetscCall(MatSetValues(cl->R4, ns, srow, m, cells, vr, ADD_VALUES));
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the faces are set. Collective. */
PetscErrorCode ItFPClosureEnd(ItFPClosure cl) {
  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    if (!cl->C[a]) continue;
    PetscCall(MatAssemblyBegin(cl->C[a], MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(cl->C[a], MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyBegin(cl->O[a], MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(cl->O[a], MAT_FINAL_ASSEMBLY));
  }
  PetscCall(MatAssemblyBegin(cl->R4, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(cl->R4, MAT_FINAL_ASSEMBLY));
  PetscCall(VecAssemblyBegin(cl->S));
  PetscCall(VecAssemblyEnd(cl->S));
  if (cl->bytes == 0) { /* the memory ledger: the matrices and the shape */
    PetscInt n;
    for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
      PetscReal b[2];
      PetscCall(ItMemoryMatrixBytes(cl->C[a], &b[0]));
      PetscCall(ItMemoryMatrixBytes(cl->O[a], &b[1]));
      cl->bytes += b[0] + b[1];
    }
    {
      PetscReal b;
      PetscCall(ItMemoryMatrixBytes(cl->R4, &b));
      cl->bytes += b;
    }
    PetscCall(VecGetLocalSize(cl->S, &n));
    cl->bytes += (PetscReal)n * sizeof(PetscScalar);
    ItMemoryAdd(IT_MEMORY_FACES, cl->bytes);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lp += Σ_a C_a p + R4 p: the closures and the re-injection after the
   stencil's product. Collective. */
PetscErrorCode ItFPClosureApply(ItFPClosure cl, Vec p, Vec Lp) {
  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++)
    if (cl->C[a]) PetscCall(MatMultAdd(cl->C[a], p, Lp, Lp));
  PetscCall(MatMultAdd(cl->R4, p, Lp, Lp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J += scale (Σ_a C_a + R4): the closures and the re-injection in an
   assembled operator (ItFPShiftedAssemble), whose rows are owned where
   theirs are; J takes ADD_VALUES and is assembled by the caller. Not
   collective. */
PetscErrorCode ItFPClosureAddTo(ItFPClosure cl, PetscReal scale, Mat J) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k <= IT_MAX_DIM; k++) {
    Mat      M = k < IT_MAX_DIM ? cl->C[k] : cl->R4;
    PetscInt rstart, rend;
    if (!M) continue;
    PetscCall(MatGetOwnershipRange(M, &rstart, &rend));
    for (PetscInt row = rstart; row < rend; row++) {
      PetscInt           ncols;
      const PetscInt    *cols;
      const PetscScalar *vals;
      PetscScalar        v[64];
      PetscCall(MatGetRow(M, row, &ncols, &cols, &vals));
      PetscCheck(ncols <= 64, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a closure row of %d entries",
                 (int)ncols);
      for (PetscInt j = 0; j < ncols; j++) v[j] = scale * vals[j];
      if (ncols) PetscCall(MatSetValues(J, 1, &row, ncols, cols, v, ADD_VALUES));
      PetscCall(MatRestoreRow(M, row, &ncols, &cols, &vals));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Along a threshold_reset axis a: div = C_a p (the closure faces' share of
   the axis' divergence) and loss = O_a p (the threshold's loss rate per unit
   volume at the last cells); either may be NULL. Collective. */
PetscErrorCode ItFPClosureAxis(ItFPClosure cl, PetscInt a, Vec p, Vec div, Vec loss) {
  PetscFunctionBegin;
  if (div) PetscCall(MatMult(cl->C[a], p, div));
  if (loss) PetscCall(MatMult(cl->O[a], p, loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The current through each threshold_reset axis' threshold, rate[a] (0 on
   the other axes): Σ O_a p times the cell volume. Collective. */
PetscErrorCode ItFPClosureRates(ItFPClosure cl, Vec p, PetscReal rate[]) {
  const ItGridInfo *info = ItGridGetInfo(cl->grid);
  Vec               loss;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) rate[a] = 0;
  PetscCall(VecDuplicate(p, &loss));
  for (PetscInt a = 0; a < info->dim; a++) {
    PetscScalar sum;
    if (!cl->O[a]) continue;
    PetscCall(MatMult(cl->O[a], p, loss));
    PetscCall(VecSum(loss, &sum));
    rate[a] = PetscRealPart(sum) * info->cell_volume;
  }
  PetscCall(VecDestroy(&loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reset's shape per unit current (1-D: per unit rate), for a
   refractory compartment's source. */
Vec ItFPClosureGetShape(ItFPClosure cl) {
  return cl->S;
}

/* The re-injection matrix R4 (the order-4 counterpart of the faces' R). */
Mat ItFPClosureGetReset(ItFPClosure cl) {
  return cl->R4;
}
