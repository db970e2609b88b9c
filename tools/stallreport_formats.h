/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stallreport's writers of other programs' formats, each from the stack model. */
#ifndef STALLREPORT_FORMATS_H
#define STALLREPORT_FORMATS_H

#include <stdio.h>
#include "stallreport_stacks.h"

/*
 * A self-contained interactive flame graph (SVG with its script; no network): click to zoom,
 * search, tooltips; s->title as the title.  0, or -1 with a message on stderr.
 */
int flamegraph_svg(FILE *out, const struct stackset *s);
/*
 * A differential flame graph: widths from after, each frame coloured by how its time grew or
 * shrank against base, base's values multiplied by base_scale first (the normalisation to
 * after's duration or number of samples).
 */
int flamegraph_svg_diff(FILE *out, const struct stackset *base, double base_scale,
			const struct stackset *after);
/* gzipped pprof profile.proto */
int pprof_write(FILE *out, const struct stackset *s);
/* speedscope's file format (JSON) */
int speedscope_write(FILE *out, const struct stackset *s);

#endif
