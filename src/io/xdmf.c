/* density.xmf, the XDMF index of the HDF5 snapshots: ParaView opens them as
   a time series on a co-rectilinear mesh whose nodes are the cell centres
   (the eigenvectors of spectrum as one grid with an attribute each). */
#include <infotherm/private/ioimpl.h>

/* The XDMF grid of one snapshot file: a co-rectilinear mesh over the axes
   (X the first), and the attribute name over dataset. */
static PetscErrorCode ItIOXDMFGrid(ItBuffer *buf, ItGrid grid, PetscInt naxes,
                                   const PetscInt axes[], const char dims[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         origin[3], h[3];

  PetscFunctionBegin;
  for (PetscInt j = 0; j < 3; j++) {
    origin[j] = j < naxes ? ItGridCoordinate(grid, axes[j], 0) : 0.5;
    h[j]      = j < naxes ? info->h[axes[j]] : 1;
  }
  PetscCall(ItBufferPrintf(buf, "    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"%s\"/>\n",
                           dims));
  /* ParaView reads an XML DataItem without Precision="8" as 32-bit floats */
  PetscCall(ItBufferPrintf(buf,
                           "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n     <DataItem "
                           "Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                           "Format=\"XML\">%.17g %.17g %.17g</DataItem>\n",
                           (double)origin[2], (double)origin[1], (double)origin[0]));
  PetscCall(ItBufferPrintf(buf,
                           "     <DataItem Dimensions=\"3\" NumberType=\"Float\" "
                           "Precision=\"8\" Format=\"XML\">%.17g %.17g "
                           "%.17g</DataItem>\n    </Geometry>\n",
                           (double)h[2], (double)h[1], (double)h[0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItIOXDMFAttribute(ItBuffer *buf, const char name[], const char dims[],
                                        const char file[], const char dataset[]) {
  PetscFunctionBegin;
  PetscCall(
      ItBufferPrintf(buf,
                     "    <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Node\">\n     "
                     "<DataItem Dimensions=\"%s\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"HDF\">%s:/%s</DataItem>\n    </Attribute>\n",
                     name, dims, file, dataset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* density.xmf: every snapshot written so far, as a temporal collection; the
   eigenvectors of spectrum (eigenvector_K.h5) as one grid with an attribute
   eigenvector_K per file (they are not a time series). Up to three variables
   the density itself; beyond, the marginal of the -snapshot_marginal
   variables (ParaView draws 3-D at most). The attribute's name says which
   variable lies along X, Y and Z. */
PetscErrorCode ItIOWriteXDMF(ItIO io, ItGrid grid, ItModel model) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItBuffer          buf  = {0};
  char              dims[64], name[3 * IT_NAME_LEN + 64] = "";
  PetscInt          axes[3], naxes                       = 0, n[3];
  const char       *dataset = info->dim <= 3 ? "density" : "marginal";
  PetscBool spectrum = (PetscBool)(io->nsnap > 0 && !strncmp(io->snap_file[0], "eigenvector_", 12));

  PetscFunctionBegin;
  if (info->dim <= 3)
    for (naxes = 0; naxes < info->dim; naxes++) axes[naxes] = naxes;
  else
    PetscCall(ItIOMarginalAxes(grid, model, &naxes, axes));
  for (PetscInt j = 0; j < 3; j++) n[j] = j < naxes ? info->n[axes[j]] : 1;
  /* XDMF lists the slowest axis first; a 1-D or 2-D grid is a 3-D mesh one cell thick */
  PetscCall(PetscSNPrintf(dims, sizeof(dims), "%" PetscInt_FMT " %" PetscInt_FMT " %" PetscInt_FMT,
                          n[2], n[1], n[0]));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s (", dataset));
  for (PetscInt j = 0; j < naxes; j++) {
    char axis[IT_NAME_LEN + 8];
    PetscCall(PetscSNPrintf(axis, sizeof(axis), "%s%c=%s", j ? ", " : "", "XYZ"[j],
                            ItModelGetVariableName(model, axes[j])));
    PetscCall(PetscStrlcat(name, axis, sizeof(name)));
  }
  PetscCall(PetscStrlcat(name, ")", sizeof(name)));
  if (io->rank == 0 && spectrum) {
    PetscCall(ItBufferPrintf(&buf, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  "
                                   "<Grid Name=\"eigenvectors\" GridType=\"Uniform\">\n"));
    PetscCall(ItIOXDMFGrid(&buf, grid, naxes, axes, dims));
    for (PetscInt s = 0; s < io->nsnap; s++) {
      char attr[64 + sizeof(name)], *dot;
      PetscCall(PetscStrncpy(attr, io->snap_file[s], sizeof(attr)));
      PetscCall(PetscStrrchr(attr, '.', &dot));
      if (dot != attr) dot[-1] = 0; /* eigenvector_K */
      PetscCall(PetscStrlcat(attr, name + strlen(dataset), sizeof(attr)));
      PetscCall(ItIOXDMFAttribute(&buf, attr, dims, io->snap_file[s], dataset));
    }
    PetscCall(ItBufferPrintf(&buf, "  </Grid>\n </Domain>\n</Xdmf>\n"));
  } else if (io->rank == 0) {
    PetscCall(ItBufferPrintf(
        &buf, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  <Grid "
              "Name=\"density\" GridType=\"Collection\" CollectionType=\"Temporal\">\n"));
    for (PetscInt s = 0; s < io->nsnap; s++) {
      /* the stationary density (t = inf) is listed at t = 0: ParaView needs a finite time */
      PetscCall(ItBufferPrintf(
          &buf, "   <Grid Name=\"%s\" GridType=\"Uniform\">\n    <Time Value=\"%.17g\"/>\n",
          io->snap_file[s], PetscIsInfOrNanReal(io->snap_t[s]) ? 0.0 : (double)io->snap_t[s]));
      PetscCall(ItIOXDMFGrid(&buf, grid, naxes, axes, dims));
      PetscCall(ItIOXDMFAttribute(&buf, name, dims, io->snap_file[s], dataset));
      PetscCall(ItBufferPrintf(&buf, "   </Grid>\n"));
    }
    PetscCall(ItBufferPrintf(&buf, "  </Grid>\n </Domain>\n</Xdmf>\n"));
  }
  PetscCall(ItIOWriteText(io, "density.xmf", buf.text ? buf.text : ""));
  PetscCall(ItBufferFree(&buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}
