/* The program's version (meson's project version, passed as IT_VERSION) and
   the git commit it was built from (taken at build time by meson's vcs_tag
   into version.h): printed by -version and written into every summary JSON
   file and, as root attributes, every HDF5 file, so that an output says
   which program wrote it (the JSON keys are added by src/io/json.c, which
   asks this file; this file knows nothing of JSON). */
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

/* Writes the root attributes "infotherm_version" and "infotherm_commit". Collective. */
PetscErrorCode ItVersionWriteHDF5(PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(
      PetscViewerHDF5WriteAttribute(viewer, "/", "infotherm_version", PETSC_STRING, IT_VERSION));
  PetscCall(
      PetscViewerHDF5WriteAttribute(viewer, "/", "infotherm_commit", PETSC_STRING, IT_COMMIT));
  PetscFunctionReturn(PETSC_SUCCESS);
}
