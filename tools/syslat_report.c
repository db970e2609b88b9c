// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "errnos.h"
#include "fdinfo.h"
#include "json.h"
#include "session.h"
#include "syscalls.h"
#include "syslat_decode.h"
#include "syslat_report.h"
#include "table.h"
#include "units.h"

/* A row of the period, with what the report needs computed once */
struct line {
	const struct syslat_row *row;
	struct syslat_counts counts;
	struct hist_bin *buckets;
	size_t nbuckets;
};

static const double percentiles[] = { 50, 90, 99, 99.9 };

static int total_descending(const void *a, const void *b)
{
	uint64_t x = ((const struct line *)a)->counts.total_ns;
	uint64_t y = ((const struct line *)b)->counts.total_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static size_t collect_lines(const struct syslat_collector *c, unsigned int top, struct line **out)
{
	struct line *lines = calloc(c->rows.n + 1, sizeof(*lines));
	size_t n = 0;

	*out = lines;
	if (!lines)
		return 0;
	for (size_t i = 0; i < c->rows.n; i++) {
		struct syslat_counts counts = row_period(c->rows.at[i]);

		if (counts.count)
			lines[n++] = (struct line){ .row = c->rows.at[i], .counts = counts };
	}
	qsort(lines, n, sizeof(*lines), total_descending);
	if (top && n > top)
		n = top;
	for (size_t i = 0; i < n; i++)
		lines[i].nbuckets = row_period_buckets(lines[i].row, &lines[i].buckets);
	return n;
}

static void free_lines(struct line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i].buckets);
	free(lines);
}

static const char *name_of(unsigned int nr, char *buf, size_t len)
{
	const char *name = syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

static uint64_t line_percentile(const struct line *l, double p)
{
	return hist_percentile(l->buckets, l->nbuckets, p, l->row->min_ns, l->row->max_ns);
}

static void text_table(FILE *out, const struct report_opts *o, struct line *lines, size_t n)
{
	char spec[160], d[6][16], name[32];
	struct table t;

	snprintf(spec, sizeof(spec), "%s%s%s<SYSCALL %sCOUNT ERRORS TOTAL AVG P50 P90 P99 MAX%s",
		 o->key_by & (SYSLAT_BY_PID | SYSLAT_BY_FD) ? "PID " : "",
		 o->key_by & SYSLAT_BY_TID ? "TID " : "", o->key_by ? "<COMM " : "",
		 o->key_by & SYSLAT_BY_FD ? "FD " : "", o->key_by & SYSLAT_BY_FD ? " <DESCRIPTOR" : "");
	table_init(&t, spec);
	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		const struct syslat_key *k = &l->row->key;

		if (o->key_by & (SYSLAT_BY_PID | SYSLAT_BY_FD))
			table_cell(&t, "%u", k->pid);
		if (o->key_by & SYSLAT_BY_TID)
			table_cell(&t, "%u", k->tid);
		if (o->key_by)
			table_cell(&t, "%s", l->row->comm);
		table_cell(&t, "%s", name_of(k->nr, name, sizeof(name)));
		if (o->key_by & SYSLAT_BY_FD) {
			if (k->file.fd == SYSLAT_NO_FD)
				table_cell(&t, "-");
			else
				table_cell(&t, "%d", k->file.fd);
		}
		table_cell(&t, "%llu", (unsigned long long)l->counts.count);
		table_cell(&t, "%llu", (unsigned long long)l->counts.errors);
		table_cell(&t, "%s", format_duration(d[0], 16, l->counts.total_ns));
		table_cell(&t, "%s", format_duration(d[1], 16, l->counts.total_ns / l->counts.count));
		table_cell(&t, "%s", format_duration(d[2], 16, line_percentile(l, 50)));
		table_cell(&t, "%s", format_duration(d[3], 16, line_percentile(l, 90)));
		table_cell(&t, "%s", format_duration(d[4], 16, line_percentile(l, 99)));
		table_cell(&t, "%s", format_duration(d[5], 16, l->row->max_ns));
		if (o->key_by & SYSLAT_BY_FD)
			table_cell(&t, "%s", l->row->fd_desc[0] ? l->row->fd_desc : "-");
	}
	table_print(&t, out);
	table_free(&t);
}

static void row_label(const struct report_opts *o, const struct syslat_row *r, char *buf,
		      size_t len)
{
	char name[32];
	int n = snprintf(buf, len, "%s", name_of(r->key.nr, name, sizeof(name)));

	if (o->key_by & SYSLAT_BY_TID)
		n += snprintf(buf + n, len - n, " (TID %u %s)", r->key.tid, r->comm);
	else if (o->key_by & (SYSLAT_BY_PID | SYSLAT_BY_FD))
		n += snprintf(buf + n, len - n, " (PID %u %s)", r->key.pid, r->comm);
	if ((o->key_by & SYSLAT_BY_FD) && r->key.file.fd != SYSLAT_NO_FD && n < (int)len)
		snprintf(buf + n, len - n, " fd %d", r->key.file.fd);
}

static void text_errors(FILE *out, const struct report_opts *o, struct line *lines, size_t n)
{
	bool header = false;

	for (size_t i = 0; i < n; i++) {
		struct syslat_bin *errnos;
		size_t ne;
		char label[128];

		if (!lines[i].counts.errors)
			continue;
		ne = row_period_errnos(lines[i].row, &errnos);
		if (!header)
			fprintf(out, "\nErrors:\n");
		header = true;
		row_label(o, lines[i].row, label, sizeof(label));
		fprintf(out, "  %s:", label);
		for (size_t e = 0; e < ne; e++) {
			const char *name = errno_name(errnos[e].bin);

			if (name)
				fprintf(out, " %s %llu", name, (unsigned long long)errnos[e].count);
			else
				fprintf(out, " errno%u %llu", errnos[e].bin,
					(unsigned long long)errnos[e].count);
		}
		fputc('\n', out);
		free(errnos);
	}
}

static void text_histograms(FILE *out, const struct report_opts *o, struct line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char label[128];

		row_label(o, lines[i].row, label, sizeof(label));
		fprintf(out, "\n%s, %llu call%s:\n", label, (unsigned long long)lines[i].counts.count,
			lines[i].counts.count == 1 ? "" : "s");
		hist_print_log2(out, lines[i].buckets, lines[i].nbuckets, "  ");
	}
}

static void text_inflight(FILE *out, const struct syslat_inflight_list *inflight)
{
	struct table t;
	char d[16], name[32];

	if (inflight->len) {
		fprintf(out, "\nStill inside a traced syscall at the end:\n");
		table_init(&t, "PID TID <COMM <SYSCALL FOR <STATE <WAITING_IN <NOTE");
		for (size_t i = 0; i < inflight->len; i++) {
			const struct syslat_inflight *f = &inflight->items[i];

			table_cell(&t, "%d", f->pid);
			table_cell(&t, "%d", f->tid);
			table_cell(&t, "%s", f->comm);
			table_cell(&t, "%s", name_of(f->nr, name, sizeof(name)));
			table_cell(&t, "%s%s", f->before_tracing ? ">" : "",
				   format_duration(d, sizeof(d), f->duration_ns));
			table_cell(&t, "%c", f->state);
			table_cell(&t, "%s", f->wchan);
			table_cell(&t, "%s", f->before_tracing ? "began before tracing" : "");
		}
		table_print(&t, out);
		table_free(&t);
	}
	if (inflight->hidden_before_tracing)
		fprintf(out, "(%zu more threads wait in syscalls that began before tracing; "
			     "use -p or -t to list them)\n",
			inflight->hidden_before_tracing);
}

static void report_text(FILE *out, const struct report_opts *o, const struct syslat_collector *c,
			const struct report_period *p, struct line *lines, size_t n)
{
	char d[16], when[16];

	if (p->end_reason) {
		fprintf(out, "\nTraced for %s (%s).\n", format_duration(d, sizeof(d), p->duration_ns),
			p->end_reason);
	} else {
		format_wall_time(when, sizeof(when), monotonic_ns());
		fprintf(out, "\n%s  interval of %s\n", when,
			format_duration(d, sizeof(d), p->duration_ns));
	}
	if (n)
		text_table(out, o, lines, n);
	else
		fprintf(out, "No traced syscalls completed.\n");
	text_errors(out, o, lines, n);
	if (o->histograms)
		text_histograms(out, o, lines, n);
	if (p->stacks)
		stacks_print_text(out, p->stacks, p->top_stacks);
	if (p->inflight)
		text_inflight(out, p->inflight);
	fputc('\n', out);
	losses_print(out, &c->losses);
	if (p->session)
		session_footer(out, p->session);
}

static void json_row(struct json *j, const struct report_opts *o, const struct line *l)
{
	static const char *const keys[] = { "p50_ns", "p90_ns", "p99_ns", "p999_ns" };
	const struct syslat_key *k = &l->row->key;
	struct syslat_bin *errnos;
	char name[32];
	size_t ne;

	json_object_begin(j, NULL);
	json_str(j, "name", name_of(k->nr, name, sizeof(name)));
	json_u64(j, "nr", k->nr);
	if (o->key_by & (SYSLAT_BY_PID | SYSLAT_BY_FD))
		json_u64(j, "pid", k->pid);
	if (o->key_by & SYSLAT_BY_TID)
		json_u64(j, "tid", k->tid);
	if (o->key_by)
		json_str(j, "comm", l->row->comm);
	if (o->key_by & SYSLAT_BY_FD) {
		if (k->file.fd == SYSLAT_NO_FD) {
			json_str(j, "fd", NULL);
			json_str(j, "fd_desc", NULL);
		} else {
			json_i64(j, "fd", k->file.fd);
			json_str(j, "fd_desc", l->row->fd_desc);
		}
	}
	json_u64(j, "count", l->counts.count);
	json_u64(j, "errors", l->counts.errors);
	json_u64(j, "total_ns", l->counts.total_ns);
	json_u64(j, "avg_ns", l->counts.total_ns / l->counts.count);
	for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++)
		json_u64(j, keys[i], line_percentile(l, percentiles[i]));
	json_u64(j, "max_ns", l->row->max_ns);
	json_object_begin(j, "errnos");
	ne = row_period_errnos(l->row, &errnos);
	for (size_t e = 0; e < ne; e++) {
		const char *ename = errno_name(errnos[e].bin);
		char num[16];

		snprintf(num, sizeof(num), "%u", errnos[e].bin);
		json_u64(j, ename ? ename : num, errnos[e].count);
	}
	free(errnos);
	json_object_end(j);
	if (o->histograms) {
		json_array_begin(j, "histogram");
		for (size_t b = 0; b < l->nbuckets; b++) {
			uint64_t low = hist_bucket_low(l->buckets[b].bucket);

			json_object_begin(j, NULL);
			json_u64(j, "from_ns", low);
			json_u64(j, "to_ns", low + hist_bucket_width(l->buckets[b].bucket));
			json_u64(j, "count", l->buckets[b].count);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

static void json_inflight(struct json *j, const struct syslat_inflight_list *inflight)
{
	char name[32];

	json_array_begin(j, "in_flight");
	for (size_t i = 0; i < inflight->len; i++) {
		const struct syslat_inflight *f = &inflight->items[i];

		json_object_begin(j, NULL);
		json_u64(j, "pid", f->pid);
		json_u64(j, "tid", f->tid);
		json_str(j, "comm", f->comm);
		json_str(j, "name", name_of(f->nr, name, sizeof(name)));
		json_u64(j, "nr", f->nr);
		json_u64(j, "duration_ns", f->duration_ns);
		json_bool(j, "began_before_tracing", f->before_tracing);
		json_str(j, "state", (char[]){ f->state, 0 });
		json_str(j, "wchan", f->wchan);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "in_flight_not_listed", inflight->hidden_before_tracing);
}

static void report_json(FILE *out, const struct report_opts *o, const struct syslat_collector *c,
			const struct report_period *p, struct line *lines, size_t n)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_str(&j, "tool", "syslat");
	json_str(&j, "type", p->end_reason ? "summary" : "interval");
	json_u64(&j, "duration_ns", p->duration_ns);
	if (p->end_reason)
		json_str(&j, "end_reason", p->end_reason);
	json_array_begin(&j, "syscalls");
	for (size_t i = 0; i < n; i++)
		json_row(&j, o, &lines[i]);
	json_array_end(&j);
	losses_json(&j, &c->losses);
	if (p->session)
		cost_json(&j, &p->session->cost);
	if (p->stacks)
		stacks_print_json(&j, p->stacks, p->top_stacks);
	if (p->inflight)
		json_inflight(&j, p->inflight);
	json_object_end(&j);
	json_line_end(&j);
}

void report_print(const struct report_streams *streams, const struct report_opts *o,
		  const struct syslat_collector *c, const struct report_period *p)
{
	struct line *lines;
	size_t n = collect_lines(c, o->top, &lines);

	if (streams->text) {
		report_text(streams->text, o, c, p, lines, n);
		fflush(streams->text);
	}
	if (streams->json) {
		report_json(streams->json, o, c, p, lines, n);
		fflush(streams->json);
	}
	free_lines(lines, n);
}

/* What an event's forms share */
struct event_words {
	char when[16], result[32], args[256], fd_desc[192], name_buf[32];
	const char *name;
};

static void event_json(FILE *out, const struct syslat_event *e, const struct event_words *w)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_str(&j, "type", "slow_call");
	json_str(&j, "time", w->when);
	json_u64(&j, "end_ns", e->end_ns);
	json_u64(&j, "pid", e->pid);
	json_u64(&j, "tid", e->tid);
	json_str(&j, "comm", e->comm);
	json_str(&j, "name", w->name);
	json_u64(&j, "nr", e->nr);
	json_u64(&j, "latency_ns", e->latency_ns);
	json_i64(&j, "ret", e->ret);
	json_str(&j, "errno", e->ret < 0 ? errno_name(-e->ret) : NULL);
	json_str(&j, "args", w->args);
	if (e->file.fd != SYSLAT_NO_FD) {
		json_i64(&j, "fd", e->file.fd);
		json_str(&j, "fd_desc", w->fd_desc);
	}
	json_object_end(&j);
	json_line_end(&j);
	fflush(out);
}

static void event_text(FILE *out, const struct syslat_event *e, const struct event_words *w)
{
	static bool header_done;
	char d[16];

	if (!header_done)
		fprintf(out, "%-12s %7s %7s %-15s %-16s %8s %-11s %s\n", "TIME", "PID", "TID",
			"COMM", "SYSCALL", "LATENCY", "RESULT", "ARGS");
	header_done = true;
	fprintf(out, "%-12s %7u %7u %-15s %-16s %8s %-11s %s%s%s%s\n", w->when, e->pid, e->tid,
		e->comm, w->name, format_duration(d, sizeof(d), e->latency_ns), w->result, w->args,
		w->fd_desc[0] ? " [" : "", w->fd_desc, w->fd_desc[0] ? "]" : "");
	fflush(out);
}

void report_event(const struct report_streams *streams, const struct syslat_event *e)
{
	struct event_words w = { .fd_desc = "" };

	format_wall_time(w.when, sizeof(w.when), e->end_ns);
	syslat_format_result(e->ret, w.result, sizeof(w.result));
	syslat_format_args(e, w.args, sizeof(w.args));
	w.name = name_of(e->nr, w.name_buf, sizeof(w.name_buf));
	if (e->file.fd != SYSLAT_NO_FD)
		fd_describe_inode(e->pid, e->file.fd, e->file.ino, e->file.mode, &e->sock,
				  w.fd_desc, sizeof(w.fd_desc));
	if (streams->text)
		event_text(streams->text, e, &w);
	if (streams->json)
		event_json(streams->json, e, &w);
}
