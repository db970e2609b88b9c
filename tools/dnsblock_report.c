// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "dnsblock_report.h"
#include "dnsblock_wire.h"
#include "frames.h"
#include "session.h"
#include "units.h"
#include "util.h"

#define MAX_SYM_FRAMES 256
#define QUERIES_TEXT   512

/* What the summary keeps of the lookups of a name or a process */
struct lookup_stats {
	uint64_t count, errors, total_ns, max_ns, blocked_ns;
	uint64_t *latencies;
	size_t cap;
};

struct name_row {
	char name[DNS_NAME_LEN]; /* the key */
	struct lookup_stats s;
};

struct process_row {
	uint32_t pid;		 /* the key: pid and comm */
	char comm[DNS_COMM_LEN];
	struct lookup_stats s;
};

void report_init(struct dns_report *r, const struct report_streams *streams,
		 const struct dns_report_opts *opts, struct symbolizer *sym)
{
	memset(r, 0, sizeof(*r));
	r->out = streams->text;
	r->json = streams->json;
	r->opts = *opts;
	r->sym = sym;
	json_init(&r->j, r->json);
	rows_init(&r->by_name, offsetof(struct name_row, s), sizeof(struct name_row));
	rows_init(&r->by_process, offsetof(struct process_row, s), sizeof(struct process_row));
	if (r->out)
		fprintf(r->out, "%-12s %-7s %-7s %-16s %9s %9s %-14s %s\n", "TIME", "PID", "TID",
			"COMM", "LATENCY", "BLOCKED", "RESULT", "NAME VIA QUERIES");
}

static const char *address_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static uint32_t wire_answers(const struct dns_lookup *l, int *first_error, bool *any_ok)
{
	uint32_t answers = 0;

	*first_error = DNS_NO_ANSWER;
	*any_ok = false;
	for (size_t k = 0; k < l->nqueries; k++) {
		const struct dns_query *q = &l->queries[k];

		if (!q->answered_ns)
			continue;
		if (q->rcode == DNS_RCODE_NOERROR) {
			*any_ok = true;
			answers += q->answers;
		} else if (*first_error == DNS_NO_ANSWER) {
			*first_error = q->rcode;
		}
	}
	return answers;
}

/* What the queries say: OK:N, NODATA, the first error's rcode, or TIMEOUT; NULL if there
 * were none */
static const char *wire_result(const struct dns_lookup *l, char *buf, size_t len, bool *ok)
{
	int error;
	uint32_t answers = wire_answers(l, &error, ok);

	if (*ok) {
		if (!answers)
			return "NODATA";
		snprintf(buf, len, "OK:%u", answers);
		return buf;
	}
	if (error != DNS_NO_ANSWER)
		return dns_rcode_name(error, buf, len);
	return l->nqueries ? "TIMEOUT" : NULL;
}

/* The lookup's result: OK:N (addresses), or its error by name; *ok tells which */
static const char *lookup_result(const struct dns_lookup *l, char *buf, size_t len, bool *ok)
{
	const char *r;

	*ok = false;
	if (l->api == DNS_API_WIRE) {
		r = wire_result(l, buf, len, ok);
		return r ? r : "?";
	}
	*ok = l->code == 0;
	if (*ok && l->result_kind == DNS_RESULT_ANSWER && !l->naddrs) {
		*ok = false;
		return "NODATA";
	}
	if (*ok) {
		snprintf(buf, len, "OK:%u%s", l->naddrs, l->more_addrs ? "+" : "");
		return buf;
	}
	if (l->result_kind == DNS_RESULT_EAI)
		return eai_name(l->code, buf, len);
	if (l->code > 0 && l->result_kind == DNS_RESULT_HOSTENT)
		return herrno_name(l->code, buf, len);
	if (l->code > 0)
		return dns_rcode_name(l->code, buf, len);
	/* the call failed without saying why: its queries tell */
	r = wire_result(l, buf, len, &(bool){ false });
	return r ? r : "FAILED";
}

static const char *query_outcome(const struct dns_query *q, char *buf, size_t len)
{
	if (!q->answered_ns)
		return "TIMEOUT";
	if (q->rcode == DNS_RCODE_NOERROR)
		return "OK";
	return dns_rcode_name(q->rcode, buf, len);
}

/* "A=OK,AAAA=OK@127.0.0.1", "A=TIMEOUT,A=OK/tcp@10.0.0.53", or "-" */
static const char *queries_text(const struct dns_lookup *l, char *buf, size_t len)
{
	char type[16], outcome[16], server[INET6_ADDRSTRLEN];
	size_t n = 0;

	if (!l->nqueries)
		return "-";
	buf[0] = '\0';
	for (size_t k = 0; k < l->nqueries && n < len; k++) {
		const struct dns_query *q = &l->queries[k];

		n += snprintf(buf + n, len - n, "%s%s=%s%s", k ? "," : "",
			      dns_type_name(q->type, type, sizeof(type)),
			      query_outcome(q, outcome, sizeof(outcome)), q->tcp ? "/tcp" : "");
	}
	for (size_t k = 0; k < l->nqueries && n < len; k++) {
		const struct dns_query *q = &l->queries[k];
		bool seen = false;

		for (size_t p = 0; p < k && !seen; p++)
			seen = l->queries[p].family == q->family &&
			       !memcmp(l->queries[p].server, q->server, sizeof(q->server));
		if (!seen)
			n += snprintf(buf + n, len - n, "%c%s", k ? ',' : '@',
				      inet_ntop(q->family, q->server, server, sizeof(server)) ?
					      server : "?");
	}
	return buf;
}

static const char *blocked_text(const struct dns_lookup *l, char *buf, size_t len)
{
	return l->blocked_ns == BLOCKED_UNKNOWN ? "-" : format_duration(buf, len, l->blocked_ns);
}

/* A lookup's stack, resolved once for every form */
struct lookup_stack {
	bool shown;	/* --stacks, and a lookup that has a caller */
	size_t n;	/* 0: not readable */
	bool truncated;
};

static struct sym_frame stack_frames[MAX_SYM_FRAMES];

static void resolve_stack(struct dns_report *r, const struct dns_lookup *l,
			  struct lookup_stack *st)
{
	/* a query sent from a resolver's own loop has no caller to show */
	*st = (struct lookup_stack){ .shown = r->opts.stacks && l->api != DNS_API_WIRE };
	if (!st->shown || !l->stack_frames)
		return;
	st->n = symbolizer_user_stack(r->sym, l->pid, l->stack, l->stack_frames, stack_frames,
				      MAX_SYM_FRAMES, &st->truncated);
	stack_stops_add(&r->stops, stack_frames, st->n, 1, l->end_ns - l->start_ns);
}

static void print_stack(struct dns_report *r, const struct lookup_stack *st)
{
	char line[1024];

	if (!st->shown)
		return;
	if (!st->n) {
		fprintf(r->out, "    (no stack: it could not be read)\n");
		return;
	}
	for (size_t f = 0; f < st->n; f++)
		fprintf(r->out, "    %s\n", frame_format(&stack_frames[f], line, sizeof(line)));
	if (st->truncated)
		fprintf(r->out, "    (truncated: the stack ends before the thread's start)\n");
}

static void print_line(struct dns_report *r, const struct dns_lookup *l,
		       const struct lookup_stack *st)
{
	char when[16], lat[16], blk[16], res[32], queries[QUERIES_TEXT];
	bool ok;

	format_wall_time(when, sizeof(when), l->end_ns);
	fprintf(r->out, "%-12s %-7u %-7u %-16s %9s %9s %-14s %s %s %s\n", when, l->pid, l->tid,
		l->comm, format_duration(lat, sizeof(lat), l->end_ns - l->start_ns),
		blocked_text(l, blk, sizeof(blk)), lookup_result(l, res, sizeof(res), &ok),
		l->name[0] ? l->name : "-", dns_api_name(l->api),
		queries_text(l, queries, sizeof(queries)));
	print_stack(r, st);
}

static void json_queries(struct json *j, const struct dns_lookup *l)
{
	char type[16], outcome[16], server[INET6_ADDRSTRLEN];

	json_array_begin(j, "queries");
	for (size_t k = 0; k < l->nqueries; k++) {
		const struct dns_query *q = &l->queries[k];

		json_object_begin(j, NULL);
		json_str(j, "type", dns_type_name(q->type, type, sizeof(type)));
		json_u64(j, "id", q->id);
		json_str(j, "protocol", q->tcp ? "tcp" : "udp");
		json_str(j, "server", inet_ntop(q->family, q->server, server, sizeof(server)));
		json_str(j, "outcome", query_outcome(q, outcome, sizeof(outcome)));
		if (q->answered_ns) {
			json_u64(j, "answers", q->answers);
			json_u64(j, "latency_ns", q->answered_ns - q->sent_ns);
		}
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_stack(struct dns_report *r, const struct lookup_stack *st)
{
	json_array_begin(&r->j, "stack");
	for (size_t f = 0; f < st->n; f++)
		frame_json(&r->j, &stack_frames[f]);
	json_array_end(&r->j);
}

static void print_json(struct dns_report *r, const struct dns_lookup *l,
		       const struct lookup_stack *st)
{
	char when[16], res[32], addr[INET6_ADDRSTRLEN];
	struct json *j = &r->j;
	bool ok;

	format_wall_time(when, sizeof(when), l->end_ns);
	json_object_begin(j, NULL);
	json_str(j, "type", "lookup");
	json_str(j, "time", when);
	json_u64(j, "pid", l->pid);
	json_u64(j, "tid", l->tid);
	json_str(j, "comm", l->comm);
	json_str(j, "via", dns_api_name(l->api));
	json_str(j, "name", l->name);
	json_u64(j, "latency_ns", l->end_ns - l->start_ns);
	if (l->blocked_ns == BLOCKED_UNKNOWN)
		json_str(j, "blocked_ns", NULL);
	else
		json_u64(j, "blocked_ns", l->blocked_ns);
	json_str(j, "result", lookup_result(l, res, sizeof(res), &ok));
	json_bool(j, "ok", ok);
	if (l->api != DNS_API_WIRE)
		json_u64(j, "addresses", l->naddrs);
	/* the addresses found (getnameinfo's is the one asked about, res_*'s are records) */
	if (l->api != DNS_API_WIRE && l->result_kind != DNS_RESULT_ANSWER &&
	    l->api != DNS_API_GETNAMEINFO) {
		json_array_begin(j, "address_list");
		for (uint32_t i = 0; i < MIN(l->naddrs, DNS_ADDRS_MAX); i++)
			json_str(j, NULL, address_text(&l->addrs[i], addr, sizeof(addr)));
		json_array_end(j);
	}
	if (l->answer[0])
		json_str(j, "answer", l->answer);
	json_queries(j, l);
	if (st->shown)
		json_stack(r, st);
	json_object_end(j);
	json_line_end(j);
}

static void stats_add(struct lookup_stats *s, const struct dns_lookup *l, bool ok)
{
	uint64_t latency = l->end_ns - l->start_ns;

	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		uint64_t *lat = realloc(s->latencies, cap * sizeof(*lat));

		if (!lat)
			return;
		s->latencies = lat;
		s->cap = cap;
	}
	s->latencies[s->count++] = latency;
	s->total_ns += latency;
	s->errors += !ok;
	s->max_ns = MAX(s->max_ns, latency);
	if (l->blocked_ns != BLOCKED_UNKNOWN)
		s->blocked_ns += l->blocked_ns;
}

static void summarize(struct dns_report *r, const struct dns_lookup *l)
{
	struct name_row name_key = {};
	struct process_row proc_key = {};
	struct name_row *nr;
	struct process_row *pr;
	char res[32];
	bool ok;

	lookup_result(l, res, sizeof(res), &ok);
	snprintf(name_key.name, sizeof(name_key.name), "%s", l->name[0] ? l->name : "-");
	proc_key.pid = l->pid;
	memcpy(proc_key.comm, l->comm, sizeof(proc_key.comm));
	nr = rows_get(&r->by_name, &name_key);
	pr = rows_get(&r->by_process, &proc_key);
	if (nr)
		stats_add(&nr->s, l, ok);
	if (pr)
		stats_add(&pr->s, l, ok);
}

void report_lookup(void *report, const struct dns_lookup *l)
{
	struct dns_report *r = report;
	struct lookup_stack st;

	if (l->end_ns - l->start_ns < r->opts.min_ns)
		return;
	r->lookups++;
	resolve_stack(r, l, &st);
	if (r->out) {
		print_line(r, l, &st);
		fflush(r->out);
	}
	if (r->json) {
		print_json(r, l, &st);
		fflush(r->json);
	}
	summarize(r, l);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* by nearest rank, as everywhere in stallkit */
static uint64_t p50(struct lookup_stats *s)
{
	if (!s->count)
		return 0;
	qsort(s->latencies, s->count, sizeof(*s->latencies), compare_u64);
	return s->latencies[(s->count + 1) / 2 - 1];
}

/* name_row and process_row both hold their stats at an offset (the context): the rows with
 * the most time in lookups first */
static int total_descending(const void *a, const void *b, void *stats_offset)
{
	size_t offset = *(const size_t *)stats_offset;
	uint64_t x = ((const struct lookup_stats *)(*(char *const *)a + offset))->total_ns;
	uint64_t y = ((const struct lookup_stats *)(*(char *const *)b + offset))->total_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void rows_sort(struct rows *rows, size_t offset)
{
	if (rows->n)
		qsort_r(rows->at, rows->n, sizeof(*rows->at), total_descending, &offset);
}

static void stats_text(FILE *out, struct lookup_stats *s)
{
	char d[3][16];

	fprintf(out, " %6llu %6llu %9s %9s %9s\n", (unsigned long long)s->count,
		(unsigned long long)s->errors, format_duration(d[0], sizeof(d[0]), p50(s)),
		format_duration(d[1], sizeof(d[1]), s->max_ns),
		format_duration(d[2], sizeof(d[2]), s->blocked_ns));
}

static void stats_json(struct json *j, struct lookup_stats *s)
{
	json_u64(j, "count", s->count);
	json_u64(j, "errors", s->errors);
	json_u64(j, "p50_ns", p50(s));
	json_u64(j, "max_ns", s->max_ns);
	json_u64(j, "blocked_ns", s->blocked_ns);
}

static void summary_text(struct dns_report *r, const struct dns_session_facts *f)
{
	char d[16];

	fprintf(r->out, "\n%llu lookup%s in %s", (unsigned long long)r->lookups,
		r->lookups == 1 ? "" : "s", format_duration(d, sizeof(d), f->duration_ns));
	if (r->opts.min_ns)
		fprintf(r->out, " (of at least %s)", format_duration(d, sizeof(d), r->opts.min_ns));
	fprintf(r->out, "%s%s\n", f->end_reason ? "; " : "", f->end_reason ? f->end_reason : "");
	if (r->by_name.n) {
		fprintf(r->out, "\n%-40s %6s %6s %9s %9s %9s\n", "NAME", "COUNT", "ERRORS", "P50",
			"MAX", "BLOCKED");
		for (size_t i = 0; i < r->by_name.n; i++) {
			struct name_row *row = r->by_name.at[i];

			fprintf(r->out, "%-40s", row->name);
			stats_text(r->out, &row->s);
		}
		fprintf(r->out, "\n%-7s %-32s %6s %6s %9s %9s %9s\n", "PID", "COMM", "COUNT",
			"ERRORS", "P50", "MAX", "BLOCKED");
		for (size_t i = 0; i < r->by_process.n; i++) {
			struct process_row *row = r->by_process.at[i];

			fprintf(r->out, "%-7u %-32s", row->pid, row->comm);
			stats_text(r->out, &row->s);
		}
	}
	if (f->in_progress)
		fprintf(r->out, "\nstill in progress at the end (not reported): %zu lookup%s\n",
			f->in_progress, f->in_progress == 1 ? "" : "s");
	if (f->late_responses)
		fprintf(r->out, "responses after their query timed out or its call returned: %llu\n",
			(unsigned long long)f->late_responses);
	if (f->abandoned_calls)
		fprintf(r->out, "calls left without returning (longjmp, or the thread died): %llu\n",
			(unsigned long long)f->abandoned_calls);
	if (f->unreadable)
		fprintf(r->out, "queries whose question could not be read: %llu\n",
			(unsigned long long)f->unreadable);
	stack_stops_print(r->out, &r->stops);
	losses_print(r->out, &f->losses);
	session_footer(r->out, f->session);
}

static void summary_json(struct dns_report *r, const struct dns_session_facts *f)
{
	struct json *j = &r->j;

	json_object_begin(j, NULL);
	json_str(j, "type", "summary");
	json_u64(j, "duration_ns", f->duration_ns);
	json_str(j, "end_reason", f->end_reason);
	json_u64(j, "lookups", r->lookups);
	json_u64(j, "min_ns", r->opts.min_ns);
	json_array_begin(j, "names");
	for (size_t i = 0; i < r->by_name.n; i++) {
		struct name_row *row = r->by_name.at[i];

		json_object_begin(j, NULL);
		json_str(j, "name", row->name);
		stats_json(j, &row->s);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "processes");
	for (size_t i = 0; i < r->by_process.n; i++) {
		struct process_row *row = r->by_process.at[i];

		json_object_begin(j, NULL);
		json_u64(j, "pid", row->pid);
		json_str(j, "comm", row->comm);
		stats_json(j, &row->s);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "in_progress", f->in_progress);
	json_u64(j, "late_responses", f->late_responses);
	json_u64(j, "abandoned_calls", f->abandoned_calls);
	json_u64(j, "unreadable_queries", f->unreadable);
	if (r->opts.stacks)
		stack_stops_json(j, &r->stops);
	losses_json(j, &f->losses);
	cost_json(j, &f->session->cost);
	json_object_end(j);
	json_line_end(j);
}

void report_summary(struct dns_report *r, const struct dns_session_facts *f)
{
	rows_sort(&r->by_name, offsetof(struct name_row, s));
	rows_sort(&r->by_process, offsetof(struct process_row, s));
	if (r->out) {
		summary_text(r, f);
		fflush(r->out);
	}
	if (r->json) {
		summary_json(r, f);
		fflush(r->json);
	}
}

static void stats_free(void *row_stats)
{
	free(((struct lookup_stats *)row_stats)->latencies);
}

static void name_row_free(void *row)
{
	stats_free(&((struct name_row *)row)->s);
}

static void process_row_free(void *row)
{
	stats_free(&((struct process_row *)row)->s);
}

void report_free(struct dns_report *r)
{
	rows_free(&r->by_name, name_row_free);
	rows_free(&r->by_process, process_row_free);
	stack_stops_clear(&r->stops);
}
