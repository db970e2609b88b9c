// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include "loss_user.h"
#include "maps.h"

static const struct {
	const char *key;
	const char *what;
	const char *hint;
} loss_info[LOSS_KINDS] = {
	[LOSS_RINGBUF_FULL] = { "ringbuf_full", "events dropped: ring buffer full",
				"raise the threshold or narrow the filter" },
	[LOSS_AGG_MAP_FULL] = { "aggregation_map_full",
				"calls or blocks not counted: aggregation map full",
				"narrow the filter or aggregate coarser" },
	[LOSS_SLOTS_FULL] = { "slots_full", "calls not counted: more distinct syscalls than slots",
			      "name the syscalls of interest" },
	[LOSS_TASK_STORAGE] = { "task_storage", "calls not timed: per-thread state unavailable",
				"the kernel is short of memory" },
	[LOSS_THREAD_SLOT] = { "thread_slot", "calls not timed: thread ID above pid_max at start",
			       "pid_max was raised while tracing: restart the tool" },
	[LOSS_STACK_MAP_FULL] = { "stack_map_full", "stacks lost: stack map full or collision",
				  "raise --stack-storage-size" },
	[LOSS_STACK_READ] = { "stack_read", "stacks lost: stack could not be read", NULL },
	[LOSS_ARGS_READ] = { "args_read", "arguments unreadable in user memory", NULL },
	[LOSS_STACK_MEMO_STALE] = { "stack_memo_stale",
				    "kernel stacks reused from a memo that a recheck found outdated",
				    "please report it: the blocks since the previous recheck may "
				    "have the wrong kernel stack" },
	[LOSS_SWITCH_MISSED] = { "switch_missed",
				 "blocks not counted: the switch that ended them was not seen",
				 NULL },
	[LOSS_WALL_THREADS_FULL] = { "wall_threads_full",
				     "threads whose time before they were first seen is not counted: "
				     "more traced threads than --wall's table holds",
				     NULL },
	[LOSS_SAMPLES_MISSED] = { "samples_missed",
				  "samples not taken: the CPU clock was due (the timer fired late, a "
				  "virtual CPU did not run, the kernel throttled sampling on an idle CPU, "
				  "or another BPF program was running)",
				  "lower -F if there are many" },
	[LOSS_CALL_STATE] = { "call_state",
			      "calls not reported: per-thread state evicted by other threads",
			      "narrow the filter" },
};

int losses_read(struct bpf_map *map, struct losses *out)
{
	int ncpu = possible_cpus();
	uint64_t *values = calloc(ncpu, sizeof(*values));

	if (!values)
		return -1;
	for (uint32_t k = 0; k < LOSS_KINDS; k++) {
		out->count[k] = 0;
		if (bpf_map__lookup_elem(map, &k, sizeof(k), values, ncpu * sizeof(*values), 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			out->count[k] += values[c];
	}
	free(values);
	return 0;
}

bool losses_any(const struct losses *l)
{
	for (int k = 0; k < LOSS_KINDS; k++)
		if (l->count[k])
			return true;
	return l->recursion_misses;
}

void losses_print(FILE *out, const struct losses *l)
{
	if (!losses_any(l)) {
		fprintf(out, "lost: none\n");
		return;
	}
	for (int k = 0; k < LOSS_KINDS; k++) {
		if (!l->count[k])
			continue;
		fprintf(out, "lost: %llu %s", (unsigned long long)l->count[k], loss_info[k].what);
		if (loss_info[k].hint)
			fprintf(out, " (%s)", loss_info[k].hint);
		fputc('\n', out);
	}
	if (l->recursion_misses)
		fprintf(out, "lost: %llu events skipped by the kernel: an interrupt came while the "
			"program was running on that CPU, and programs do not nest\n",
			(unsigned long long)l->recursion_misses);
}

void losses_json(struct json *j, const struct losses *l)
{
	json_object_begin(j, "lost");
	for (int k = 0; k < LOSS_KINDS; k++)
		json_u64(j, loss_info[k].key, l->count[k]);
	json_u64(j, "recursion_misses", l->recursion_misses);
	json_object_end(j);
}
