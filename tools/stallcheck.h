/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stallcheck: what will work on this host.  The facts are gathered first (host, libc, one
 * entry per tool) and printed afterwards as text or JSON, so both say the same thing.
 */
#ifndef STALLKIT_STALLCHECK_H
#define STALLKIT_STALLCHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/utsname.h>
#include "loader.h"

#define REASON_LEN 256

/* Kernel and host facts outside the BPF feature probes (those are the loader's). */
struct host_facts {
	struct utsname uts;
	bool btf;

	bool lockdown_known; /* securityfs was readable */
	char lockdown[32];   /* "integrity", ...; "" when unknown */
	char lockdown_why[REASON_LEN];
	char lockdown_config[32]; /* what CONFIG_LOCK_DOWN_KERNEL_FORCE_* forces; "" unknown */
	char lockdown_config_why[REASON_LEN];

	const char *tracefs; /* where libbpf finds it, NULL if not mounted */

	int stats_enabled; /* kernel.bpf_stats_enabled: 0, 1, or -1 unreadable */
	bool stats_can_enable;
	bool stats_sysctl_writable;
	char stats_why[REASON_LEN];

	bool caps_known;
	uint64_t caps;	       /* effective, CAP_BIT(CAP_...) */
	bool kallsyms_visible; /* /proc/kallsyms shows this process the kernel's addresses */

	bool cgroup2;
	char cgroup2_path[PATH_MAX];
	const char *cgroup_hierarchy; /* "unified", "hybrid", "legacy" or "none" */
};

/* The C library this process runs on, which is what user stacks of other processes cross. */
struct libc_facts {
	bool found;
	char why[REASON_LEN]; /* when !found, or when a part below is unknown */
	char path[PATH_MAX];
	const char *version; /* gnu_get_libc_version() */

	bool fp_known; /* the prologue check ran (x86_64 only) */
	bool frame_pointers;
	unsigned int fp_checked;
	unsigned int fp_with;

	long unwind_rules; /* its unwind table's rows; 0: no call frame information; -1: unread */
	char build_id[128]; /* hex; "" if the ELF has no build-id note */
	char debug_file[PATH_MAX];
	bool debug_file_exists;
};

/* One tracepoint a tool attaches to, and the flavour the loader would choose for it. */
struct hook_check {
	const char *category;
	const char *name;
	enum hook_flavour flavour;
	char why[REASON_LEN]; /* why not tp_btf (a fallback), or why none works */
};

#define TOOL_MAX_HOOKS 4

struct tool_check {
	const char *name;
	bool planned;
	bool runs;
	char why[2 * REASON_LEN]; /* when !runs */
	struct hook_check hooks[TOOL_MAX_HOOKS];
	unsigned int nhooks;
	const char *uprobe_target; /* "getaddrinfo in libc", or NULL */
	const char *perf_event;	   /* "the CPU clock", or NULL */
	const char *option;	   /* an option with its own needs ("--min"), or NULL */
	enum feature option_feature;
	bool option_works;
};

#define STALLCHECK_TOOLS 5

/* -p PID: the binaries a process runs code from, and whether stacks unwind through them */
#define PROCESS_MAX_BINARIES 128
struct binary_unwind {
	char path[PATH_MAX];
	long rules; /* unwind table rows; 0: no call frame information; -1: not readable */
};

struct process_facts {
	pid_t pid; /* 0: not asked for */
	bool found;
	char why[REASON_LEN];
	/* the language runtime it runs, if any: which, and whether its frames are named */
	char runtime[REASON_LEN]; /* "" if none */
	char runtime_path[PATH_MAX];
	bool runtime_supported;
	struct binary_unwind binaries[PROCESS_MAX_BINARIES];
	size_t n;
};

struct stallcheck {
	struct host_facts host;
	struct libc_facts libc;
	struct tool_check tools[STALLCHECK_TOOLS];
	struct process_facts process;
};

void host_collect(struct host_facts *h);
void libc_collect(struct libc_facts *l);
void tools_collect(struct tool_check *tools, const struct libc_facts *l);
void process_collect(struct process_facts *p, pid_t pid);
/* The rows of the unwind table of the ELF file open at fd, -1 if it cannot be read */
long unwind_rules_of(int fd);

void report_text(FILE *out, const struct stallcheck *c);
void report_json(FILE *out, const struct stallcheck *c);

/* stallcheck_privileges.c: the capabilities the caller has, and what each tool lacks */
struct json;
void privileges_text(FILE *out, const struct host_facts *h);
void privileges_lacking_text(FILE *out, const struct host_facts *h,
			     const struct tool_check *tools);
void privileges_json(struct json *j, const struct host_facts *h);
void privileges_lacking_json(struct json *j, const struct host_facts *h, const char *tool);

#endif
