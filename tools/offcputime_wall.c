// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "offcputime_wall.h"
#include "parse.h"
#include "rows.h"
#include "table.h"
#include "util.h"

/* A wall-clock profile's time of one thread (or process), by state */
struct thread_time {
	uint32_t tgid, tid; /* the key */
	const char *comm;
	uint64_t ns[4];	    /* on-CPU, S, D, R */
	uint64_t total_ns;
};

static const uint32_t wall_states[4] = { OFFCPU_ON_CPU, OFFCPU_S, OFFCPU_D, OFFCPU_R };

static void add_thread_time(struct rows *threads, const struct offcpu_line *l)
{
	uint32_t key[2] = { l->row->key.tgid, l->row->key.tid };
	struct thread_time *t = rows_get(threads, key);

	if (!t)
		return;
	t->comm = l->row->comm;
	for (size_t s = 0; s < ARRAY_LEN(wall_states); s++)
		if (l->row->key.state == wall_states[s])
			t->ns[s] += l->total_ns;
	t->total_ns += l->total_ns;
}

void offcpu_wall_threads(FILE *out, struct json *j, const struct offcpu_report_opts *o,
			 const struct offcpu_line *lines, size_t n)
{
	struct rows threads;
	struct table t;

	rows_init(&threads, 2 * sizeof(uint32_t), sizeof(struct thread_time));
	for (size_t i = 0; i < n; i++)
		add_thread_time(&threads, &lines[i]);
	if (j)
		json_array_begin(j, "threads");
	else
		table_init(&t, o->per_thread ? "PID TID <COMM ON-CPU(ms) S(ms) D(ms) R(ms) TOTAL(ms)" :
					       "PID <COMM ON-CPU(ms) S(ms) D(ms) R(ms) TOTAL(ms)");
	for (size_t i = 0; i < threads.n; i++) {
		const struct thread_time *tt = threads.at[i];

		if (j) {
			json_object_begin(j, NULL);
			json_u64(j, "pid", tt->tgid);
			if (o->per_thread)
				json_u64(j, "tid", tt->tid);
			json_str(j, "comm", tt->comm);
			json_object_begin(j, "state_ns");
			for (size_t s = 0; s < ARRAY_LEN(wall_states); s++)
				json_u64(j, offcpu_state_name(wall_states[s]), tt->ns[s]);
			json_object_end(j);
			json_u64(j, "total_ns", tt->total_ns);
			json_object_end(j);
			continue;
		}
		table_cell(&t, "%u", tt->tgid);
		if (o->per_thread)
			table_cell(&t, "%u", tt->tid);
		table_cell(&t, "%s", tt->comm);
		for (size_t s = 0; s < ARRAY_LEN(wall_states); s++)
			table_cell(&t, "%.1f", (double)tt->ns[s] / NSEC_PER_MSEC);
		table_cell(&t, "%.1f", (double)tt->total_ns / NSEC_PER_MSEC);
	}
	if (j) {
		json_array_end(j);
	} else {
		fprintf(out, "Wall-clock time by %s (on-CPU from samples, off-CPU from the "
			"scheduler):\n", o->per_thread ? "thread" : "process");
		table_print(&t, out);
		fputc('\n', out);
		table_free(&t);
	}
	rows_free(&threads, NULL);
}
