// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallcheck's report: one line per item ("yes"/"no" and the reason, with what to do where
 * there is something to do), or one JSON document with the same facts.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "json.h"
#include "stallcheck.h"

static const enum feature feature_order[] = {
	FEATURE_TP_BTF, FEATURE_RAW_TP, FEATURE_TRACEPOINT, FEATURE_FENTRY,
	FEATURE_KPROBE, FEATURE_UPROBE, FEATURE_RINGBUF,    FEATURE_TASK_STORAGE,
};

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

static void item(FILE *out, const char *label, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void item(FILE *out, const char *label, const char *status, const char *fmt, ...)
{
	va_list ap;
	char detail[1024];

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (detail[0])
		fprintf(out, "  %-16s %-4s %s\n", label, status, detail);
	else
		fprintf(out, "  %-16s %s\n", label, status);
}

/* What the kernel configuration forces at boot, for when the current mode is unknown */
static void describe_lockdown_config(char *buf, size_t len, const struct host_facts *h)
{
	char upper[sizeof(h->lockdown_config)];
	size_t i;

	for (i = 0; h->lockdown_config[i] && i + 1 < sizeof(upper); i++)
		upper[i] = toupper((unsigned char)h->lockdown_config[i]);
	upper[i] = '\0';
	if (h->lockdown_config_why[0])
		snprintf(buf, len, "built-in mode %s: %s",
			 h->lockdown_config[0] ? h->lockdown_config : "unknown",
			 h->lockdown_config_why);
	else if (!strcmp(h->lockdown_config, "none"))
		snprintf(buf, len,
			 "the kernel forces no lockdown at boot "
			 "(CONFIG_LOCK_DOWN_KERNEL_FORCE_NONE=y; lockdown= on the command line "
			 "may still set one)");
	else
		snprintf(buf, len,
			 "the kernel is built to lock down to %s at least "
			 "(CONFIG_LOCK_DOWN_KERNEL_FORCE_%s=y)",
			 h->lockdown_config, upper);
}

static void text_lockdown(FILE *out, const struct host_facts *h)
{
	char config[REASON_LEN + 128];

	if (h->lockdown_known && !strcmp(h->lockdown, "none")) {
		item(out, "lockdown", "no", "none%s%s", h->lockdown_why[0] ? ": " : "",
		     h->lockdown_why);
	} else if (h->lockdown_known) {
		/* confidentiality takes bpf_probe_read_kernel away: CO-RE reads fail to load */
		item(out, "lockdown", "yes", "%s%s", h->lockdown,
		     strcmp(h->lockdown, "confidentiality")
			     ? ""
			     : " (BPF programs may not read kernel memory: tools that do fail to load)");
	} else {
		describe_lockdown_config(config, sizeof(config), h);
		item(out, "lockdown", "?", "unknown: %s; %s", h->lockdown_why, config);
	}
}

static void text_host(FILE *out, const struct host_facts *h)
{
	fprintf(out, "Kernel\n");
	item(out, "release", h->uts.release, "%s %s", h->uts.version, h->uts.machine);
	if (h->btf)
		item(out, "BTF", "yes", "/sys/kernel/btf/vmlinux");
	else
		item(out, "BTF", "no",
		     "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF is not "
		     "set): no tp_btf, and CO-RE needs a BTF file for this kernel");
	text_lockdown(out, h);
	if (h->tracefs)
		item(out, "tracefs", "yes", "%s", h->tracefs);
	else
		item(out, "tracefs", "no",
		     "not mounted at /sys/kernel/tracing or "
		     "/sys/kernel/debug/tracing; only classic tracepoints need it (mount -t "
		     "tracefs nodev /sys/kernel/tracing)");
	if (h->cgroup2 && !strcmp(h->cgroup_hierarchy, "hybrid"))
		item(out, "cgroup v2", "yes",
		     "%s (hybrid: cgroup v1 controllers at "
		     "/sys/fs/cgroup; --cgroup filters use the v2 tree)",
		     h->cgroup2_path);
	else if (h->cgroup2)
		item(out, "cgroup v2", "yes", "%s (%s)", h->cgroup2_path, h->cgroup_hierarchy);
	else
		item(out, "cgroup v2", "no", "not mounted (%s hierarchy): --cgroup cannot work",
		     h->cgroup_hierarchy);

	if (h->stats_enabled < 0)
		item(out, "BPF stats", "?", "kernel.bpf_stats_enabled is not readable");
	else if (h->stats_can_enable)
		item(out, "BPF stats", h->stats_enabled ? "on" : "off",
		     "kernel.bpf_stats_enabled = %d; can be enabled: yes (%s)", h->stats_enabled,
		     h->stats_sysctl_writable
			     ? "sysctl -w kernel.bpf_stats_enabled=1"
			     : "BPF_ENABLE_STATS only: the sysctl is read-only here");
	else
		item(out, "BPF stats", h->stats_enabled ? "on" : "off",
		     "kernel.bpf_stats_enabled = %d; can be enabled: no (%s)", h->stats_enabled,
		     h->stats_why);
}

static void text_features(FILE *out)
{
	fprintf(out, "\nBPF program and map types (loaded and attached for real)\n");
	for (size_t i = 0; i < sizeof(feature_order) / sizeof(feature_order[0]); i++) {
		enum feature f = feature_order[i];

		item(out, feature_name(f), yes_no(feature_available(f)), "%s", feature_why_not(f));
	}
}

static void unwind_item(FILE *out, const char *label, long rules)
{
	if (rules > 0)
		item(out, label, "yes", ".eh_frame: %ld unwind rules", rules);
	else if (rules == 0)
		item(out, label, "no",
		     "no call frame information (.eh_frame_hdr): user stacks stop in it");
	else
		item(out, label, "?", "cannot read it");
}

static void text_process(FILE *out, const struct process_facts *p)
{
	if (!p->pid)
		return;
	fprintf(out, "\nUser stacks of PID %d\n", p->pid);
	if (!p->found)
		item(out, "process", "no", "%s", p->why);
	for (size_t i = 0; i < p->n; i++)
		unwind_item(out, p->binaries[i].path, p->binaries[i].rules);
	if (p->runtime[0])
		item(out, "runtime frames", p->runtime_supported ? "yes" : "no", "%s (%s)",
		     p->runtime, p->runtime_path);
}

static void text_libc(FILE *out, const struct libc_facts *l)
{
	fprintf(out, "\nUser stacks through libc\n");
	if (!l->found) {
		item(out, "libc", "?", "%s%s%s", l->path, l->path[0] ? ": " : "", l->why);
		return;
	}
	item(out, "libc", "yes", "%s (glibc %s)", l->path, l->version);
	if (!l->fp_known)
		item(out, "frame pointers", "?", "%s", l->why);
	else if (l->frame_pointers)
		item(out, "frame pointers", "yes", "frame pointers (%u of %u functions set one up)",
		     l->fp_with, l->fp_checked);
	else
		item(out, "frame pointers", "no",
		     "no frame pointers (%u of %u functions set one up): stacks through libc are "
		     "unwound by its call frame information",
		     l->fp_with, l->fp_checked);
	unwind_item(out, "unwind info", l->unwind_rules);
	if (!l->build_id[0])
		item(out, "debug file", "?", "libc has no build-id note: cannot look one up");
	else if (l->debug_file_exists)
		item(out, "debug file", "yes", "%s", l->debug_file);
	else
		item(out, "debug file", "no",
		     "no %s (install libc6-dbg, or your distribution's "
		     "glibc debuginfo): libc frames show as function+offset, without lines",
		     l->debug_file);
}

/* "tp_btf: a:b, c:d", or each hook with its own flavour when they differ */
static size_t describe_hooks(char *buf, size_t len, const struct tool_check *t)
{
	bool same = true;
	size_t n = 0;

	for (unsigned int i = 1; i < t->nhooks; i++)
		same &= t->hooks[i].flavour == t->hooks[0].flavour;
	if (!t->nhooks)
		return 0;
	if (same)
		n += snprintf(buf + n, len - n, "%s: ", hook_flavour_name(t->hooks[0].flavour));
	for (unsigned int i = 0; i < t->nhooks && n < len; i++) {
		const struct hook_check *hc = &t->hooks[i];

		n += snprintf(buf + n, len - n, "%s%s:%s", i ? ", " : "", hc->category, hc->name);
		if (!same && n < len)
			n += snprintf(buf + n, len - n, " (%s)", hook_flavour_name(hc->flavour));
	}
	/* a fallback says why the better flavour is out */
	for (unsigned int i = 0; i < t->nhooks && n < len; i++) {
		if (t->hooks[i].why[0]) {
			n += snprintf(buf + n, len - n, " (%s)", t->hooks[i].why);
			break;
		}
	}
	return n < len ? n : len - 1;
}

static void text_tools(FILE *out, const struct tool_check *tools)
{
	fprintf(out, "\nTools\n");
	for (size_t i = 0; i < STALLCHECK_TOOLS; i++) {
		const struct tool_check *t = &tools[i];
		char detail[1024];
		size_t n = 0;

		if (!t->runs) {
			item(out, t->name, "no", "%s%s",
			     t->planned ? "(planned) could not run: " : "", t->why);
			continue;
		}
		if (t->planned)
			n += snprintf(detail + n, sizeof(detail) - n, "(planned) would use ");
		if (t->uprobe_target)
			n += snprintf(detail + n, sizeof(detail) - n, "uprobes on %s, ",
				      t->uprobe_target);
		if (t->perf_event)
			n += snprintf(detail + n, sizeof(detail) - n, "perf events: %s",
				      t->perf_event);
		n += describe_hooks(detail + n, sizeof(detail) - n, t);
		if (t->option && n < sizeof(detail))
			snprintf(detail + n, sizeof(detail) - n, "; %s: %s%s%s", t->option,
				 yes_no(t->option_works), t->option_works ? "" : ", ",
				 t->option_works ? "" : feature_why_not(t->option_feature));
		item(out, t->name, "yes", "%s", detail);
	}
}

void report_text(FILE *out, const struct stallcheck *c)
{
	text_host(out, &c->host);
	text_features(out);
	privileges_text(out, &c->host);
	text_libc(out, &c->libc);
	text_process(out, &c->process);
	text_tools(out, c->tools);
	privileges_lacking_text(out, &c->host, c->tools);
}

static void json_reason(struct json *j, const char *key, const char *why)
{
	json_str(j, key, why && why[0] ? why : NULL);
}

static void json_host(struct json *j, const struct host_facts *h)
{
	json_object_begin(j, "kernel");
	json_str(j, "release", h->uts.release);
	json_str(j, "version", h->uts.version);
	json_str(j, "machine", h->uts.machine);
	json_object_end(j);

	json_object_begin(j, "btf");
	json_bool(j, "available", h->btf);
	json_str(j, "path", "/sys/kernel/btf/vmlinux");
	json_object_end(j);

	json_object_begin(j, "lockdown");
	json_bool(j, "known", h->lockdown_known);
	json_str(j, "mode", h->lockdown_known ? h->lockdown : NULL);
	json_reason(j, "reason", h->lockdown_why);
	json_str(j, "config_forced", h->lockdown_config[0] ? h->lockdown_config : NULL);
	json_reason(j, "config_reason", h->lockdown_config_why);
	json_object_end(j);

	json_object_begin(j, "tracefs");
	json_bool(j, "mounted", h->tracefs != NULL);
	json_str(j, "path", h->tracefs);
	json_object_end(j);

	json_object_begin(j, "cgroup");
	json_bool(j, "v2_mounted", h->cgroup2);
	json_str(j, "v2_path", h->cgroup2 ? h->cgroup2_path : NULL);
	json_str(j, "hierarchy", h->cgroup_hierarchy);
	json_object_end(j);

	json_object_begin(j, "bpf_stats");
	if (h->stats_enabled < 0)
		json_str(j, "enabled", NULL);
	else
		json_bool(j, "enabled", h->stats_enabled);
	json_bool(j, "can_enable", h->stats_can_enable);
	json_bool(j, "sysctl_writable", h->stats_sysctl_writable);
	json_reason(j, "reason", h->stats_why);
	json_object_end(j);

	privileges_json(j, h);
}

static void json_features(struct json *j)
{
	json_object_begin(j, "features");
	for (size_t i = 0; i < sizeof(feature_order) / sizeof(feature_order[0]); i++) {
		enum feature f = feature_order[i];

		json_object_begin(j, feature_name(f));
		json_bool(j, "available", feature_available(f));
		json_reason(j, "reason", feature_why_not(f));
		json_object_end(j);
	}
	json_object_end(j);
}

/* rules, or null where they could not be read */
static void json_i64_or_null(struct json *j, const char *key, long rules)
{
	if (rules < 0)
		json_str(j, key, NULL);
	else
		json_u64(j, key, rules);
}

static void json_process(struct json *j, const struct process_facts *p)
{
	if (!p->pid)
		return;
	json_object_begin(j, "process");
	json_u64(j, "pid", p->pid);
	json_bool(j, "found", p->found);
	json_reason(j, "reason", p->why);
	json_array_begin(j, "binaries");
	for (size_t i = 0; i < p->n; i++) {
		json_object_begin(j, NULL);
		json_str(j, "path", p->binaries[i].path);
		json_i64_or_null(j, "unwind_rules", p->binaries[i].rules);
		json_object_end(j);
	}
	json_array_end(j);
	if (p->runtime[0]) {
		json_object_begin(j, "runtime");
		json_str(j, "what", p->runtime);
		json_str(j, "binary", p->runtime_path);
		json_bool(j, "frames_named", p->runtime_supported);
		json_object_end(j);
	}
	json_object_end(j);
}

static void json_libc(struct json *j, const struct libc_facts *l)
{
	json_object_begin(j, "libc");
	json_bool(j, "found", l->found);
	json_str(j, "path", l->found ? l->path : NULL);
	json_str(j, "version", l->version);
	if (l->fp_known)
		json_bool(j, "frame_pointers", l->frame_pointers);
	else
		json_str(j, "frame_pointers", NULL);
	json_u64(j, "functions_checked", l->fp_checked);
	json_u64(j, "functions_with_frame_pointer", l->fp_with);
	json_i64_or_null(j, "unwind_rules", l->unwind_rules);
	json_str(j, "build_id", l->build_id[0] ? l->build_id : NULL);
	json_str(j, "debug_file", l->debug_file[0] ? l->debug_file : NULL);
	json_bool(j, "debug_file_exists", l->debug_file_exists);
	json_reason(j, "reason", l->why);
	json_object_end(j);
}

static void json_tool(struct json *j, const struct tool_check *t, const struct host_facts *h)
{
	const char *flavour = hook_flavour_name(t->hooks[0].flavour);

	for (unsigned int i = 1; i < t->nhooks; i++)
		if (t->hooks[i].flavour != t->hooks[0].flavour)
			flavour = "mixed";
	json_object_begin(j, t->name);
	json_bool(j, "planned", t->planned);
	json_bool(j, "runs", t->runs);
	json_str(j, "flavour", flavour);
	json_reason(j, "reason", t->why);
	json_array_begin(j, "hooks");
	for (unsigned int i = 0; i < t->nhooks; i++) {
		char name[128];

		snprintf(name, sizeof(name), "%s:%s", t->hooks[i].category, t->hooks[i].name);
		json_object_begin(j, NULL);
		json_str(j, "tracepoint", name);
		json_str(j, "flavour", hook_flavour_name(t->hooks[i].flavour));
		json_reason(j, "reason", t->hooks[i].why);
		json_object_end(j);
	}
	json_array_end(j);
	json_str(j, "uprobes", t->uprobe_target);
	json_str(j, "perf_event", t->perf_event);
	if (t->option) {
		json_object_begin(j, "options");
		json_object_begin(j, t->option + strspn(t->option, "-"));
		json_bool(j, "available", t->option_works);
		json_str(j, "needs", feature_name(t->option_feature));
		json_reason(j, "reason",
			    t->option_works ? NULL
			    : t->runs	    ? feature_why_not(t->option_feature)
					    : t->why);
		json_object_end(j);
		json_object_end(j);
	}
	privileges_lacking_json(j, h, t->name);
	json_object_end(j);
}

void report_json(FILE *out, const struct stallcheck *c)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_host(&j, &c->host);
	json_features(&j);
	json_libc(&j, &c->libc);
	json_process(&j, &c->process);
	json_object_begin(&j, "tools");
	for (size_t i = 0; i < STALLCHECK_TOOLS; i++)
		json_tool(&j, &c->tools[i], &c->host);
	json_object_end(&j);
	json_object_end(&j);
	json_line_end(&j);
}
