// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "stack_stops.h"
#include "syscalls.h"
#include "syslat_stacks.h"
#include "units.h"
#include "util.h"

#define MAX_SYM_FRAMES 256 /* a stack's frames with its inlined calls */

int stacks_init(struct syslat_stacks *st, __u64 min_ns, const struct runtime_opts *runtime)
{
	memset(st, 0, sizeof(*st));
	st->min_ns = min_ns;
	/* the key: everything before count */
	rows_init(&st->rows, offsetof(struct syslat_stack, count), sizeof(struct syslat_stack));
	st->sym = symbolizer_for(runtime);
	return st->sym ? 0 : -1;
}

/* copy: the stack top, when the process's tables were not ready; else NULL */
void stacks_add(struct syslat_stacks *st, const struct syslat_stack_event *e,
		const struct unwind_copy *copy)
{
	struct syslat_stack key, *item;

	memset(&key, 0, sizeof(key));
	key.nr = e->call.nr;
	key.pid = e->call.pid;
	memcpy(key.comm, e->call.comm, sizeof(key.comm));
	symbolizer_note_process_once(st->sym, e->call.pid);

	key.kernel_frames = e->kernel_frames < SYSLAT_STACK_DEPTH ? e->kernel_frames :
								   SYSLAT_STACK_DEPTH;
	memcpy(key.kernel, e->kernel_stack, key.kernel_frames * sizeof(__u64));
	key.user_frames = unwinder_finish(st->unw, e->call.pid, e->user_stack,
					  MIN(e->user_frames, STACK_MAX_DEPTH), copy, key.user,
					  ARRAY_LEN(key.user));

	item = rows_get(&st->rows, &key);
	if (!item)
		return;
	item->count++;
	item->total_ns += e->call.latency_ns;
	if (e->call.latency_ns > item->max_ns)
		item->max_ns = e->call.latency_ns;
}

static int total_descending(const void *a, const void *b)
{
	__u64 x = (*(struct syslat_stack *const *)a)->total_ns;
	__u64 y = (*(struct syslat_stack *const *)b)->total_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static size_t top_n(struct syslat_stacks *st, unsigned int top)
{
	if (st->rows.n)
		qsort(st->rows.at, st->rows.n, sizeof(*st->rows.at), total_descending);
	return top && st->rows.n > top ? top : st->rows.n;
}

static const char *name_of(__u32 nr, char *buf, size_t len)
{
	const char *name = syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

/* Where the user stacks of every slow call stopped short, by why and module */
static void tally_stops(struct syslat_stacks *st, struct stack_stops *stops)
{
	static struct sym_frame frames[MAX_SYM_FRAMES];

	for (size_t i = 0; i < st->rows.n; i++) {
		const struct syslat_stack *s = st->rows.at[i];
		size_t nf = symbolizer_user_stack(st->sym, s->pid, s->user, s->user_frames, frames,
						  MAX_SYM_FRAMES, NULL);

		stack_stops_add(stops, frames, nf, s->count, s->total_ns);
	}
}

void stacks_print_text(FILE *out, struct syslat_stacks *st, unsigned int top)
{
	struct stack_stops stops = { 0 };
	static struct sym_frame frames[MAX_SYM_FRAMES];
	char d[3][16], name[32], line[1024];
	size_t n = top_n(st, top);

	if (!n)
		return;
	fprintf(out, "\nStacks of calls slower than %s, by total time:\n",
		format_duration(d[0], sizeof(d[0]), st->min_ns));
	for (size_t i = 0; i < n; i++) {
		struct syslat_stack *s = st->rows.at[i];
		bool truncated;
		size_t nf;

		fprintf(out, "\n  %s: %llu call%s, %s total, max %s (PID %u %s)\n",
			name_of(s->nr, name, sizeof(name)), (unsigned long long)s->count,
			s->count == 1 ? "" : "s", format_duration(d[1], sizeof(d[1]), s->total_ns),
			format_duration(d[2], sizeof(d[2]), s->max_ns), s->pid, s->comm);
		nf = symbolizer_kernel_stack(st->sym, s->kernel, s->kernel_frames, frames,
					     MAX_SYM_FRAMES);
		for (size_t f = 0; f < nf; f++)
			fprintf(out, "    [k] %s\n", frame_format(&frames[f], line, sizeof(line)));
		nf = symbolizer_user_stack(st->sym, s->pid, s->user, s->user_frames, frames,
					   MAX_SYM_FRAMES, &truncated);
		for (size_t f = 0; f < nf; f++)
			fprintf(out, "        %s\n", frame_format(&frames[f], line, sizeof(line)));
		if (!s->user_frames)
			fprintf(out, "        (user stack not readable)\n");
		else if (truncated)
			fprintf(out, "        (truncated: the stack ends before the thread's start)\n");
	}
	tally_stops(st, &stops);
	if (stops.n)
		fputc('\n', out);
	stack_stops_print(out, &stops);
	stack_stops_clear(&stops);
}

void stacks_print_json(struct json *j, struct syslat_stacks *st, unsigned int top)
{
	static struct sym_frame frames[MAX_SYM_FRAMES];
	struct stack_stops stops = { 0 };
	size_t n = top_n(st, top);
	char name[32];

	json_array_begin(j, "stacks");
	for (size_t i = 0; i < n; i++) {
		struct syslat_stack *s = st->rows.at[i];
		bool truncated;
		size_t nf;

		json_object_begin(j, NULL);
		json_str(j, "name", name_of(s->nr, name, sizeof(name)));
		json_u64(j, "pid", s->pid);
		json_str(j, "comm", s->comm);
		json_u64(j, "count", s->count);
		json_u64(j, "total_ns", s->total_ns);
		json_u64(j, "max_ns", s->max_ns);
		nf = symbolizer_kernel_stack(st->sym, s->kernel, s->kernel_frames, frames,
					     MAX_SYM_FRAMES);
		json_array_begin(j, "kernel_stack");
		for (size_t f = 0; f < nf; f++)
			frame_json(j, &frames[f]);
		json_array_end(j);
		nf = symbolizer_user_stack(st->sym, s->pid, s->user, s->user_frames, frames,
					   MAX_SYM_FRAMES, &truncated);
		json_array_begin(j, "user_stack");
		for (size_t f = 0; f < nf; f++)
			frame_json(j, &frames[f]);
		json_array_end(j);
		json_bool(j, "user_stack_truncated", truncated);
		json_object_end(j);
	}
	json_array_end(j);
	tally_stops(st, &stops);
	stack_stops_json(j, &stops);
	stack_stops_clear(&stops);
}

void stacks_free(struct syslat_stacks *st)
{
	rows_free(&st->rows, NULL);
	symbolizer_free(st->sym);
	memset(st, 0, sizeof(*st));
}
