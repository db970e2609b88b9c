/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* From the reports a capture holds to stallreport's stack model, for any tool. */
#ifndef STALLREPORT_EXTRACT_H
#define STALLREPORT_EXTRACT_H

#include <stdbool.h>
#include "capture.h"
#include "stallreport_stacks.h"

/* Which rows are taken */
struct extract_filter {
	unsigned int pid; /* 0: all */
	const char *comm; /* NULL: all */
	bool host_frames; /* a root frame per host: the captures come from several */
};

/*
 * Adds the stacks of capture d to s (which takes the capture's tool, units and duration).
 * 0, or -1 with err set: a report the tool's kind does not explain, a value out of range.
 */
int extract_stacks(struct stackset *s, const struct capture_data *d,
		   const struct extract_filter *f, char *err, size_t errlen);

/*
 * The name that labels capture d's rows: its tag "host" when it has one (the name a fleet
 * knows the host by, e.g. Ansible's inventory name), else the host name it was taken on.
 */
const char *extract_host(const struct capture_data *d);

/* Whether the tool's text report is its stacks and nothing else (offcputime, profile): a
 * merge of its captures prints merged stacks */
bool extract_text_is_stacks(const struct capture_data *d);

#endif
