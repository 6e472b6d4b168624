/* The program's version (meson's project version, passed as IT_VERSION) and
   the git commit it was built from (taken at build time by meson's vcs_tag
   into version.h): printed by -version and written into every summary JSON
   file and, as root attributes, every HDF5 file, so that an output says
   which program wrote it. */
#include <infotherm/io.h>
#include <petscviewerhdf5.h>
#include "version.h"

#ifndef IT_VERSION
#define IT_VERSION "unknown"
#endif

const char *ItVersion(void) {
  return IT_VERSION;
}

const char *ItVersionCommit(void) {
  return IT_COMMIT;
}

/* Adds "version" and "commit" to a JSON object that lacks them. */
PetscErrorCode ItVersionAddJSON(json_t *root) {
  PetscFunctionBegin;
  if (!json_object_get(root, "version"))
    PetscCall(ItJSONSet(root, "version", json_string(IT_VERSION)));
  if (!json_object_get(root, "commit"))
    PetscCall(ItJSONSet(root, "commit", json_string(IT_COMMIT)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Writes the root attributes "infotherm_version" and "infotherm_commit". Collective. */
PetscErrorCode ItVersionWriteHDF5(PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(
      PetscViewerHDF5WriteAttribute(viewer, "/", "infotherm_version", PETSC_STRING, IT_VERSION));
  PetscCall(
      PetscViewerHDF5WriteAttribute(viewer, "/", "infotherm_commit", PETSC_STRING, IT_COMMIT));
  PetscFunctionReturn(PETSC_SUCCESS);
}
