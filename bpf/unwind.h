/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user-stack unwinder's tables, shared by userspace (libbpf-common/unwind_*.c), which builds
 * them from each binary's call frame information, and BPF (bpf/unwind.bpf.h), which walks a
 * thread's stack with them at the event.
 *
 * A binary's table is a sorted run of rows in one array: each row says, from its pc to the next
 * row's, how to find the canonical frame address (CFA) and where rbp was saved.  The return
 * address is at CFA - 8 (x86-64).  To find a row, a hash keyed by (table, 4 KiB page of the
 * binary's addresses) gives the few rows that cover the page, then a binary search.  Each
 * process has a sorted list of its executable mappings, each with its table.
 */
#ifndef STALLKIT_UNWIND_H
#define STALLKIT_UNWIND_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "runtime.h"

enum unwind_rule {
	UNWIND_NONE,	    /* no call frame information covers the address */
	UNWIND_CFA_SP,	    /* CFA = rsp + cfa_offset */
	UNWIND_CFA_BP,	    /* CFA = rbp + cfa_offset */
	UNWIND_CFA_PLT,	    /* PLT entries: CFA = rsp + 8, + 8 more if (ip & 15) >= cfa_offset */
	UNWIND_CFA_DEREF_BP, /* CFA = *(rbp + cfa_offset): stack realignment (gcc's main) */
	UNWIND_SIGNAL,	    /* __restore_rt: the interrupted registers are in the signal frame */
	UNWIND_ROOT,	    /* the return address is undefined: the thread's first frame */
	UNWIND_RA_IN_REG,   /* CFA = rsp + cfa_offset, the return address in register
			     * bp_offset (glibc's vfork): followed in the innermost frame only */
	UNWIND_UNSUPPORTED, /* a rule the unwinder does not follow */
};

#define UNWIND_BP_SAME	    0	   /* rbp is not saved in this frame */
#define UNWIND_BP_UNDEFINED (-128) /* rbp cannot be recovered */

/* 8 bytes: the tables of every binary on a host fit in a few MiB */
struct unwind_row {
	__u32 pc;	  /* the binary's virtual address, from which the row holds */
	__s16 cfa_offset; /* a larger one is UNWIND_UNSUPPORTED */
	__s8 bp_offset;	  /* rbp saved at CFA + 8 * bp_offset, or UNWIND_BP_* */
	__u8 rule;	  /* enum unwind_rule */
};

#define UNWIND_PAGE_SHIFT 12

struct unwind_page_key {
	__u32 table;
	__u32 page; /* virtual address >> UNWIND_PAGE_SHIFT */
};

/* the rows to search for an address in the page: first is the row that holds at its start */
struct unwind_page {
	__u32 first;
	__u32 count;
};

enum unwind_mapping_kind {
	UNWIND_MAP_TABLE,   /* a binary with a table */
	UNWIND_MAP_NO_INFO, /* a binary without call frame information */
	UNWIND_MAP_ANON,    /* executable memory of no file: JIT code */
	UNWIND_MAP_FULL,    /* a binary whose table did not fit */
	UNWIND_MAP_UPROBES, /* the uretprobe trampoline: the return address stands for another */
};

/*
 * Where there is no call frame information, the code keeps frame pointers: V8's builtins and
 * the JIT code of a process that runs V8 (V8 sets up rbp in every frame of code it generates),
 * and the code cache of a HotSpot JVM started with -XX:+PreserveFramePointer.
 */
#define UNWIND_FP_WITHOUT_INFO 1

struct unwind_mapping {
	__u64 start;
	__u64 end;
	__u64 bias; /* runtime address - the binary's virtual address */
	__u32 table;
	__u16 kind; /* enum unwind_mapping_kind */
	__u16 flags; /* UNWIND_FP_* */
};

#define UNWIND_MAX_MAPPINGS 256 /* executable mappings of a process */

struct unwind_process {
	__u32 count;
	__u32 pad;
	struct unwind_runtime runtime; /* its interpreter's, if it runs one */
	struct unwind_mapping maps[UNWIND_MAX_MAPPINGS]; /* sorted by start */
};

/*
 * Why a stack ends: a mark, UNWIND_MARK(stop), in place of the next frame.  UNWIND_STOP_ROOT
 * says the stack is complete; any other, that the frame before it is where unwinding stopped.
 */
enum unwind_stop {
	UNWIND_STOP_ROOT,	 /* not a mark: the stack is complete */
	UNWIND_STOP_NO_INFO,	 /* no call frame information for the last frame */
	UNWIND_STOP_UNREADABLE,	 /* the stack could not be read */
	UNWIND_STOP_DEPTH,	 /* more frames than a stack holds */
	UNWIND_STOP_NOT_MAPPED,	 /* the next return address is in no executable mapping */
	UNWIND_STOP_JIT,	 /* the last frame is in executable memory of no file */
	UNWIND_STOP_NOT_READY,	 /* the process's or the binary's table was not built yet */
	UNWIND_STOP_UNSUPPORTED, /* a rule the unwinder does not follow */
	UNWIND_STOP_TABLE_FULL,	 /* the binary's table did not fit in the tables' storage */
	UNWIND_STOP_BAD_FRAME,	 /* the caller's frame would not be above the frame */
	UNWIND_STOPS
};

/*
 * The registers and the top of the stack, copied at an event whose stack the BPF half could not
 * unwind because the process's tables were not built yet (its first events): userspace builds
 * them and unwinds the copy (unwinder_finish()).  Events that are rare and whose stack matters
 * one by one (a slow lookup, a slow call) carry one.
 */
#define UNWIND_COPY_BYTES 16384

struct unwind_copy {
	__u64 ip;
	__u64 sp;
	__u64 bp;
	__u32 len; /* bytes of stack from sp: UNWIND_COPY_BYTES, less near the stack's top */
	__u32 pad;
	__u8 stack[UNWIND_COPY_BYTES];
};

#define UNWIND_GO_ON 0xff /* not a stop: a walker's step found the caller */

#define UNWIND_MARK_BASE    0xffffffffffffff00ULL
#define UNWIND_MARK(stop)   (UNWIND_MARK_BASE | (stop))
#define UNWIND_IS_MARK(ip)  (((ip) & ~0xffULL) == UNWIND_MARK_BASE)
#define UNWIND_MARK_STOP(ip) ((unsigned int)((ip) & 0xff))

#endif
