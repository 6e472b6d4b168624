/* What the grid shows other modules besides its view (ItGridGetInfo, inline
   in include/infotherm/grid.h): the DMDA of width 1 for assembled matrices. */
#include <infotherm/private/gridimpl.h>

/* The width-1 DMDA for the assembled matrices when the stencil is wider
   (-fp_order 4), else NULL. Not collective. */
DM ItGridGetMatrixDM(ItGrid grid) {
  return grid->da_matrix;
}
