// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "dnsblock_track.h"
#include "dnsblock_wire.h"
#include "frames.h"
#include "util.h"


void tracker_init(struct dns_tracker *t, uint64_t timeout_ns, struct symbolizer *sym,
		  lookup_done_fn done, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->timeout_ns = timeout_ns;
	t->sym = sym;
	t->done = done;
	t->ctx = ctx;
}

static void lookup_free(struct dns_lookup *l)
{
	free(l->queries);
	free(l->stack);
	free(l);
}

static void lookup_remove(struct dns_tracker *t, size_t i)
{
	lookup_free(t->open[i]);
	t->open[i] = t->open[--t->nopen];
}

static void lookup_complete(struct dns_tracker *t, size_t i)
{
	t->done(t->ctx, t->open[i]);
	lookup_remove(t, i);
}

static struct dns_lookup *lookup_new(struct dns_tracker *t, const struct dns_thread_ref *ref)
{
	struct dns_lookup *l;

	if (t->nopen == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct dns_lookup **open = realloc(t->open, cap * sizeof(*open));

		if (!open)
			return NULL;
		t->open = open;
		t->cap = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->pid = ref->pid;
	l->tid = ref->tid;
	memcpy(l->comm, ref->comm, sizeof(l->comm));
	l->call_seq = ref->call_seq;
	l->api = DNS_API_WIRE;
	l->start_ns = ref->ts;
	l->start_offcpu_ns = ref->offcpu_ns;
	l->blocked_ns = BLOCKED_UNKNOWN;
	t->open[t->nopen++] = l;
	return l;
}

/* The open lookup of a thread's resolver call, created if new.  An older call of the same
 * thread still open never returned (its thread left it by longjmp, or died in it). */
static struct dns_lookup *call_lookup(struct dns_tracker *t, const struct dns_thread_ref *ref)
{
	for (size_t i = 0; i < t->nopen;) {
		struct dns_lookup *l = t->open[i];

		if (l->call_seq && l->tid == ref->tid && l->call_seq == ref->call_seq)
			return l;
		if (l->call_seq && l->tid == ref->tid && l->call_seq < ref->call_seq) {
			t->abandoned_calls++;
			lookup_remove(t, i);
			continue;
		}
		i++;
	}
	return lookup_new(t, ref);
}

/* An open wire lookup of the process for the name, waiting for a response */
static struct dns_lookup *wire_lookup(struct dns_tracker *t, const struct dns_thread_ref *ref,
				      const char *name)
{
	for (size_t i = 0; i < t->nopen; i++) {
		struct dns_lookup *l = t->open[i];

		if (!l->call_seq && l->pid == ref->pid && l->waiting && !strcmp(l->name, name))
			return l;
	}
	return lookup_new(t, ref);
}

static struct dns_query *query_add(struct dns_lookup *l)
{
	if (l->nqueries == l->queries_cap) {
		size_t cap = l->queries_cap ? 2 * l->queries_cap : 4;
		struct dns_query *q = realloc(l->queries, cap * sizeof(*q));

		if (!q)
			return NULL;
		l->queries = q;
		l->queries_cap = cap;
	}
	l->waiting++;
	return memset(&l->queries[l->nqueries++], 0, sizeof(struct dns_query));
}

/* The query waiting for the response with this socket and ID: *at gets its lookup's index */
static struct dns_query *query_waiting(struct dns_tracker *t, uint64_t cookie, uint16_t id,
				       size_t *at)
{
	for (size_t i = 0; i < t->nopen; i++) {
		struct dns_lookup *l = t->open[i];

		for (size_t k = 0; l->waiting && k < l->nqueries; k++) {
			struct dns_query *q = &l->queries[k];

			if (q->sock_cookie == cookie && !q->answered_ns && q->id == id) {
				*at = i;
				return q;
			}
		}
	}
	return NULL;
}

/* A query that got no response, for good: it no longer matches one */
static void query_give_up(struct dns_lookup *l, struct dns_query *q)
{
	if (!q->sock_cookie || q->answered_ns)
		return;
	q->sock_cookie = 0;
	l->waiting--;
}

static void on_query(struct dns_tracker *t, const struct dns_message_event *e, const char *name,
		     uint16_t qtype)
{
	struct dns_lookup *l;
	struct dns_query *q;
	size_t at;

	/* the same ID again on the same socket: a retry, the first try timed out */
	q = query_waiting(t, e->sock_cookie, e->id, &at);
	if (q)
		query_give_up(t->open[at], q);
	l = e->t.call_seq ? call_lookup(t, &e->t) : wire_lookup(t, &e->t, name);
	if (!l)
		return;
	if (!l->name[0] && !l->call_seq)
		snprintf(l->name, sizeof(l->name), "%s", name);
	q = query_add(l);
	if (!q)
		return;
	q->type = qtype;
	q->id = e->id;
	q->tcp = e->tcp;
	q->family = e->family;
	memcpy(q->server, e->server, sizeof(q->server));
	q->sock_cookie = e->sock_cookie;
	q->sent_ns = e->t.ts;
	q->rcode = DNS_NO_ANSWER;
}

static void on_response(struct dns_tracker *t, const struct dns_message_event *e)
{
	struct dns_lookup *l;
	struct dns_query *q;
	size_t at;

	q = query_waiting(t, e->sock_cookie, e->id, &at);
	if (!q) {
		t->late_responses++;
		return;
	}
	l = t->open[at];
	q->answered_ns = e->t.ts;
	q->rcode = e->flags & 0xf;
	q->answers = e->answers;
	l->waiting--;
	if (l->call_seq || l->waiting)
		return;
	/* a wire lookup whose queries all have their answer */
	l->end_ns = e->t.ts;
	if (e->t.tid == l->tid && e->t.offcpu_ns >= l->start_offcpu_ns)
		l->blocked_ns = e->t.offcpu_ns - l->start_offcpu_ns;
	lookup_complete(t, at);
}

static void on_message(struct dns_tracker *t, const struct dns_message_event *e)
{
	char name[DNS_NAME_LEN];
	uint16_t qtype;

	if (!e->response) {
		if (dns_question_decode(e->question, e->question_len, name, sizeof(name), &qtype)) {
			t->unreadable++;
			return;
		}
		on_query(t, e, name, qtype);
	} else {
		on_response(t, e);
	}
}

static void on_call(struct dns_tracker *t, const struct dns_call_event *e)
{
	struct dns_lookup *l = call_lookup(t, &e->t);

	if (!l)
		return;
	l->api = e->api;
	l->start_ns = e->start_ns;
	l->end_ns = e->t.ts;
	l->start_offcpu_ns = e->start_offcpu_ns;
	l->blocked_ns = e->t.offcpu_ns >= e->start_offcpu_ns ?
				e->t.offcpu_ns - e->start_offcpu_ns : BLOCKED_UNKNOWN;
	l->result_kind = e->result_kind;
	l->code = e->code;
	l->qtype = e->qtype;
	l->naddrs = e->naddrs;
	l->more_addrs = e->more_addrs;
	memcpy(l->addrs, e->addrs, sizeof(l->addrs));
	memcpy(l->name, e->name, sizeof(l->name));
	memcpy(l->answer, e->answer, sizeof(l->answer));
	l->name[sizeof(l->name) - 1] = l->answer[sizeof(l->answer) - 1] = '\0';
	/* getnameinfo looks up an address: that is its name */
	if (l->api == DNS_API_GETNAMEINFO && l->naddrs &&
	    !inet_ntop(l->addrs[0].family, l->addrs[0].addr, l->name, sizeof(l->name)))
		l->name[0] = '\0';
	/* what the call did not wait for any more, it gave up on */
	for (size_t k = 0; k < l->nqueries; k++)
		query_give_up(l, &l->queries[k]);
	for (size_t i = 0; i < t->nopen; i++)
		if (t->open[i] == l)
			lookup_complete(t, i);
}

/* copy: the stack top, when the process's tables were not ready; else NULL */
static void on_stack(struct dns_tracker *t, const struct dns_stack_event *e,
		     const struct unwind_copy *copy)
{
	struct dns_lookup *l;

	if (!t->sym)
		return;
	l = call_lookup(t, &e->t);
	if (!l || l->stack)
		return;
	l->stack = malloc(STACK_MAX_DEPTH * sizeof(*l->stack));
	if (!l->stack)
		return;
	/* now, while the process lives: its addresses resolve even if it exits */
	symbolizer_note_process_once(t->sym, e->t.pid);
	l->stack_frames = unwinder_finish(t->unw, e->t.pid, e->user_stack,
					  MIN(e->frames, STACK_MAX_DEPTH), copy, l->stack,
					  STACK_MAX_DEPTH);
}

int tracker_event(void *tracker, void *data, size_t size)
{
	const struct dns_thread_ref *ref = data;
	struct dns_tracker *t = tracker;

	if (size < sizeof(*ref))
		return 0;
	if (ref->kind == DNS_EVENT_CALL && size >= sizeof(struct dns_call_event))
		on_call(t, data);
	else if (ref->kind == DNS_EVENT_MESSAGE && size >= sizeof(struct dns_message_event))
		on_message(t, data);
	else if (ref->kind == DNS_EVENT_STACK && size >= offsetof(struct dns_stack_event, copy))
		on_stack(t, data, size >= sizeof(struct dns_stack_event) ?
					  &((const struct dns_stack_event *)data)->copy : NULL);
	return 0;
}

void tracker_expire(struct dns_tracker *t, uint64_t now_ns)
{
	for (size_t i = 0; i < t->nopen;) {
		struct dns_lookup *l = t->open[i];
		uint64_t last_deadline = 0;

		/* a call's queries are the call's business: it returns when it gives up */
		for (size_t k = 0; !l->call_seq && l->waiting && k < l->nqueries; k++) {
			struct dns_query *q = &l->queries[k];

			if (!q->sock_cookie || q->answered_ns || q->sent_ns + t->timeout_ns > now_ns)
				continue;
			query_give_up(l, q);
			last_deadline = MAX(last_deadline, q->sent_ns + t->timeout_ns);
		}
		if (!l->call_seq && !l->waiting && last_deadline) {
			l->end_ns = last_deadline;
			lookup_complete(t, i);
			continue;
		}
		i++;
	}
}

size_t tracker_wire_in_progress(const struct dns_tracker *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nopen; i++)
		n += !t->open[i]->call_seq;
	return n;
}

void tracker_free(struct dns_tracker *t)
{
	while (t->nopen)
		lookup_remove(t, 0);
	free(t->open);
	memset(t, 0, sizeof(*t));
}
