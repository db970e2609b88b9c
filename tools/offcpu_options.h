/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The options offcputime and profile share, as an argp child: which threads (-u, -k), which
 * stacks (-U, -K), how the report shows them (-d, -f, --per-thread), how many are kept
 * (--stack-storage-size).
 */
#ifndef STALLKIT_OFFCPU_OPTIONS_H
#define STALLKIT_OFFCPU_OPTIONS_H

#include <argp.h>
#include <stdint.h>
#include "offcputime_report.h"

struct offcpu_stack_opts {
	struct offcpu_report_opts report;
	uint32_t threads; /* enum offcpu_threads */
	uint64_t stack_storage;
};

extern const struct argp offcpu_stack_argp;

#endif
