/* The Fokker–Planck vs Monte Carlo cross-check (PHYSICS.md §4): at every
   output time, for every Monte Carlo estimate, the solver's value of the same
   quantity, the Monte Carlo value ± its standard error and
   z = (FP - MC)/stderr. The solver's value is its diagnostic of the same name,
   except: cov_<a>_<b> and mutual_information_gaussian, computed here from the
   solver's density; entropy_flow_<var> and heat_rate_<var>, for which the
   Monte Carlo estimates the mean over the interval since the previous output
   time, so the solver's value is the same interval mean, the difference of
   its entropy_flow_<var>_cum (which integrates over every solver step) over
   the interval. Quantities with unbiased estimators (moments, entropy flows)
   are judged against -crosscheck_z; the density-based ones (binned entropies
   and mutual information, D(p_MC ‖ p_FP)) carry a smoothing bias and are
   reported only. Writes crosscheck.json and crosscheck.txt. */
#include <infotherm/mc.h>

PetscErrorCode ItCrosscheckCreate(ItMC mc, ItDiag diag, ItCrosscheck *out) {
  ItCrosscheck cc;

  PetscFunctionBegin;
  PetscCall(PetscNew(&cc));
  cc->mc      = mc;
  cc->diag    = diag;
  cc->z_limit = 4;
  PetscOptionsBegin(mc->comm, NULL, "Cross-check", "ItCrosscheck");
  PetscCall(PetscOptionsReal("-crosscheck_z",
                             "largest |FP - MC|/stderr accepted for moments and entropy flows",
                             NULL, cc->z_limit, &cc->z_limit, NULL));
  PetscOptionsEnd();
  PetscCheck(cc->z_limit > 0, mc->comm, PETSC_ERR_USER_INPUT,
             "-crosscheck_z must be positive; got %g", (double)cc->z_limit);
  cc->nq = mc->col.kl_mc_fp >= 0 ? mc->ncol - 1
                                 : mc->ncol; /* kl_mc_fp is last and has no FP counterpart */
  PetscCall(PetscMalloc2(cc->nq, &cc->name, cc->nq, &cc->judged));
  for (PetscInt q = 0; q < cc->nq; q++) {
    PetscCall(PetscStrncpy(cc->name[q], mc->name[q], IT_DIAG_NAME_LEN));
    cc->judged[q] = mc->judged[q];
  }
  for (PetscInt a = 0; a < ItModelGetDimension(mc->model); a++) {
    char name[IT_DIAG_NAME_LEN];
    PetscCall(PetscSNPrintf(name, sizeof(name), "entropy_flow_%s_cum",
                            ItModelGetVariableName(mc->model, a)));
    PetscCall(ItDiagFindColumn(diag, name, &cc->fp_cum_column[a]));
  }
  cc->ncell = mc->ncell;
  PetscCall(PetscMalloc2(IT_MAX_DIM, &cc->fp_cum_prev, cc->ncell, &cc->fp_density));
  *out = cc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Records time t: the solver's diagnostics (diag columns) and density (natural
   order), against the Monte Carlo's last estimates. Not collective. */
PetscErrorCode ItCrosscheckAdd(ItCrosscheck cc, PetscReal t, const PetscReal fp_values[],
                               const PetscReal fp_density[]) {
  ItMC           mc   = cc->mc;
  ItDiag         g    = cc->diag;
  ItGrid         grid = mc->grid;
  const PetscInt d = grid->dim, nq = cc->nq, k = cc->ntime;
  PetscReal      m1[IT_MAX_DIM] = {0}, m2[IT_MAX_DIM * IT_MAX_DIM] = {0}, mass = 0,
            S[IT_MAX_DIM * IT_MAX_DIM];
  const PetscReal info = ItDiagUsesBits(g) ? 1 / PetscLogReal(2.0) : 1;

  PetscFunctionBegin;
  if (cc->ntime == cc->captime) {
    cc->captime = PetscMax(64, 2 * cc->captime);
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime, &cc->t));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->fp));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->mcv));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->se));
  }
  /* the solver density's covariance, about the box centre (as diag does) */
  for (PetscInt c = 0; c < cc->ncell; c++) {
    PetscReal y[IT_MAX_DIM];
    PetscInt  r = c;
    for (PetscInt i = 0; i < d; i++) {
      y[i] = ItGridCoordinate(grid, i, r % grid->n[i]) - 0.5 * (grid->lo[i] + grid->hi[i]);
      r /= grid->n[i];
    }
    mass += fp_density[c];
    for (PetscInt i = 0; i < d; i++) {
      m1[i] += fp_density[c] * y[i];
      for (PetscInt j = 0; j < d; j++) m2[i * d + j] += fp_density[c] * y[i] * y[j];
    }
  }
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++)
      S[i * d + j] = m2[i * d + j] / mass - m1[i] / mass * m1[j] / mass;
  cc->t[k] = t;
  for (PetscInt q = 0; q < nq; q++) {
    PetscReal fp    = (PetscReal)NAN;
    PetscBool found = PETSC_FALSE;
    for (PetscInt a = 0; a < d; a++)
      if (q == mc->col.entropy_flow[a] || q == mc->col.heat_rate[a]) {
        const PetscReal cum = fp_values[cc->fp_cum_column[a]];
        fp    = k > 0 && t > cc->fp_t_prev ? (cum - cc->fp_cum_prev[a]) / (t - cc->fp_t_prev)
                                           : (PetscReal)NAN;
        found = PETSC_TRUE;
      }
    for (PetscInt a = 0, kc = 0; a < d; a++)
      for (PetscInt b = a + 1; b < d; b++, kc++)
        if (q == mc->col.cov[kc]) {
          fp    = S[a * d + b];
          found = PETSC_TRUE;
        }
    if (q == mc->col.mutual_information_gaussian) {
      PetscInt  ix[IT_MAX_DIM] = {0, 0, 0}, iy[IT_MAX_DIM] = {0, 0, 0}, nx = 0, ny = 0;
      PetscReal det = 0, detx, dety;
      for (PetscInt i = 0; i < d; i++) {
        if (ItDiagIsSensor(g, i))
          ix[nx++] = i;
        else
          iy[ny++] = i;
      }
      detx = nx == 1 ? S[ix[0] * d + ix[0]]
                     : S[ix[0] * d + ix[0]] * S[ix[1] * d + ix[1]] -
                           S[ix[0] * d + ix[1]] * S[ix[1] * d + ix[0]];
      dety = ny == 1 ? S[iy[0] * d + iy[0]]
                     : S[iy[0] * d + iy[0]] * S[iy[1] * d + iy[1]] -
                           S[iy[0] * d + iy[1]] * S[iy[1] * d + iy[0]];
      if (d == 2)
        det = S[0] * S[3] - S[1] * S[2];
      else
        det = S[0] * (S[4] * S[8] - S[5] * S[7]) - S[1] * (S[3] * S[8] - S[5] * S[6]) +
              S[2] * (S[3] * S[7] - S[4] * S[6]);
      fp    = 0.5 * PetscLogReal(detx * dety / det) * info;
      found = PETSC_TRUE;
    }
    if (!found) {
      PetscInt c;
      PetscCall(ItDiagFindColumn(g, cc->name[q], &c));
      if (c >= 0) fp = fp_values[c];
    }
    cc->fp[k * nq + q]  = fp;
    cc->mcv[k * nq + q] = mc->value[q];
    cc->se[k * nq + q]  = mc->stderr_[q];
  }
  for (PetscInt a = 0; a < d; a++) cc->fp_cum_prev[a] = fp_values[cc->fp_cum_column[a]];
  cc->fp_t_prev = t;
  PetscCall(PetscArraycpy(cc->fp_density, fp_density, cc->ncell));
  cc->ntime++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal ItCrosscheckZ(ItCrosscheck cc, PetscInt k, PetscInt q) {
  const PetscReal fp = cc->fp[k * cc->nq + q], mc = cc->mcv[k * cc->nq + q],
                  se = cc->se[k * cc->nq + q];

  if (PetscIsInfOrNanReal(fp) || PetscIsInfOrNanReal(mc) || !(se > 0) || PetscIsInfOrNanReal(se))
    return (PetscReal)NAN;
  return (fp - mc) / se;
}

/* Writes crosscheck.json and crosscheck.txt, prints the final-time table and
   the worst |z| of each quantity; nfail counts the judged (time, quantity)
   pairs beyond the limit, worst describes the largest. Collective. */
PetscErrorCode ItCrosscheckReport(ItCrosscheck cc, ItIO io, PetscInt *nfail, char worst[],
                                  size_t len) {
  ItMC           mc   = cc->mc;
  ItGrid         grid = mc->grid;
  const PetscInt nq = cc->nq, nt = cc->ntime, d = grid->dim;
  ItBuffer       json = {0}, text = {0}, out = {0};
  PetscReal      zmax    = 0;
  PetscInt       njudged = 0;

  PetscFunctionBegin;
  *nfail = 0;
  PetscCall(PetscSNPrintf(worst, len, "none"));
  PetscCall(ItBufferPrintf(&text,
                           "# infotherm crosscheck: model %s, %" PetscInt_FMT
                           " particles, %s, dt %g, seed %" PetscInt64_FMT
                           ", %d rank(s); z = (FP - MC)/stderr, judged when |z| > %g fails\n",
                           ItModelGetTypeName(mc->model), mc->N,
                           mc->scheme == IT_MC_WEAK2 ? "weak order 2" : "Euler-Maruyama",
                           (double)mc->dt, mc->seed, mc->size, (double)cc->z_limit));
  PetscCall(ItBufferPrintf(&text, "# entropy_flow_<var>, heat_rate_<var>: means over the interval "
                                  "since the previous output time\n"));
  PetscCall(ItBufferPrintf(&text, "%-32s %10s %14s %14s %12s %9s %s\n", "quantity", "t", "FP", "MC",
                           "stderr", "z", "judged"));
  for (PetscInt k = 0; k < nt; k++)
    for (PetscInt q = 0; q < nq; q++) {
      const PetscReal z = ItCrosscheckZ(cc, k, q);
      const PetscBool fail =
          (PetscBool)(cc->judged[q] && !PetscIsInfOrNanReal(z) && PetscAbsReal(z) > cc->z_limit);
      PetscCall(ItBufferPrintf(&text, "%-32s %10.5g %14.7g %14.7g %12.4g %9.3g %s\n", cc->name[q],
                               (double)cc->t[k], (double)cc->fp[k * nq + q],
                               (double)cc->mcv[k * nq + q], (double)cc->se[k * nq + q], (double)z,
                               cc->judged[q] ? (fail ? "FAIL" : "yes") : "no"));
      if (cc->judged[q] && !PetscIsInfOrNanReal(z)) {
        njudged++;
        if (fail) (*nfail)++;
        if (PetscAbsReal(z) > zmax) {
          zmax = PetscAbsReal(z);
          PetscCall(PetscSNPrintf(worst, len, "%s at t = %g: FP %.6g, MC %.6g +- %.2g, z = %.2f",
                                  cc->name[q], (double)cc->t[k], (double)cc->fp[k * nq + q],
                                  (double)cc->mcv[k * nq + q], (double)cc->se[k * nq + q],
                                  (double)z));
        }
      }
    }
  if (mc->col.kl_mc_fp >= 0)
    PetscCall(ItBufferPrintf(
        &text, "# D(p_MC || p_FP) (%s) per output time: see crosscheck.json \"kl_mc_fp\"\n",
        mc->name[mc->col.kl_mc_fp]));

  /* JSON */
  PetscCall(
      ItBufferPrintf(&json,
                     "{\n  \"model\": \"%s\",\n  \"particles\": %" PetscInt_FMT
                     ",\n  \"scheme\": \"%s\",\n  \"dt\": %.17g,\n  \"seed\": %" PetscInt64_FMT
                     ",\n  \"ranks\": %d,\n",
                     ItModelGetTypeName(mc->model), mc->N, mc->scheme == IT_MC_WEAK2 ? "weak2" : "euler",
                     (double)mc->dt, mc->seed, mc->size));
  PetscCall(ItBufferPrintf(
      &json,
      "  \"z_limit\": %.17g,\n  \"judged\": %" PetscInt_FMT ",\n  \"failed\": %" PetscInt_FMT
      ",\n  \"passed\": %s,\n  \"max_abs_z\": %.6g,\n  \"worst\": \"%s\",\n",
      (double)cc->z_limit, njudged, *nfail, *nfail ? "false" : "true", (double)zmax, worst));
  PetscCall(ItBufferPrintf(&json, "  \"t\": ["));
  for (PetscInt k = 0; k < nt; k++) {
    PetscCall(ItBufferPrintf(&json, "%s", k ? ", " : ""));
    PetscCall(ItBufferReal(&json, cc->t[k]));
  }
  PetscCall(ItBufferPrintf(&json, "],\n  \"quantities\": {\n"));
  for (PetscInt q = 0; q < nq; q++) {
    const char *field[] = {"fp", "mc", "stderr", "z"};
    PetscCall(ItBufferPrintf(&json, "    \"%s\": {\"judged\": %s", cc->name[q],
                             cc->judged[q] ? "true" : "false"));
    for (PetscInt f = 0; f < 4; f++) {
      PetscCall(ItBufferPrintf(&json, ", \"%s\": [", field[f]));
      for (PetscInt k = 0; k < nt; k++) {
        const PetscReal v = f == 0   ? cc->fp[k * nq + q]
                            : f == 1 ? cc->mcv[k * nq + q]
                            : f == 2 ? cc->se[k * nq + q]
                                     : ItCrosscheckZ(cc, k, q);
        PetscCall(ItBufferPrintf(&json, "%s", k ? ", " : ""));
        PetscCall(ItBufferReal(&json, v));
      }
      PetscCall(ItBufferPrintf(&json, "]"));
    }
    PetscCall(ItBufferPrintf(&json, "}%s\n", q < nq - 1 ? "," : ""));
  }
  PetscCall(ItBufferPrintf(&json, "  },\n"));
  if (mc->col.kl_mc_fp >= 0) {
    const PetscInt w = 1 + 2 * mc->ncol, col = mc->col.kl_mc_fp;
    PetscCall(ItBufferPrintf(&json, "  \"kl_mc_fp\": ["));
    for (PetscInt r = 0; r < mc->nrow; r++) {
      PetscCall(ItBufferPrintf(&json, "%s", r ? ", " : ""));
      PetscCall(ItBufferReal(&json, mc->rows[r * w + 1 + 2 * col]));
    }
    PetscCall(ItBufferPrintf(&json, "],\n  \"kl_mc_fp_stderr\": ["));
    for (PetscInt r = 0; r < mc->nrow; r++) {
      PetscCall(ItBufferPrintf(&json, "%s", r ? ", " : ""));
      PetscCall(ItBufferReal(&json, mc->rows[r * w + 2 + 2 * col]));
    }
    PetscCall(ItBufferPrintf(&json, "],\n"));
  }
  /* marginals of both densities at the last time, for tools/plot_crosscheck.py */
  PetscCall(ItBufferPrintf(&json, "  \"marginals_t\": %.17g,\n  \"marginals\": {\n",
                           nt ? (double)cc->t[nt - 1] : 0.0));
  for (PetscInt i = 0; i < d; i++) {
    PetscReal *mf, *mm;
    PetscCall(PetscCalloc2(grid->n[i], &mf, grid->n[i], &mm));
    for (PetscInt c = 0; c < cc->ncell; c++) {
      PetscInt r = c, ci = 0;
      for (PetscInt a = 0; a <= i; a++) {
        ci = r % grid->n[a];
        r /= grid->n[a];
      }
      mf[ci] += cc->fp_density[c] * grid->cell_volume / grid->h[i];
      mm[ci] += mc->density[c] * grid->cell_volume / grid->h[i];
    }
    PetscCall(ItBufferPrintf(&json, "    \"%s\": {\"x\": [", ItModelGetVariableName(mc->model, i)));
    for (PetscInt k = 0; k < grid->n[i]; k++)
      PetscCall(
          ItBufferPrintf(&json, "%s%.10g", k ? ", " : "", (double)ItGridCoordinate(grid, i, k)));
    PetscCall(ItBufferPrintf(&json, "], \"fp\": ["));
    for (PetscInt k = 0; k < grid->n[i]; k++)
      PetscCall(ItBufferPrintf(&json, "%s%.10g", k ? ", " : "", (double)mf[k]));
    PetscCall(ItBufferPrintf(&json, "], \"mc\": ["));
    for (PetscInt k = 0; k < grid->n[i]; k++)
      PetscCall(ItBufferPrintf(&json, "%s%.10g", k ? ", " : "", (double)mm[k]));
    PetscCall(ItBufferPrintf(&json, "]}%s\n", i < d - 1 ? "," : ""));
    PetscCall(PetscFree2(mf, mm));
  }
  PetscCall(ItBufferPrintf(&json, "  }\n}\n"));
  PetscCall(ItIOWriteText(io, "crosscheck.json", json.text));
  PetscCall(ItIOWriteText(io, "crosscheck.txt", text.text));

  /* stdout: the last time, and each judged quantity's worst |z| */
  PetscCall(ItBufferPrintf(&out,
                           "crosscheck (model %s, %" PetscInt_FMT
                           " particles) at t = %g:\n%-32s %14s %26s %9s %s\n",
                           ItModelGetTypeName(mc->model), mc->N, nt ? (double)cc->t[nt - 1] : 0.0, "quantity",
                           "FP", "MC +- stderr", "z", "judged"));
  for (PetscInt q = 0; q < nq && nt; q++) {
    const PetscInt k = nt - 1;
    PetscCall(ItBufferPrintf(&out, "%-32s %14.7g %14.7g +- %-9.2g %9.3g %s\n", cc->name[q],
                             (double)cc->fp[k * nq + q], (double)cc->mcv[k * nq + q],
                             (double)cc->se[k * nq + q], (double)ItCrosscheckZ(cc, k, q),
                             cc->judged[q] ? "yes" : "no"));
  }
  if (mc->col.kl_mc_fp >= 0 && mc->nrow)
    PetscCall(ItBufferPrintf(&out, "%-32s %14s %14.7g +- %-9.2g\n", mc->name[mc->col.kl_mc_fp], "",
                             (double)mc->value[mc->col.kl_mc_fp],
                             (double)mc->stderr_[mc->col.kl_mc_fp]));
  PetscCall(ItBufferPrintf(&out,
                           "%" PetscInt_FMT " judged values over %" PetscInt_FMT
                           " times, max |z| = %.2f (%s): %s\n",
                           njudged, nt, (double)zmax, worst, *nfail ? "FAILED" : "passed"));
  PetscCall(PetscPrintf(mc->comm, "%s", out.text));
  PetscCall(ItBufferFree(&json));
  PetscCall(ItBufferFree(&text));
  PetscCall(ItBufferFree(&out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItCrosscheckDestroy(ItCrosscheck *ccp) {
  ItCrosscheck cc = *ccp;

  PetscFunctionBegin;
  if (!cc) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2(cc->name, cc->judged));
  PetscCall(PetscFree2(cc->fp_cum_prev, cc->fp_density));
  PetscCall(PetscFree(cc->t));
  PetscCall(PetscFree(cc->fp));
  PetscCall(PetscFree(cc->mcv));
  PetscCall(PetscFree(cc->se));
  PetscCall(PetscFree(cc));
  *ccp = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
