/* The grid's implementation, for src/grid/ only: the view every other module
   reads through ItGridGetInfo (include/infotherm/grid.h) and what no other
   module needs. Only src/grid writes a grid (tests/test_layering.py checks
   that nothing else includes this header). */
#pragma once
#include <stddef.h>
#include <infotherm/grid.h>

struct _p_ItGrid {
  ItGridInfo info;      /* first: ItGridGetInfo returns its address */
  DM         da_matrix; /* width 1 for the assembled matrices when width > 1, else NULL */
};

_Static_assert(offsetof(struct _p_ItGrid, info) == 0, "ItGridGetInfo needs the view first");
