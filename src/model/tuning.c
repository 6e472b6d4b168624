/* Neuron tuning curves f(v) of doc/physics.md §2: linear r0 + lambda v, sigmoid
   rmax/(1+exp(-beta (v-theta))), bell rmax exp(-(v-vpref)^2/(2 s^2)). Each curve
   registers its parameters (with a suffix, so a population can hold several)
   and reads its type from -<model>_tuning<suffix>. */
#include <infotherm/private/modelimpl.h>

static const char *const ItTuningTypes[] = {"linear",       "sigmoid",    "bell",
                                            "ItTuningType", "IT_TUNING_", NULL};

PetscErrorCode ItTuningRegister(ItModel model, const char suffix[], ItTuningType type,
                                PetscReal theta, PetscReal beta, ItTuning *tuning) {
  char name[IT_NAME_LEN];

  PetscFunctionBegin;
  tuning->type = type;
#define IT_TUNING_PARAM(field, value, kind, help)                                                  \
  do {                                                                                             \
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s", #field, suffix));                          \
    PetscCall(ItModelAddParam(model, name, value, kind, help, &tuning->field));                    \
  } while (0)
  IT_TUNING_PARAM(r0, 0.0, IT_PARAM_ANY, "linear tuning: rate at v = 0");
  IT_TUNING_PARAM(lambda, 1.0, IT_PARAM_ANY, "linear tuning: gain (rate per unit v)");
  IT_TUNING_PARAM(rmax, 1.0, IT_PARAM_POSITIVE, "sigmoid/bell tuning: maximal rate");
  IT_TUNING_PARAM(beta, beta, IT_PARAM_ANY, "sigmoid tuning: slope");
  IT_TUNING_PARAM(theta, theta, IT_PARAM_ANY, "sigmoid tuning: threshold velocity");
  IT_TUNING_PARAM(vpref, theta, IT_PARAM_ANY, "bell tuning: preferred velocity");
  IT_TUNING_PARAM(s, 1.0, IT_PARAM_POSITIVE, "bell tuning: width");
#undef IT_TUNING_PARAM
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -<model>_tuning<suffix> linear|sigmoid|bell (-inference_tuning,
   -population_tuning1); the model's table of option names declares it, and
   the bare -tuning<suffix> of earlier releases has moved to it by now. Collective. */
PetscErrorCode ItTuningSetFromOptions(ItModel model, const char suffix[], ItTuning *tuning) {
  char      option[2 * IT_NAME_LEN + 8], title[IT_NAME_LEN + 16];
  PetscEnum type = (PetscEnum)tuning->type;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(option, sizeof(option), "-%s_tuning%s", model->type, suffix));
  /* a title of its own per curve: -help prints each (prefix, title) once */
  PetscCall(PetscSNPrintf(title, sizeof(title), "Tuning curve%s%s", suffix[0] ? " " : "", suffix));
  PetscOptionsBegin(model->comm, NULL, title, "ItTuning");
  PetscCall(PetscOptionsEnum(option, "tuning curve f(v)", NULL, ItTuningTypes, type, &type, NULL));
  PetscOptionsEnd();
  tuning->type = (ItTuningType)type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* f(v) at n points, as ItTuningEval computes it; the exponentials in a loop
   of their own, so that the arithmetic around them vectorises. */
IT_MODEL_CLONES void ItTuningEvalArray(const PetscReal p[], const ItTuning *tuning, PetscInt n,
                                       const PetscReal v[], PetscReal f[]) {
  switch (tuning->type) {
  case IT_TUNING_LINEAR: {
    const PetscReal r0 = p[tuning->r0], lambda = p[tuning->lambda];
    for (PetscInt k = 0; k < n; k++) f[k] = r0 + lambda * v[k];
  } break;
  case IT_TUNING_SIGMOID: {
    const PetscReal rmax = p[tuning->rmax], beta = p[tuning->beta], theta = p[tuning->theta];
    for (PetscInt k = 0; k < n; k++) f[k] = PetscExpReal(-beta * (v[k] - theta));
    for (PetscInt k = 0; k < n; k++) f[k] = rmax / (1.0 + f[k]);
  } break;
  case IT_TUNING_BELL: {
    const PetscReal rmax = p[tuning->rmax], vpref = p[tuning->vpref], s = p[tuning->s];
    for (PetscInt k = 0; k < n; k++) {
      const PetscReal z = (v[k] - vpref) / s;
      f[k]              = -0.5 * z * z;
    }
    for (PetscInt k = 0; k < n; k++) f[k] = PetscExpReal(f[k]);
    for (PetscInt k = 0; k < n; k++) f[k] = rmax * f[k];
  } break;
  }
}

const char *ItTuningName(const ItTuning *tuning) {
  return ItTuningTypes[tuning->type];
}

/* Records the curve's type under `key` (its parameters are in the table). */
PetscErrorCode ItTuningFingerprint(const ItTuning *tuning, const char key[], json_t *fingerprint) {
  PetscFunctionBegin;
  json_object_set_new(fingerprint, key, json_string(ItTuningName(tuning)));
  PetscFunctionReturn(PETSC_SUCCESS);
}
