/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* profile --wall: each thread's (or process's) time by state, from the report's lines. */
#ifndef STALLKIT_OFFCPUTIME_WALL_H
#define STALLKIT_OFFCPUTIME_WALL_H

#include <stdio.h>
#include "json.h"
#include "offcputime_report.h"

/* Where each thread's time went, on a CPU and off it by state, adding up to the time it existed
 * during the trace: a table on out, or into the JSON document j (if not NULL) */
void offcpu_wall_threads(FILE *out, struct json *j, const struct offcpu_report_opts *o,
			 const struct offcpu_line *lines, size_t n);

#endif
