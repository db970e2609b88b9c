/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Task filters.  The configuration is rodata, so the verifier removes the checks a run does not
 * use; the ID set is a bitmap array (one bit per possible ID, sized to pid_max at load time), so
 * a lookup costs the same for one PID or thousands.
 */
#ifndef STALLKIT_FILTER_BPF_H
#define STALLKIT_FILTER_BPF_H

#include "filter.h"

const volatile struct filter_config filter_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized by userspace when an ID filter is used */
	__type(key, __u32);
	__type(value, __u64);
} filter_ids SEC(".maps");

static __always_inline bool filter_id_listed(__u32 id)
{
	__u32 word = id / 64;
	__u64 *bits = bpf_map_lookup_elem(&filter_ids, &word);

	return bits && (*bits & (1ULL << (id % 64)));
}

/* The cheap part of the filter: IDs only.  Enough to reject the tasks a run does not watch. */
static __always_inline bool filter_ids_pass(__u32 tgid, __u32 tid)
{
	if (tgid == filter_cfg.self_tgid)
		return false;
	if (filter_cfg.ids_by == FILTER_IDS_TGID)
		return filter_id_listed(tgid);
	if (filter_cfg.ids_by == FILTER_IDS_TID)
		return filter_id_listed(tid);
	return true;
}

static __always_inline bool filter_comm_equal(const char *comm)
{
	for (int i = 0; i < FILTER_COMM_LEN; i++) {
		if (comm[i] != filter_cfg.comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

/* The filter but the IDs (cgroup, command name), for the current task: for a caller that has
 * checked the IDs already */
static __always_inline bool filter_current_traits_pass(void)
{
	if (filter_cfg.cgroup_id &&
	    bpf_get_current_ancestor_cgroup_id(filter_cfg.cgroup_level) != filter_cfg.cgroup_id)
		return false;
	if (filter_cfg.comm_len) {
		char comm[FILTER_COMM_LEN];

		bpf_get_current_comm(comm, sizeof(comm));
		if (!filter_comm_equal(comm))
			return false;
	}
	return true;
}

/* The whole filter, for the current task. */
static __always_inline bool filter_current_pass(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	return filter_ids_pass(pid_tgid >> 32, (__u32)pid_tgid) && filter_current_traits_pass();
}

#endif
