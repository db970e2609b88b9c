/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which tasks a tool looks at: set by userspace in rodata before load, applied first in BPF. */
#ifndef STALLKIT_FILTER_H
#define STALLKIT_FILTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FILTER_COMM_LEN 16

enum filter_ids_by {
	FILTER_IDS_NONE,
	FILTER_IDS_TGID, /* -p: process IDs */
	FILTER_IDS_TID,	 /* -t: thread IDs */
};

struct filter_config {
	__u32 ids_by;	    /* enum filter_ids_by: which ID the filter_ids bitmap holds */
	__u32 self_tgid;    /* the tool itself, never traced */
	__u64 cgroup_id;    /* cgroup v2 ID, 0: any */
	__u32 cgroup_level; /* its depth below the cgroup v2 root */
	__u32 comm_len;	    /* 0: any command name */
	char comm[FILTER_COMM_LEN];
};

#endif
