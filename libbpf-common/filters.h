/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Userspace half of the task filters (bpf/filter.bpf.h): from options to rodata and bitmap. */
#ifndef STALLKIT_FILTERS_H
#define STALLKIT_FILTERS_H

#include <bpf/libbpf.h>
#include "filter.h"
#include "options.h"

/*
 * Before load: checks the targets (a PID that does not exist, or is a thread, is an error),
 * resolves the cgroup, fills the rodata config and sizes the ID bitmap map.  Prints the reason
 * and returns -1 on failure.
 */
int filter_configure(struct filter_config *cfg, struct bpf_map *ids_map,
		     const struct target_opts *targets);
/* After load: sets the bits of the targeted IDs. */
int filter_populate(struct bpf_map *ids_map, const struct filter_config *cfg,
		    const struct target_opts *targets);
/* "pid 1234", "3 processes", "threads named nginx", "all processes", for the banner. */
void filter_describe(const struct target_opts *targets, char *buf, size_t len);

/* /proc/sys/kernel/pid_max: thread IDs are below it */
uint32_t pid_max(void);

/* Where cgroup2 is mounted (a unified or a hybrid hierarchy), from /proc/self/mountinfo:
 * 0, or -ENOENT if it is not mounted (-errno if mountinfo is unreadable). */
int cgroup2_mount(char *buf, size_t len);

/* The cgroup v2 ID and depth of a path (a directory under the cgroup2 mount, or a path
 * relative to its root such as /system.slice/x.service): 0 or -1 with the reason printed. */
int cgroup_resolve(const char *path, __u64 *id, __u32 *level);

#endif
