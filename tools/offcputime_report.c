// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "json.h"
#include "offcputime_report.h"
#include "offcputime_wall.h"
#include "session.h"
#include "stack_stops.h"
#include "units.h"
#include "util.h"

#define MAX_SYM_FRAMES 512 /* a stack's frames with their inlined calls */


/* A stack, symbolized: the frames point into the symbolizer until its next call, so each stack
 * is printed before the next one is resolved. */
struct resolved {
	struct sym_frame frames[MAX_SYM_FRAMES];
	size_t n;
	bool truncated;
};

static struct resolved kernel, user;

static void resolve(struct offcpu_collector *c, struct symbolizer *sym,
		    const struct offcpu_report_opts *o, const struct offcpu_row *r)
{
	const uint64_t *ips;
	size_t n;

	kernel.n = user.n = 0;
	user.truncated = false;
	if (o->kernel_stacks) {
		n = offcpu_stack(c, r->key.kernel_stack, &ips);
		kernel.n = symbolizer_kernel_stack(sym, ips, n, kernel.frames, MAX_SYM_FRAMES);
	}
	if (o->user_stacks) {
		n = offcpu_stack(c, r->key.user_stack, &ips);
		if (n)
			user.n = symbolizer_user_stack(sym, r->key.tgid, ips, n, user.frames,
						       MAX_SYM_FRAMES, &user.truncated);
	}
}

static void resolve_ahead(struct offcpu_collector *c, struct symbolizer *sym,
			  const struct offcpu_report_opts *o, uint64_t cpu_ns)
{
	uint64_t until = thread_cpu_ns() + cpu_ns;

	while (c->resolved_ahead < c->rows.n && thread_cpu_ns() < until)
		resolve(c, sym, o, c->rows.at[c->resolved_ahead++]);
}

#define RESOLVE_AHEAD_NS (100 * NSEC_PER_MSEC) /* CPU time a second, while tracing */

void offcpu_tick(struct offcpu_collector *c, struct unwinder *u, struct symbolizer *sym,
		 const struct offcpu_report_opts *o)
{
	unwinder_tick(u);
	offcpu_collector_take_new(c);
	resolve_ahead(c, sym, o, RESOLVE_AHEAD_NS);
}

void offcpu_print_notes(const struct offcpu_collector *c, const struct unwinder *u)
{
	unwinder_print_stats(u);
	fprintf(stderr, "note: %zu of %zu entries had their stacks resolved during the session\n",
		c->resolved_ahead, c->rows.n);
}

const char *offcpu_state_name(uint32_t state)
{
	return state == OFFCPU_ON_CPU ? "on-cpu" :
	       state == OFFCPU_D      ? "D" :
	       state == OFFCPU_R      ? "R" :
					"S";
}

/* In place of the user stack of a block whose switch-out was not seen */
static const char *origin_text(uint32_t origin)
{
	return origin == OFFCPU_BEFORE_TRACE ? "off-CPU since before the trace began" :
	       origin == OFFCPU_NEW_THREAD   ? "a new thread, before its first run" :
					       NULL;
}

static int total_descending(const void *a, const void *b)
{
	uint64_t x = ((const struct offcpu_line *)a)->total_ns, y = ((const struct offcpu_line *)b)->total_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static size_t period_lines(const struct offcpu_collector *c, struct offcpu_line **out)
{
	struct offcpu_line *lines = calloc(c->rows.n + 1, sizeof(*lines));
	size_t n = 0;

	*out = lines;
	if (!lines)
		return 0;
	for (size_t i = 0; i < c->rows.n; i++) {
		const struct offcpu_row *r = c->rows.at[i];

		if (r->count > r->mark_count)
			lines[n++] = (struct offcpu_line){ .row = r, .count = r->count - r->mark_count,
						    .total_ns = r->total_ns - r->mark_total_ns };
	}
	if (n)
		qsort(lines, n, sizeof(*lines), total_descending);
	return n;
}

/* Folded frame names: no ';' (the separator); module+offset where the function is not known,
 * so that two functions of a stripped binary stay two boxes of a flame graph */
static void folded_frame(FILE *out, const struct sym_frame *f)
{
	char buf[256];
	const char *name = sym_frame_name(f, buf, sizeof(buf));

	fputc(';', out);
	for (const char *p = name; *p; p++)
		fputc(*p == ';' ? ':' : *p, out);
}

static void print_folded(FILE *out, const struct offcpu_report_opts *o, const struct offcpu_line *l)
{
	/* comm;user root..leaf;-;kernel root..leaf VALUE (microseconds) */
	for (const char *p = l->row->comm; *p; p++)
		fputc(*p == ';' ? ':' : *p == ' ' ? '_' : *p, out);
	if (origin_text(l->row->key.origin))
		fprintf(out, ";[%s]", origin_text(l->row->key.origin));
	for (size_t i = user.n; i-- > 0;)
		folded_frame(out, &user.frames[i]);
	if (o->user_stacks && o->kernel_stacks)
		fputs(";-", out);
	for (size_t i = kernel.n; i-- > 0;)
		folded_frame(out, &kernel.frames[i]);
	if (o->wall)
		fprintf(out, ";[%s]", offcpu_state_name(l->row->key.state));
	fprintf(out, " %llu\n",
		(unsigned long long)(o->samples ? l->count : l->total_ns / NSEC_PER_USEC));
}

static void print_block(FILE *out, const struct offcpu_report_opts *o, const struct offcpu_line *l)
{
	char frame[1024], d[16];

	for (size_t i = 0; i < kernel.n; i++)
		fprintf(out, "    %s\n", frame_format(&kernel.frames[i], frame, sizeof(frame)));
	if (o->delimiter && kernel.n && user.n)
		fprintf(out, "    --\n");
	for (size_t i = 0; i < user.n; i++)
		fprintf(out, "    %s\n", frame_format(&user.frames[i], frame, sizeof(frame)));
	if (user.truncated && user.n)
		fprintf(out, "    (truncated: the stack ends before the thread's start)\n");
	if (origin_text(l->row->key.origin))
		fprintf(out, "    (%s: the user stack was not seen)\n",
			origin_text(l->row->key.origin));
	if (o->per_thread)
		fprintf(out, "    -                %s (%u/%u)\n", l->row->comm, l->row->key.tgid,
			l->row->key.tid);
	else
		fprintf(out, "    -                %s (%u)\n", l->row->comm, l->row->key.tgid);
	if (o->samples)
		fprintf(out, "        %llu sample%s\n\n", (unsigned long long)l->count,
			l->count == 1 ? "" : "s");
	else if (l->row->key.state == OFFCPU_ON_CPU)
		fprintf(out, "        on-CPU %llu us in %llu sample%s\n\n",
			(unsigned long long)(l->total_ns / NSEC_PER_USEC),
			(unsigned long long)l->count, l->count == 1 ? "" : "s");
	else
		fprintf(out, "        %s %llu us in %llu block%s (max %s)\n\n",
			offcpu_state_name(l->row->key.state),
			(unsigned long long)(l->total_ns / NSEC_PER_USEC),
			(unsigned long long)l->count, l->count == 1 ? "" : "s",
			format_duration(d, sizeof(d), l->row->max_ns));
}

static void json_stack(struct json *j, const char *key, const struct resolved *r)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < r->n; i++)
		frame_json(j, &r->frames[i]);
	json_array_end(j);
}

static void print_json_row(struct json *j, const struct offcpu_report_opts *o,
			   const struct offcpu_line *l)
{
	json_object_begin(j, NULL);
	json_u64(j, "pid", l->row->key.tgid);
	if (o->per_thread)
		json_u64(j, "tid", l->row->key.tid);
	json_str(j, "comm", l->row->comm);
	json_str(j, "state", offcpu_state_name(l->row->key.state));
	if (origin_text(l->row->key.origin))
		json_str(j, "origin", l->row->key.origin == OFFCPU_BEFORE_TRACE ?
						 "before_trace" : "new_thread");
	json_u64(j, "count", l->count);
	json_u64(j, "total_ns", l->total_ns);
	if (l->row->key.state != OFFCPU_ON_CPU)
		json_u64(j, "max_ns", l->row->max_ns);
	if (o->kernel_stacks)
		json_stack(j, "kernel_stack", &kernel);
	if (o->user_stacks) {
		json_stack(j, "user_stack", &user);
		json_bool(j, "user_stack_truncated", user.n && user.truncated);
	}
	json_object_end(j);
}

static void print_footer(FILE *out, const struct offcpu_collector *c, const struct offcpu_period *p,
			 const struct stack_stops *stops)
{
	const struct losses *l = &c->losses;

	stack_stops_print(out, stops);
	if (c->inferred_ends)
		fprintf(out, "%llu blocks ended where the kernel's accounting says: the program did not "
			"see their switch\n", (unsigned long long)c->inferred_ends);
	losses_print(out, l);
	if (l->count[LOSS_STACK_MAP_FULL])
		fprintf(out, "  the stack storage holds %llu stacks: raise --stack-storage-size\n",
			(unsigned long long)p->stack_storage_size);
	if (p->session)
		session_footer(out, p->session);
}

static void report_form(FILE *out, const struct offcpu_report_opts *o, struct offcpu_collector *c,
			struct symbolizer *sym, const struct offcpu_period *p)
{
	struct offcpu_line *lines;
	size_t n = period_lines(c, &lines);
	struct stack_stops stops = { 0 };
	struct json j;
	char d[16];

	if (o->json) {
		json_init(&j, out);
		json_object_begin(&j, NULL);
		json_str(&j, "tool", o->tool);
		json_str(&j, "type", p->end_reason ? "summary" : "interval");
		json_u64(&j, "duration_ns", p->duration_ns);
		if (p->end_reason)
			json_str(&j, "end_reason", p->end_reason);
		json_array_begin(&j, "stacks");
	} else if (!o->folded) {
		if (p->end_reason)
			fprintf(out, "\nTraced for %s (%s).\n\n",
				format_duration(d, sizeof(d), p->duration_ns), p->end_reason);
		else
			fprintf(out, "\nInterval of %s:\n\n",
				format_duration(d, sizeof(d), p->duration_ns));
	}
	for (size_t i = 0; i < n; i++) {
		resolve(c, sym, o, lines[i].row);
		stack_stops_add(&stops, user.frames, user.n, lines[i].count, lines[i].total_ns);
		if (o->json)
			print_json_row(&j, o, &lines[i]);
		else if (o->folded)
			print_folded(out, o, &lines[i]);
		else
			print_block(out, o, &lines[i]);
	}
	if (o->json) {
		json_array_end(&j);
		if (o->wall)
			offcpu_wall_threads(out, &j, o, lines, n);
		json_u64(&j, "inferred_block_ends", c->inferred_ends);
		stack_stops_json(&j, &stops);
		losses_json(&j, &c->losses);
		if (p->session)
			cost_json(&j, &p->session->cost);
		json_object_end(&j);
		json_line_end(&j);
	} else if (o->folded) {
		/* folded output stays parseable: the footer goes to stderr */
		print_footer(stderr, c, p, &stops);
	} else {
		if (!n)
			fprintf(out, "No %s recorded.\n\n", o->samples ? "samples" :
							    o->wall    ? "time of the traced threads" :
									 "off-CPU time");
		else if (o->wall)
			offcpu_wall_threads(out, NULL, o, lines, n);
		print_footer(out, c, p, &stops);
	}
	stack_stops_clear(&stops);
	free(lines);
	fflush(out);
}

void offcpu_report(const struct report_streams *streams, const struct offcpu_report_opts *o,
		   struct offcpu_collector *c, struct symbolizer *sym, const struct offcpu_period *p)
{
	struct offcpu_report_opts form = *o;

	if (o->folded)
		report_form(stdout, o, c, sym, p);
	form.folded = false;
	form.json = false;
	if (streams->text)
		report_form(streams->text, &form, c, sym, p);
	form.json = true;
	if (streams->json)
		report_form(streams->json, &form, c, sym, p);
}
