// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "frames.h"
#include "inet.h"
#include "kernel_btf.h"
#include "session.h"
#include "stacks.h"
#include "table.h"
#include "tcpretrans_report.h"
#include "units.h"
#include "util.h"

#define MAX_SYM_FRAMES 256 /* a kernel stack's frames, with inlined calls */
#define ENDPOINT_LEN   (INET6_ADDRSTRLEN + 8)

struct flow_row {
	struct tcpr_flow key;
	pid_t pid;
	char comm[TCPR_COMM_LEN];
	uint8_t state;
	struct tcpr_counts c;
};

struct host_key {
	uint16_t family;
	uint8_t addr[16];
};

struct host_row {
	struct host_key key;
	uint64_t flows;
	struct tcpr_counts c;
};

struct reason_key {
	uint32_t reason;
	uint32_t pad;
	uint64_t stack;
};

struct reason_row {
	struct reason_key key;
	uint64_t drops;
};

static const char *const kind_names[TCPR_KINDS] = {
	[TCPR_KIND_SYN] = "SYN", [TCPR_KIND_SYNACK] = "SYNACK", [TCPR_KIND_TLP] = "TLP",
	[TCPR_KIND_RTO] = "RTO", [TCPR_KIND_FAST] = "FAST",
};

/* the order of the count columns */
static const enum tcpr_kind kind_order[TCPR_KINDS] = {
	TCPR_KIND_RTO, TCPR_KIND_FAST, TCPR_KIND_TLP, TCPR_KIND_SYN, TCPR_KIND_SYNACK,
};

const char *tcpr_kind_name(unsigned int kind)
{
	return kind < TCPR_KINDS ? kind_names[kind] : "?";
}

/* The kernel's own name for a drop reason, without its SKB_DROP_REASON_ prefix */
static const char *reason_name(uint32_t reason, char *buf, size_t len)
{
	static const char prefix[] = "SKB_DROP_REASON_";
	const char *name = kernel_enum_name("skb_drop_reason", reason);

	if (!name) {
		/* subsystems (mac80211, openvswitch) number theirs from bit 16 up */
		snprintf(buf, len, "reason 0x%" PRIx32, reason);
		return buf;
	}
	if (!strncmp(name, prefix, sizeof(prefix) - 1))
		return name + sizeof(prefix) - 1;
	return name;
}

static void tally_init(struct tcpr_tally *t)
{
	rows_init(&t->flows, sizeof(struct tcpr_flow), sizeof(struct flow_row));
	rows_init(&t->hosts, sizeof(struct host_key), sizeof(struct host_row));
	rows_init(&t->reasons, sizeof(struct reason_key), sizeof(struct reason_row));
	memset(&t->total, 0, sizeof(t->total));
}

static void tally_free(struct tcpr_tally *t)
{
	rows_free(&t->flows, NULL);
	rows_free(&t->hosts, NULL);
	rows_free(&t->reasons, NULL);
}

static void counts_add(struct tcpr_counts *c, const struct tcpr_event *e)
{
	if (e->type == TCPR_EVENT_DROP) {
		c->drops++;
	} else if (e->err) {
		c->failed++;
	} else {
		c->retransmits++;
		c->segments += e->segs;
		c->kinds[e->kind < TCPR_KINDS ? e->kind : TCPR_KIND_FAST]++;
	}
}

static void tally_add(struct tcpr_tally *t, const struct tcpr_event *e)
{
	struct host_key hk = { .family = e->flow.family };
	size_t known_flows = t->flows.n;
	struct flow_row *f = rows_get(&t->flows, &e->flow);
	bool new_flow = t->flows.n > known_flows;
	struct host_row *h;

	counts_add(&t->total, e);
	memcpy(hk.addr, e->flow.remote_addr, sizeof(hk.addr));
	h = rows_get(&t->hosts, &hk);
	if (f) {
		if (e->pid || !f->pid) {
			f->pid = e->pid;
			memcpy(f->comm, e->comm, sizeof(f->comm));
		}
		if (e->state)
			f->state = e->state;
		counts_add(&f->c, e);
	}
	if (h) {
		h->flows += new_flow;
		counts_add(&h->c, e);
	}
	if (e->type == TCPR_EVENT_DROP) {
		struct reason_key rk = { .reason = e->reason, .stack = e->stack };
		struct reason_row *r = rows_get(&t->reasons, &rk);

		if (r)
			r->drops++;
	}
}

static void header_print(struct tcpr_report *r)
{
	fprintf(r->out, "%-12s %-7s %-15s %-2s %-22s %-2s %-22s %-11s %-6s %8s %8s %5s %7s%s\n",
		"TIME", "PID", "COMM", "IP", "LADDR:LPORT", "T>", "RADDR:RPORT", "STATE", "KIND",
		"SRTT", "RTO", "CWND", "RETRANS", r->opts.sequence ? "        SEQ" : "");
}

void tcpr_report_init(struct tcpr_report *r, const struct report_streams *streams,
		      const struct tcpr_report_opts *opts, struct symbolizer *sym, int stacks_fd)
{
	memset(r, 0, sizeof(*r));
	r->out = streams->text;
	r->json = streams->json;
	r->opts = *opts;
	r->sym = sym;
	r->stacks_fd = stacks_fd;
	json_init(&r->j, r->json);
	tally_init(&r->interval);
	tally_init(&r->run);
	if (r->out && !opts->count)
		header_print(r);
}

void tcpr_report_free(struct tcpr_report *r)
{
	tally_free(&r->interval);
	tally_free(&r->run);
}

/* The kernel stack of a drop, symbolized; the frames live until the symbolizer's next call */
static size_t drop_stack(struct tcpr_report *r, uint64_t key, struct sym_frame *frames)
{
	struct stack_frames s;
	size_t n = 0;

	if (!key || !r->sym || bpf_map_lookup_elem(r->stacks_fd, &key, &s))
		return 0;
	while (n < STACK_MAX_DEPTH && s.ips[n])
		n++;
	return symbolizer_kernel_stack(r->sym, (const uint64_t *)s.ips, n, frames, MAX_SYM_FRAMES);
}

/* Where a softirq begins: the frames under it are whatever the CPU was interrupted in */
static bool softirq_entry(const struct sym_frame *f)
{
	return f->function &&
	       (!strcmp(f->function, "handle_softirqs") || !strcmp(f->function, "__do_softirq"));
}

/* The stack as text, down to the softirq that dropped the packet, if one did */
static void stack_print(struct tcpr_report *r, uint64_t key)
{
	static struct sym_frame frames[MAX_SYM_FRAMES];
	size_t n = drop_stack(r, key, frames);
	char line[512];

	if (!n && key)
		fprintf(r->out, "    [stack no longer stored]\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(r->out, "    %s\n", frame_format(&frames[i], line, sizeof(line)));
		if (softirq_entry(&frames[i]) && i + 1 < n) {
			fprintf(r->out, "    [%zu frames of the interrupted task]\n", n - i - 1);
			break;
		}
	}
}

static void stack_json(struct tcpr_report *r, uint64_t key)
{
	static struct sym_frame frames[MAX_SYM_FRAMES];
	size_t n = drop_stack(r, key, frames);

	json_array_begin(&r->j, "stack");
	for (size_t i = 0; i < n; i++)
		frame_json(&r->j, &frames[i]);
	json_array_end(&r->j);
}

/* "R>" a retransmission, "L>" a tail-loss probe (BCC's letters); "D<" a packet from the
 * remote side dropped, "D>" one to it */
static const char *event_arrow(const struct tcpr_event *e)
{
	if (e->type == TCPR_EVENT_DROP)
		return e->incoming ? "D<" : "D>";
	return e->kind == TCPR_KIND_TLP ? "L>" : "R>";
}

static void event_print(struct tcpr_report *r, const struct tcpr_event *e)
{
	char when[16], pid[12], local[ENDPOINT_LEN], remote[ENDPOINT_LEN], srtt[16], rto[16];
	char reason[32];

	format_wall_time(when, sizeof(when), e->ts);
	snprintf(pid, sizeof(pid), e->pid ? "%u" : "-", e->pid);
	fprintf(r->out, "%-12s %-7s %-15.15s %-2s %-22s %-2s %-22s %-11s ", when, pid,
		e->pid ? e->comm : "-", e->flow.family == AF_INET6 ? "6" : "4",
		inet_endpoint_format(local, sizeof(local), e->flow.family, e->flow.local_addr,
				     e->flow.local_port),
		event_arrow(e),
		inet_endpoint_format(remote, sizeof(remote), e->flow.family, e->flow.remote_addr,
				     e->flow.remote_port),
		e->state ? tcp_state_name(e->state) : "-");
	if (e->type == TCPR_EVENT_DROP) {
		fprintf(r->out, "%-6s %s", "DROP", reason_name(e->reason, reason, sizeof(reason)));
		if (r->opts.sequence)
			fprintf(r->out, " seq=%" PRIu32, e->seq);
		fputc('\n', r->out);
		stack_print(r, e->stack);
		return;
	}
	fprintf(r->out, "%-6s %8s %8s %5" PRIu32 " %7" PRIu32, tcpr_kind_name(e->kind),
		e->srtt_us ? format_duration(srtt, sizeof(srtt), e->srtt_us * NSEC_PER_USEC) : "-",
		e->rto_us ? format_duration(rto, sizeof(rto), e->rto_us * NSEC_PER_USEC) : "-",
		e->cwnd, e->total_retrans);
	if (r->opts.sequence)
		fprintf(r->out, " %10" PRIu32, e->seq);
	if (e->err)
		fprintf(r->out, " (not sent: %s)", strerror(-e->err));
	fputc('\n', r->out);
}

static void flow_json(struct json *j, const struct tcpr_flow *f)
{
	char a[INET6_ADDRSTRLEN];

	json_u64(j, "ip", f->family == AF_INET6 ? 6 : 4);
	json_str(j, "laddr", inet_address_format(a, sizeof(a), f->family, f->local_addr));
	json_u64(j, "lport", f->local_port);
	json_str(j, "raddr", inet_address_format(a, sizeof(a), f->family, f->remote_addr));
	json_u64(j, "rport", f->remote_port);
}

static void owner_json(struct json *j, pid_t pid, const char *comm)
{
	if (pid) {
		json_u64(j, "pid", pid);
		json_str(j, "comm", comm);
	} else {
		json_str(j, "pid", NULL);
		json_str(j, "comm", NULL);
	}
}

static void event_json(struct tcpr_report *r, const struct tcpr_event *e)
{
	struct json *j = &r->j;
	char when[16], reason[32];

	format_wall_time(when, sizeof(when), e->ts);
	json_object_begin(j, NULL);
	json_str(j, "type", e->type == TCPR_EVENT_DROP ? "drop" : "retransmit");
	json_str(j, "time", when);
	json_u64(j, "ts_ns", e->ts);
	owner_json(j, e->pid, e->comm);
	flow_json(j, &e->flow);
	json_str(j, "state", e->state ? tcp_state_name(e->state) : NULL);
	json_u64(j, "seq", e->seq);
	if (e->type == TCPR_EVENT_DROP) {
		json_str(j, "direction", e->incoming ? "in" : "out");
		json_str(j, "reason", reason_name(e->reason, reason, sizeof(reason)));
		json_u64(j, "reason_code", e->reason);
		stack_json(r, e->stack);
	} else {
		json_str(j, "kind", tcpr_kind_name(e->kind));
		json_u64(j, "segs", e->segs);
		json_i64(j, "err", e->err);
		json_u64(j, "srtt_us", e->srtt_us);
		json_u64(j, "rto_us", e->rto_us);
		json_u64(j, "cwnd", e->cwnd);
		json_u64(j, "total_retrans", e->total_retrans);
	}
	json_object_end(j);
	json_line_end(j);
}

void tcpr_report_event(struct tcpr_report *r, const struct tcpr_event *e)
{
	tally_add(&r->interval, e);
	tally_add(&r->run, e);
	if (r->opts.count)
		return;
	if (r->out) {
		event_print(r, e);
		fflush(r->out);
	}
	if (r->json) {
		event_json(r, e);
		fflush(r->json);
	}
}

/*
 * Counts
 */

static uint64_t counts_weight(const struct tcpr_counts *c)
{
	return c->retransmits + c->failed + c->drops;
}

static uint64_t flow_weight(const void *row)
{
	return counts_weight(&((const struct flow_row *)row)->c);
}

static uint64_t host_weight(const void *row)
{
	return counts_weight(&((const struct host_row *)row)->c);
}

static uint64_t reason_weight(const void *row)
{
	return ((const struct reason_row *)row)->drops;
}

static int heaviest_first(const void *a, const void *b, void *weight_fn)
{
	uint64_t (*weight)(const void *row) = weight_fn;
	uint64_t x = weight(*(void *const *)a), y = weight(*(void *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The rows of a table in a copy, heaviest first */
static void **rows_sorted(const struct rows *rows, uint64_t (*weight)(const void *row))
{
	void **sorted = malloc((rows->n + 1) * sizeof(*sorted));

	if (sorted && rows->n) {
		memcpy(sorted, rows->at, rows->n * sizeof(*sorted));
		qsort_r(sorted, rows->n, sizeof(*sorted), heaviest_first, (void *)weight);
	}
	return sorted;
}

static void counts_cells(struct table *t, const struct tcpr_counts *c, bool drops)
{
	table_cell(t, "%" PRIu64, c->retransmits);
	for (size_t k = 0; k < TCPR_KINDS; k++)
		table_cell(t, "%" PRIu64, c->kinds[kind_order[k]]);
	if (drops)
		table_cell(t, "%" PRIu64, c->drops);
}

static void counts_json(struct json *j, const struct tcpr_counts *c)
{
	json_u64(j, "retransmits", c->retransmits);
	json_u64(j, "segments", c->segments);
	json_object_begin(j, "kinds");
	for (size_t k = 0; k < TCPR_KINDS; k++)
		json_u64(j, kind_names[kind_order[k]], c->kinds[kind_order[k]]);
	json_object_end(j);
	json_u64(j, "failed", c->failed);
	json_u64(j, "drops", c->drops);
}

static char *table_spec(char *buf, size_t len, const char *first, bool drops)
{
	snprintf(buf, len, "%s RETRANS RTO FAST TLP SYN SYNACK%s", first, drops ? " DROPS" : "");
	return buf;
}

static void flows_print(struct tcpr_report *r, const struct tcpr_tally *t)
{
	struct flow_row **rows = (struct flow_row **)rows_sorted(&t->flows, flow_weight);
	char spec[160], local[ENDPOINT_LEN], remote[ENDPOINT_LEN];
	struct table tab;

	if (!rows)
		return;
	table_init(&tab, table_spec(spec, sizeof(spec),
				    "<LADDR:LPORT <RADDR:RPORT <STATE PID <COMM", r->opts.drops));
	for (size_t i = 0; i < t->flows.n; i++) {
		const struct flow_row *f = rows[i];

		table_cell(&tab, "%s",
			   inet_endpoint_format(local, sizeof(local), f->key.family,
						f->key.local_addr, f->key.local_port));
		table_cell(&tab, "%s",
			   inet_endpoint_format(remote, sizeof(remote), f->key.family,
						f->key.remote_addr, f->key.remote_port));
		table_cell(&tab, "%s", f->state ? tcp_state_name(f->state) : "-");
		table_cell(&tab, f->pid ? "%d" : "-", f->pid);
		table_cell(&tab, "%s", f->pid ? f->comm : "-");
		counts_cells(&tab, &f->c, r->opts.drops);
	}
	table_print(&tab, r->out);
	table_free(&tab);
	free(rows);
}

static void hosts_print(struct tcpr_report *r, const struct tcpr_tally *t)
{
	struct host_row **rows = (struct host_row **)rows_sorted(&t->hosts, host_weight);
	char spec[160], addr[INET6_ADDRSTRLEN];
	struct table tab;

	if (!rows)
		return;
	table_init(&tab, table_spec(spec, sizeof(spec), "<REMOTE_HOST FLOWS", r->opts.drops));
	for (size_t i = 0; i < t->hosts.n; i++) {
		const struct host_row *h = rows[i];

		table_cell(&tab, "%s",
			   inet_address_format(addr, sizeof(addr), h->key.family, h->key.addr));
		table_cell(&tab, "%" PRIu64, h->flows);
		counts_cells(&tab, &h->c, r->opts.drops);
	}
	table_print(&tab, r->out);
	table_free(&tab);
	free(rows);
}

/* Per reason, its drops and the stack of most of them (the rows come heaviest first) */
static void reasons_print(struct tcpr_report *r, const struct tcpr_tally *t)
{
	struct reason_row **rows = (struct reason_row **)rows_sorted(&t->reasons, reason_weight);
	char reason[32];
	bool first = true;

	if (!rows)
		return;
	for (size_t i = 0; i < t->reasons.n; i++) {
		uint64_t drops = 0, stacks = 0;
		bool shown = false;

		for (size_t k = 0; k < i && !shown; k++)
			shown = rows[k]->key.reason == rows[i]->key.reason;
		if (shown)
			continue;
		for (size_t k = i; k < t->reasons.n; k++) {
			if (rows[k]->key.reason == rows[i]->key.reason) {
				drops += rows[k]->drops;
				stacks++;
			}
		}
		fprintf(r->out, "%s%s: %" PRIu64 " drop%s", first ? "" : "\n",
			reason_name(rows[i]->key.reason, reason, sizeof(reason)), drops,
			drops == 1 ? "" : "s");
		if (stacks > 1)
			fprintf(r->out,
				"; %" PRIu64 " of them here (%" PRIu64 " kernel stacks in all)",
				rows[i]->drops, stacks);
		fputs(":\n", r->out);
		stack_print(r, rows[i]->key.stack);
		first = false;
	}
	free(rows);
}

static void tables_json(struct tcpr_report *r, const struct tcpr_tally *t)
{
	struct json *j = &r->j;
	char addr[INET6_ADDRSTRLEN], reason[32];

	json_array_begin(j, "flows");
	for (size_t i = 0; i < t->flows.n; i++) {
		const struct flow_row *f = t->flows.at[i];

		json_object_begin(j, NULL);
		flow_json(j, &f->key);
		json_str(j, "state", f->state ? tcp_state_name(f->state) : NULL);
		owner_json(j, f->pid, f->comm);
		counts_json(j, &f->c);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "remote_hosts");
	for (size_t i = 0; i < t->hosts.n; i++) {
		const struct host_row *h = t->hosts.at[i];

		json_object_begin(j, NULL);
		json_str(j, "raddr",
			    inet_address_format(addr, sizeof(addr), h->key.family, h->key.addr));
		json_u64(j, "flows", h->flows);
		counts_json(j, &h->c);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "drop_reasons");
	for (size_t i = 0; i < t->reasons.n; i++) {
		const struct reason_row *d = t->reasons.at[i];

		json_object_begin(j, NULL);
		json_str(j, "reason", reason_name(d->key.reason, reason, sizeof(reason)));
		json_u64(j, "reason_code", d->key.reason);
		json_u64(j, "drops", d->drops);
		stack_json(r, d->key.stack);
		json_object_end(j);
	}
	json_array_end(j);
}

static void counts_print_json(struct tcpr_report *r, const struct tcpr_tally *t,
			      uint64_t period_ns, const char *when)
{
	json_object_begin(&r->j, NULL);
	json_str(&r->j, "type", "counts");
	json_str(&r->j, "time", when);
	json_u64(&r->j, "period_ns", period_ns);
	counts_json(&r->j, &t->total);
	tables_json(r, t);
	json_object_end(&r->j);
	json_line_end(&r->j);
}

static void counts_print_text(struct tcpr_report *r, const struct tcpr_tally *t,
			      uint64_t period_ns, const char *when)
{
	char d[16];

	fprintf(r->out, "%s: %s\n", when, format_duration(d, sizeof(d), period_ns));
	if (!t->flows.n) {
		fprintf(r->out, "no retransmissions%s\n", r->opts.drops ? " or drops" : "");
		return;
	}
	flows_print(r, t);
	fputc('\n', r->out);
	hosts_print(r, t);
	if (t->reasons.n) {
		fprintf(r->out, "\nDrops by reason, with the kernel stack of most:\n");
		reasons_print(r, t);
	}
}

/* The counts in every form wanted; text: with a blank line after them */
static void counts_print(struct tcpr_report *r, const struct tcpr_tally *t, uint64_t period_ns,
			 bool json)
{
	char when[16];

	format_wall_time(when, sizeof(when), monotonic_ns());
	if (r->out) {
		counts_print_text(r, t, period_ns, when);
		fputc('\n', r->out);
		fflush(r->out);
	}
	if (r->json && json) {
		counts_print_json(r, t, period_ns, when);
		fflush(r->json);
	}
}

void tcpr_report_interval(struct tcpr_report *r, uint64_t interval_ns)
{
	counts_print(r, &r->interval, interval_ns, true);
	tally_free(&r->interval);
	tally_init(&r->interval);
}

static void totals_print(FILE *out, const struct tcpr_counts *c, bool drops)
{
	fprintf(out, "%" PRIu64 " retransmission%s (%" PRIu64 " segments):", c->retransmits,
		c->retransmits == 1 ? "" : "s", c->segments);
	for (size_t k = 0; k < TCPR_KINDS; k++)
		fprintf(out, "%s %s %" PRIu64, k ? "," : "", kind_names[kind_order[k]],
			c->kinds[kind_order[k]]);
	if (c->failed)
		fprintf(out, "; %" PRIu64 " could not be sent", c->failed);
	if (drops)
		fprintf(out, "; %" PRIu64 " drop%s", c->drops, c->drops == 1 ? "" : "s");
	fputc('\n', out);
}

void tcpr_report_summary(struct tcpr_report *r, const struct tcpr_facts *facts)
{
	char d[16];

	/* with -i the last interval's counts; without, the whole run's, once (in JSON, the
	 * summary has them) */
	if (r->opts.count)
		counts_print(r, facts->intervals ? &r->interval : &r->run,
			     facts->intervals ? facts->interval_ns : facts->duration_ns,
			     facts->intervals);
	if (r->json) {
		struct json *j = &r->j;

		json_object_begin(j, NULL);
		json_str(j, "type", "summary");
		json_u64(j, "duration_ns", facts->duration_ns);
		json_str(j, "end_reason", facts->end_reason);
		counts_json(j, &r->run.total);
		json_u64(j, "owner_unknown", facts->owner_unknown);
		json_u64(j, "not_attributed", facts->unattributed);
		tables_json(r, &r->run);
		losses_json(j, &facts->losses);
		cost_json(j, &facts->session->cost);
		json_object_end(j);
		json_line_end(j);
		fflush(r->json);
	}
	if (r->out) {
		fprintf(r->out, "Traced for %s (%s). ",
			format_duration(d, sizeof(d), facts->duration_ns), facts->end_reason);
		totals_print(r->out, &r->run.total, r->opts.drops);
		if (facts->owner_unknown)
			fprintf(r->out,
				"%" PRIu64 " events of sockets whose owner is not known "
				"(PID -)\n",
				facts->owner_unknown);
		if (facts->unattributed)
			fprintf(r->out,
				"%" PRIu64 " events not shown: their owner is not known, "
				"so it cannot be matched to the filter\n",
				facts->unattributed);
		losses_print(r->out, &facts->losses);
		session_footer(r->out, facts->session);
		fflush(r->out);
	}
}
