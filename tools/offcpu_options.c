// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "offcpu_options.h"
#include "parse.h"

enum {
	OPT_PER_THREAD = 0x300,
	OPT_STACK_STORAGE,
};

static const struct argp_option options[] = {
	{ "user-threads-only", 'u', NULL, 0, "Only user threads (no kernel threads)", 0 },
	{ "kernel-threads-only", 'k', NULL, 0, "Only kernel threads", 0 },
	{ "user-stacks-only", 'U', NULL, 0, "Only user stacks", 0 },
	{ "kernel-stacks-only", 'K', NULL, 0, "Only kernel stacks", 0 },
	{ "delimited", 'd', NULL, 0, "A delimiter between kernel and user stacks", 0 },
	{ "folded", 'f', NULL, 0,
	  "Folded stacks, for flame graphs (values: microseconds; samples in profile without "
	  "--wall)", 0 },
	{ "per-thread", OPT_PER_THREAD, NULL, 0, "One entry per thread, not per process", 0 },
	{ "stack-storage-size", OPT_STACK_STORAGE, "N", 0,
	  "Different stacks kept at most, 1 KiB each (default: offcputime 1024, profile 8192)", 0 },
	{},
};

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct offcpu_stack_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case 'u':
	case 'k':
		if (o->threads)
			argp_error(state, "-u and -k cannot be combined");
		o->threads = key == 'u' ? OFFCPU_USER_THREADS : OFFCPU_KERNEL_THREADS;
		break;
	case 'U':
	case 'K':
		if (!o->report.user_stacks || !o->report.kernel_stacks)
			argp_error(state, "-U and -K cannot be combined");
		if (key == 'U')
			o->report.kernel_stacks = false;
		else
			o->report.user_stacks = false;
		break;
	case 'd':
		o->report.delimiter = true;
		break;
	case 'f':
		o->report.folded = true;
		break;
	case OPT_PER_THREAD:
		o->report.per_thread = true;
		break;
	case OPT_STACK_STORAGE:
		if (parse_u64(arg, &v) || v == 0 || v > 1 << 24)
			argp_error(state, "invalid --stack-storage-size '%s'", arg);
		o->stack_storage = v;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp offcpu_stack_argp = { options, parse_option, NULL, NULL, NULL, NULL, NULL };
