// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The capabilities of the caller, and for each tool the ones it lacks and what that costs.
 * Installed, every tool carries the same file capabilities as stallcheck (packaging/file-caps),
 * and with sudo or ambient capabilities they inherit the same set: what stallcheck has is what
 * the tools get.  docs/privileges.md says why each one is needed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "json.h"
#include "privileges.h"
#include "stallcheck.h"

#define BPF_CAPS  (CAP_BIT(CAP_BPF) | CAP_BIT(CAP_PERFMON))
#define PROC_CAPS (CAP_BIT(CAP_SYS_PTRACE) | CAP_BIT(CAP_DAC_READ_SEARCH))

struct cap_use {
	int cap;
	const char *use;
};

static const struct cap_use uses[] = {
	{ CAP_BPF, "loads the BPF programs and maps" },
	{ CAP_PERFMON, "attaches them; kernel stacks and memory, CPU-clock perf events" },
	{ CAP_SYS_ADMIN, "BPF stats (a session's cost) and uprobes (dnsblock); the tools give it up "
			 "once used" },
	{ CAP_SYSLOG, "the kernel's addresses in /proc/kallsyms: kernel frames named" },
	{ CAP_SYS_PTRACE, "other users' processes: their binaries (/proc/PID/root), memory, "
			  "descriptors, calls in progress" },
	{ CAP_DAC_READ_SEARCH, "other users' processes: /proc files only their owner may read "
			       "(fd/, syscall, mem, map_files/)" },
	{ CAP_CHECKPOINT_RESTORE, "binaries deleted or replaced since their process started "
				  "(/proc/PID/map_files)" },
};

enum lack_scope {
	ALWAYS,		/* costs whenever the capabilities are missing */
	KALLSYMS_HIDDEN, /* only where /proc/kallsyms hides the kernel's addresses */
	STATS_OFF,	/* only where kernel.bpf_stats_enabled is not 1 already */
};

/* What a tool loses without (any of) caps */
struct lack {
	const char *tool;
	uint64_t caps;
	bool fatal;
	enum lack_scope scope;
	const char *cost;
};

#define STATS_COST "its BPF programs' cost (BPF_ENABLE_STATS) is unknown"
#define KERNEL_COST "kernel frames are bare addresses"
#define DELETED_COST "code of binaries deleted or replaced since their process started (an " \
		     "upgrade) is not unwound nor named"

static const struct lack lacks[] = {
	{ "syslat", BPF_CAPS, true, ALWAYS, "it cannot load nor attach its BPF programs" },
	{ "syslat", PROC_CAPS, false, ALWAYS,
	  "of other users' processes: no descriptor names (--per-fd), no calls still in progress "
	  "at the end, --stacks frames unnamed" },
	{ "syslat", CAP_BIT(CAP_SYSLOG), false, KALLSYMS_HIDDEN, "--stacks: " KERNEL_COST },
	{ "syslat", CAP_BIT(CAP_CHECKPOINT_RESTORE), false, ALWAYS, "--stacks: " DELETED_COST },
	{ "syslat", CAP_BIT(CAP_SYS_ADMIN), false, STATS_OFF, STATS_COST },

	{ "offcputime", BPF_CAPS, true, ALWAYS, "it cannot load nor attach its BPF programs" },
	{ "offcputime", PROC_CAPS, false, ALWAYS,
	  "user stacks of other users' processes stop at their first frame, unnamed" },
	{ "offcputime", CAP_BIT(CAP_SYSLOG), false, KALLSYMS_HIDDEN,
	  KERNEL_COST ", and repeated blocks' kernel stacks are walked each time" },
	{ "offcputime", CAP_BIT(CAP_CHECKPOINT_RESTORE), false, ALWAYS, DELETED_COST },
	{ "offcputime", CAP_BIT(CAP_SYS_ADMIN), false, STATS_OFF, STATS_COST },

	{ "profile", BPF_CAPS, true, ALWAYS, "it cannot load nor attach its BPF programs" },
	{ "profile", PROC_CAPS, false, ALWAYS,
	  "user stacks of other users' processes stop at their first frame, unnamed" },
	{ "profile", CAP_BIT(CAP_SYSLOG), false, KALLSYMS_HIDDEN, KERNEL_COST },
	{ "profile", CAP_BIT(CAP_CHECKPOINT_RESTORE), false, ALWAYS, DELETED_COST },
	{ "profile", CAP_BIT(CAP_SYS_ADMIN), false, STATS_OFF, STATS_COST },

	{ "dnsblock", BPF_CAPS, true, ALWAYS, "it cannot load nor attach its BPF programs" },
	{ "dnsblock", CAP_BIT(CAP_SYS_ADMIN), true, ALWAYS,
	  "it cannot attach uprobes to the C library's resolver functions" },
	{ "dnsblock", PROC_CAPS, false, ALWAYS,
	  "the C libraries of other users' processes that are not the host's (containers, "
	  "deleted) are not probed, --stacks frames of their processes unnamed" },
	{ "dnsblock", CAP_BIT(CAP_SYSLOG), false, KALLSYMS_HIDDEN, "--stacks: " KERNEL_COST },
	{ "dnsblock", CAP_BIT(CAP_CHECKPOINT_RESTORE), false, ALWAYS, "--stacks: " DELETED_COST },

	{ "tcpretrans", BPF_CAPS, true, ALWAYS, "it cannot load nor attach its BPF programs" },
	{ "tcpretrans", PROC_CAPS, false, ALWAYS,
	  "sockets of other users' processes opened before it started have no owner" },
	{ "tcpretrans", CAP_BIT(CAP_SYSLOG), false, KALLSYMS_HIDDEN, "--drops: " KERNEL_COST },
	{ "tcpretrans", CAP_BIT(CAP_SYS_ADMIN), false, STATS_OFF, STATS_COST },
};

static bool has(const struct host_facts *h, int cap)
{
	return h->caps & CAP_BIT(cap);
}

/* The capabilities of l the caller lacks, where that costs here; 0 if none */
static uint64_t lacking(const struct host_facts *h, const struct lack *l)
{
	uint64_t missing = l->caps & ~h->caps;

	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON */
	if (l->caps == BPF_CAPS && has(h, CAP_SYS_ADMIN))
		return 0;
	if (l->scope == KALLSYMS_HIDDEN && h->kallsyms_visible)
		return 0;
	if (l->scope == STATS_OFF && h->stats_enabled == 1)
		return 0;
	return missing;
}

static const char *syslog_note(const struct host_facts *h)
{
	if (h->kallsyms_visible && !has(h, CAP_SYSLOG))
		return " (not needed here: /proc/kallsyms shows the addresses to everyone)";
	return "";
}

void privileges_text(FILE *out, const struct host_facts *h)
{
	fprintf(out, "\nCapabilities of the caller (effective)\n");
	if (!h->caps_known) {
		fprintf(out, "  %-22s ?    capget failed: capabilities unknown\n", "capget");
		return;
	}
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		int cap = uses[i].cap;

		fprintf(out, "  %-22s %-4s %s%s\n", privileges_name(cap), has(h, cap) ? "yes" : "no",
			uses[i].use, cap == CAP_SYSLOG ? syslog_note(h) : "");
	}
	fprintf(out, "  %-22s %-4s %s\n", privileges_name(CAP_SYS_RESOURCE),
		has(h, CAP_SYS_RESOURCE) ? "yes" : "no",
		has(h, CAP_SYS_RESOURCE) ? ""
					 : "cannot raise RLIMIT_MEMLOCK: harmless on Linux 5.11+, "
					   "which charges BPF memory to the memory cgroup");
}

void privileges_lacking_text(FILE *out, const struct host_facts *h,
			     const struct tool_check *tools)
{
	bool any = false;
	char names[128];

	fprintf(out, "\nWhat each tool lacks, run by this caller\n");
	for (size_t t = 0; t < STALLCHECK_TOOLS && h->caps_known; t++) {
		for (size_t i = 0; i < sizeof(lacks) / sizeof(lacks[0]); i++) {
			const struct lack *l = &lacks[i];
			uint64_t missing;

			if (strcmp(l->tool, tools[t].name) || !(missing = lacking(h, l)))
				continue;
			privileges_list(missing, names, sizeof(names));
			fprintf(out, "  %-16s %s: %s%s\n", l->tool, names,
				l->fatal ? "cannot run: " : "", l->cost);
			any = true;
		}
	}
	if (!h->caps_known)
		fprintf(out, "  ?                capabilities unknown\n");
	else if (!any)
		fprintf(out, "  nothing          every tool has all it uses\n");
}

void privileges_json(struct json *j, const struct host_facts *h)
{
	char key[32];

	json_object_begin(j, "capabilities");
	json_bool(j, "known", h->caps_known);
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		const char *name = privileges_name(uses[i].cap);
		size_t k;

		for (k = 0; name[k] && k + 1 < sizeof(key); k++)
			key[k] = tolower((unsigned char)name[k]);
		key[k] = '\0';
		json_bool(j, key, has(h, uses[i].cap));
	}
	json_bool(j, "cap_sys_resource", has(h, CAP_SYS_RESOURCE));
	json_bool(j, "kallsyms_visible", h->kallsyms_visible);
	json_object_end(j);
}

void privileges_lacking_json(struct json *j, const struct host_facts *h, const char *tool)
{
	json_array_begin(j, "lacks");
	for (size_t i = 0; i < sizeof(lacks) / sizeof(lacks[0]) && h->caps_known; i++) {
		const struct lack *l = &lacks[i];
		uint64_t missing;

		if (strcmp(l->tool, tool) || !(missing = lacking(h, l)))
			continue;
		json_object_begin(j, NULL);
		json_array_begin(j, "capabilities");
		for (size_t k = 0; k < sizeof(uses) / sizeof(uses[0]); k++)
			if (missing & CAP_BIT(uses[k].cap))
				json_str(j, NULL, privileges_name(uses[k].cap));
		json_array_end(j);
		json_bool(j, "fatal", l->fatal);
		json_str(j, "cost", l->cost);
		json_object_end(j);
	}
	json_array_end(j);
}
