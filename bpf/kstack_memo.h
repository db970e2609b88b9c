/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel stack memo's configuration (bpf/kstack_memo.bpf.h), set by userspace. */
#ifndef STALLKIT_KSTACK_MEMO_H
#define STALLKIT_KSTACK_MEMO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MEMO_ENTRIES 4 /* syscall entry functions whose callees move with the stack's shift */

/* Where the syscall entry functions are, from kallsyms */
struct memo_config {
	__u64 entry_start[MEMO_ENTRIES];
	__u64 entry_end[MEMO_ENTRIES];
};

#endif
