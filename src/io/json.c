/* JSON files through jansson: summary.json and the other JSON files with a
   two-space indent, keys in the order they were added, reals at 17
   significant digits (the doubles round-trip) and null for NaN and infinity,
   which JSON cannot hold; helpers that build values and check jansson's
   results. */
#include <stdarg.h>
#include <stdlib.h>
#include <infotherm/private/ioimpl.h>

/* A real in JSON; null for NaN or infinity, which JSON cannot hold. */
json_t *ItJSONReal(PetscReal value) {
  return PetscIsInfOrNanReal(value) ? json_null() : json_real((double)value);
}

/* Adds value (stolen) to object under key. */
PetscErrorCode ItJSONSet(json_t *object, const char key[], json_t *value) {
  PetscFunctionBegin;
  PetscCheck(value && json_object_set_new(object, key, value) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot add '%s' to a JSON object (not UTF-8, or out of memory)", key);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Appends value (stolen) to array. */
PetscErrorCode ItJSONAppend(json_t *array, json_t *value) {
  PetscFunctionBegin;
  PetscCheck(value && json_array_append_new(array, value) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot append to a JSON array (a string not UTF-8, or out of memory)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A JSON array of n reals. */
PetscErrorCode ItJSONRealArray(PetscInt n, const PetscReal values[], json_t **array) {
  PetscFunctionBegin;
  *array = json_array();
  PetscCheck(*array, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate a JSON array");
  for (PetscInt k = 0; k < n; k++) PetscCall(ItJSONAppend(*array, ItJSONReal(values[k])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* json_pack with its error message: a value built from a format such as
   "{s:s, s:I, s:o}" (keys in the order given; "o" steals a json_t). */
PetscErrorCode ItJSONPack(json_t **value, const char format[], ...) {
  json_error_t error;
  va_list      args;

  PetscFunctionBegin;
  va_start(args, format);
  *value = json_vpack_ex(&error, 0, format, args);
  va_end(args);
  PetscCheck(*value, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot build JSON from \"%s\": %s", format,
             error.text);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds "version" and "commit" (src/io/version.c) to a JSON object that lacks them. */
static PetscErrorCode ItJSONAddVersion(json_t *root) {
  PetscFunctionBegin;
  if (!json_object_get(root, "version"))
    PetscCall(ItJSONSet(root, "version", json_string(ItVersion())));
  if (!json_object_get(root, "commit"))
    PetscCall(ItJSONSet(root, "commit", json_string(ItVersionCommit())));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The head of every summary file (summary.json, mc_summary.json): the
   command, the program's version and commit, then the model's fingerprint (model, variables,
   parity, the parameters' base values, schedules and what the model adds); the caller adds its own
   keys after them. */
PetscErrorCode ItIOSummaryCreate(const char command[], ItModel model, json_t **root) {
  json_t *fingerprint;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(root, "{s:s}", "command", command));
  PetscCall(ItJSONAddVersion(*root));
  PetscCall(ItModelGetFingerprint(model, &fingerprint));
  PetscCall(ItJSONUpdate(*root, fingerprint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds every key of other to object, after its own, and releases other. */
PetscErrorCode ItJSONUpdate(json_t *object, json_t *other) {
  int status;

  PetscFunctionBegin;
  status = json_object_update(object, other);
  json_decref(other);
  PetscCheck(status == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot merge two JSON objects");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DIR/name as JSON (rank 0's root): two-space indent, keys in the order they
   were added, reals at 17 significant digits. The caller keeps root. Collective. */
PetscErrorCode ItIOWriteJSON(ItIO io, const char name[], json_t *root) {
  const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);
  ItBuffer     buf   = {0};
  int          ok    = 1;

  PetscFunctionBegin;
  PetscCall(ItJSONAddVersion(root));
  if (io->rank == 0) {
    char *text = json_dumps(root, flags);
    ok         = text != NULL;
    if (ok) PetscCall(ItBufferPrintf(&buf, "%s\n", text));
    free(text);
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, io->comm));
  PetscCheck(ok, io->comm, PETSC_ERR_LIB, "cannot format %s/%s as JSON", io->dir, name);
  PetscCall(ItIOWriteText(io, name, buf.text ? buf.text : ""));
  PetscCall(ItBufferFree(&buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}
