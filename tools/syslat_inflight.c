// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfs.h"
#include "session.h"
#include "syslat_inflight.h"

struct scan {
	struct syslat_bpf *skel;
	const struct target_opts *targets;
	uint64_t tracing_start_ns;
	uint64_t now_ns;
	struct syslat_inflight_list *out;
	size_t cap;
};

static bool selected(const struct syslat_config *cfg, long nr)
{
	if (nr < 0 || nr >= SYSLAT_MAX_NR)
		return false;
	return cfg->selected[nr / 64] & (1ULL << (nr % 64));
}

/* The start time syslat noted for the thread (CLOCK_MONOTONIC): 0 if none */
static uint64_t noted_start(struct syslat_bpf *skel, pid_t tid, long nr)
{
	uint32_t key = tid;
	uint64_t packed = 0;

	if (bpf_map__lookup_elem(skel->maps.starts, &key, sizeof(key), &packed, sizeof(packed), 0) ||
	    !packed || (long)(packed & SYSLAT_START_NR_MASK) != nr)
		return 0;
	return skel->rodata->syslat_cfg.time_base_ns + (packed >> SYSLAT_START_NR_BITS);
}

static int visit(pid_t pid, pid_t tid, void *ctx)
{
	struct scan *s = ctx;
	const struct syslat_config *cfg = &s->skel->rodata->syslat_cfg;
	bool targeted = s->targets->pids.len || s->targets->tids.len;
	struct syslat_inflight item = { .pid = pid, .tid = tid };
	uint64_t start;
	long nr;

	if (pid == getpid())
		return 0;
	if (s->targets->tids.len && !id_list_contains(&s->targets->tids, tid))
		return 0;
	if (proc_thread_syscall(tid, &nr, item.wchan, sizeof(item.wchan), &item.state) ||
	    !selected(cfg, nr))
		return 0;
	proc_comm(tid, item.comm, sizeof(item.comm));
	if (s->targets->comm && strcmp(item.comm, s->targets->comm))
		return 0;
	item.nr = nr;
	start = noted_start(s->skel, tid, nr);
	if (start) {
		item.duration_ns = s->now_ns - start;
	} else if (targeted) {
		item.before_tracing = true;
		item.duration_ns = s->now_ns - s->tracing_start_ns;
	} else {
		s->out->hidden_before_tracing++;
		return 0;
	}
	if (s->out->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct syslat_inflight *grown = realloc(s->out->items, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->out->items = grown;
		s->cap = cap;
	}
	s->out->items[s->out->len++] = item;
	return 0;
}

static int longest_first(const void *a, const void *b)
{
	uint64_t x = ((const struct syslat_inflight *)a)->duration_ns;
	uint64_t y = ((const struct syslat_inflight *)b)->duration_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

int inflight_scan(struct syslat_bpf *skel, const struct target_opts *targets,
		  uint64_t tracing_start_ns, struct syslat_inflight_list *out)
{
	struct scan s = {
		.skel = skel,
		.targets = targets,
		.tracing_start_ns = tracing_start_ns,
		.now_ns = monotonic_ns(),
		.out = out,
	};
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (targets->pids.len) {
		for (size_t i = 0; i < targets->pids.len && !err; i++)
			err = proc_for_each_thread(targets->pids.ids[i], visit, &s);
	} else if (targets->tids.len) {
		for (size_t i = 0; i < targets->tids.len && !err; i++) {
			pid_t tgid;

			if (proc_id_kind(targets->tids.ids[i], &tgid) != PROC_ID_NONE)
				err = visit(tgid, targets->tids.ids[i], &s);
		}
	} else {
		err = proc_for_each_thread(0, visit, &s);
	}
	if (out->len)
		qsort(out->items, out->len, sizeof(*out->items), longest_first);
	return err;
}

void inflight_free(struct syslat_inflight_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}
