// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "host.h"
#include "loader.h"
#include "privileges.h"
#include "procfs.h"
#include "probe.skel.h"

#define ENOTSUPP 524 /* the kernel's own "not supported", seen by BPF users */

static bool verbose;
static bool probing;		/* a failing feature probe is no news: keep libbpf quiet */
static bool program_rejected;	/* libbpf said a program failed to load (the verifier) */
static char last_warning[256];	/* libbpf's last warning, for the one-sentence explanation */

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		va_list copy;
		size_t len;

		va_copy(copy, ap);
		vsnprintf(last_warning, sizeof(last_warning), fmt, copy);
		va_end(copy);
		if (!strncmp(last_warning, "libbpf: ", 8))
			memmove(last_warning, last_warning + 8, strlen(last_warning + 8) + 1);
		if (strstr(last_warning, "program load failed"))
			program_rejected = true;
		len = strlen(last_warning);
		while (len && last_warning[len - 1] == '\n')
			last_warning[--len] = '\0';
	}
	if (!verbose || (probing && level != LIBBPF_WARN))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Whether the process may load and attach tracing programs; if not, says what it lacks */
static bool may_trace(void)
{
	char missing[128];
	uint64_t caps;

	/* if capget itself fails, let the kernel's answer to the first load speak */
	if (!privileges_effective(&caps) || (caps & CAP_BIT(CAP_SYS_ADMIN)) ||
	    !privileges_missing(CAP_BIT(CAP_BPF) | CAP_BIT(CAP_PERFMON), missing, sizeof(missing)))
		return true;
	warnx("lacks %s, which loading and attaching its BPF programs needs (root has them). "
	      "Installed, the tools carry them as file capabilities for the members of group "
	      "stallkit%s: run it as one of them, or with sudo; stallcheck says what this user "
	      "lacks", missing,
	      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1
		      ? " (ignored here: this process runs with no_new_privs)" : "");
	return false;
}

bool loader_init(bool be_verbose)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	verbose = be_verbose;
	libbpf_set_print(print_libbpf);
	if (!may_trace())
		return false;
	/* Kernels from 5.11 charge BPF memory to the memory cgroup and ignore this limit, so
	 * failing to raise it (no CAP_SYS_RESOURCE) is no error. */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited) && verbose)
		fprintf(stderr, "note: could not raise RLIMIT_MEMLOCK (%s); fine on Linux 5.11+\n",
			strerror(errno));
	return true;
}

bool loader_verbose(void)
{
	return verbose;
}

static const char *const feature_names[FEATURE_COUNT] = {
	[FEATURE_TP_BTF] = "tp_btf",	     [FEATURE_RAW_TP] = "raw_tp",
	[FEATURE_TRACEPOINT] = "tracepoint", [FEATURE_FENTRY] = "fentry",
	[FEATURE_KPROBE] = "kprobe",	     [FEATURE_UPROBE] = "uprobe",
	[FEATURE_RINGBUF] = "ringbuf",	     [FEATURE_TASK_STORAGE] = "task_storage",
};

const char *feature_name(enum feature f)
{
	return f < FEATURE_COUNT ? feature_names[f] : "?";
}

static struct {
	bool probed;
	bool available;
	char why[256];
} features[FEATURE_COUNT];

__attribute__((noinline)) void loader_uprobe_target(void)
{
	asm volatile("" ::: "memory");
}

static struct bpf_link *attach_uprobe_to_self(struct bpf_program *prog)
{
	char path[4096];
	uint64_t offset;

	if (proc_file_offset(getpid(), (uintptr_t)loader_uprobe_target, path, sizeof(path),
			     &offset))
		return NULL;
	return bpf_program__attach_uprobe(prog, false, -1, path, offset);
}

/* Explains a failed probe in the words an engineer needs. */
static void explain_failure(enum feature f, int err, bool at_load)
{
	char *why = features[f].why;
	size_t len = sizeof(features[f].why);
	struct stat st;

	switch (f) {
	case FEATURE_TRACEPOINT:
		if (!tracefs_mount_point()) {
			snprintf(why, len, "tracefs is not mounted (mount -t tracefs nodev "
					   "/sys/kernel/tracing enables classic tracepoints)");
			return;
		}
		if (err == -EACCES && access(tracefs_mount_point(), R_OK | X_OK)) {
			snprintf(why, len, "tracefs (%s) is for root only: classic tracepoints "
					   "need CAP_DAC_READ_SEARCH to find their IDs there",
				 tracefs_mount_point());
			return;
		}
		break;
	case FEATURE_UPROBE:
		if (!at_load && (err == -EACCES || err == -EPERM) && !privileges_have(CAP_SYS_ADMIN)) {
			snprintf(why, len, "creating a uprobe needs CAP_SYS_ADMIN (%s without it: "
					   "Linux 6.16 and the 2025 stable updates no longer accept "
					   "CAP_PERFMON for uprobes)", strerror(-err));
			return;
		}
		break;
	case FEATURE_KPROBE:
		if (stat("/sys/bus/event_source/devices/kprobe", &st)) {
			snprintf(why, len, "kprobes are not available in this kernel "
					   "(CONFIG_KPROBES is not set)");
			return;
		}
		break;
	case FEATURE_FENTRY:
		if (err == -EPERM || err == -ENOTSUPP || err == -EOPNOTSUPP) {
			snprintf(why, len, "fentry/fexit programs are refused by this kernel (%s "
					   "at %s; kernel lockdown or no ftrace direct calls)",
				 strerror(-err), at_load ? "load" : "attach");
			return;
		}
		break;
	case FEATURE_TP_BTF:
		if (stat("/sys/kernel/btf/vmlinux", &st)) {
			snprintf(why, len, "the kernel has no BTF (/sys/kernel/btf/vmlinux; "
					   "CONFIG_DEBUG_INFO_BTF is not set)");
			return;
		}
		break;
	default:
		break;
	}
	snprintf(why, len, "%s failed: %s", at_load ? "loading a test program" : "attaching it",
		 strerror(err < 0 ? -err : err));
}

static const char *const probe_programs[FEATURE_COUNT] = {
	[FEATURE_TP_BTF] = "probe_tp_btf",	   [FEATURE_RAW_TP] = "probe_raw_tp",
	[FEATURE_TRACEPOINT] = "probe_tracepoint", [FEATURE_FENTRY] = "probe_fentry",
	[FEATURE_KPROBE] = "probe_kprobe",	   [FEATURE_UPROBE] = "probe_uprobe",
	[FEATURE_TASK_STORAGE] = "probe_task_storage_prog",
};

static void probe_program(enum feature f)
{
	struct bpf_program *prog, *target = NULL;
	struct bpf_link *link = NULL;
	struct probe_bpf *skel;
	int err;

	skel = probe_bpf__open();
	if (!skel) {
		explain_failure(f, -errno, true);
		return;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = !strcmp(bpf_program__name(prog), probe_programs[f]);

		bpf_program__set_autoload(prog, wanted);
		if (wanted)
			target = prog;
	}
	bpf_map__set_autocreate(skel->maps.probe_task_storage, f == FEATURE_TASK_STORAGE);
	err = probe_bpf__load(skel);
	if (err) {
		explain_failure(f, err, true);
		goto out;
	}
	link = f == FEATURE_UPROBE ? attach_uprobe_to_self(target) : bpf_program__attach(target);
	if (!link) {
		explain_failure(f, -errno, false);
		goto out;
	}
	features[f].available = true;
out:
	bpf_link__destroy(link);
	probe_bpf__destroy(skel);
}

bool feature_available(enum feature f)
{
	if (f >= FEATURE_COUNT)
		return false;
	if (features[f].probed)
		return features[f].available;
	probing = true;
	if (f == FEATURE_RINGBUF) {
		int err = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

		features[f].available = err == 1;
		if (!features[f].available)
			snprintf(features[f].why, sizeof(features[f].why),
				 "BPF ring buffers are not supported (Linux 5.8+ has them)");
	} else {
		probe_program(f);
	}
	probing = false;
	features[f].probed = true;
	return features[f].available;
}

bool feature_require(enum feature f, const char *what_for)
{
	if (feature_available(f))
		return true;
	warnx("needs %s (%s): %s", feature_name(f), what_for, feature_why_not(f));
	return false;
}

const char *feature_why_not(enum feature f)
{
	if (f >= FEATURE_COUNT)
		return "unknown feature";
	feature_available(f);
	return features[f].available ? "" : features[f].why;
}

bool helper_available(enum bpf_func_id helper)
{
	bool ok;

	probing = true;
	ok = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, helper, NULL) == 1;
	probing = false;
	return ok;
}

const char *hook_flavour_name(enum hook_flavour flavour)
{
	switch (flavour) {
	case HOOK_TP_BTF:
		return "tp_btf";
	case HOOK_RAW_TP:
		return "raw_tp";
	case HOOK_TRACEPOINT:
		return "tracepoint";
	default:
		return "none";
	}
}

static bool upgrade_to_tp_btf(struct tp_hook *h)
{
	if (bpf_program__set_type(h->raw, BPF_PROG_TYPE_TRACING) ||
	    bpf_program__set_expected_attach_type(h->raw, BPF_TRACE_RAW_TP) ||
	    bpf_program__set_attach_target(h->raw, 0, h->name)) {
		bpf_program__set_type(h->raw, BPF_PROG_TYPE_RAW_TRACEPOINT);
		bpf_program__set_expected_attach_type(h->raw, 0);
		return false;
	}
	return true;
}

static void note_fallback(enum feature missing, const char *using, const struct tp_hook *h)
{
	fprintf(stderr, "note: %s is not available (%s); using %s for %s:%s\n",
		feature_name(missing), feature_why_not(missing), using, h->category, h->name);
}

int loader_prepare_hooks(struct tp_hook *hooks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tp_hook *h = &hooks[i];

		if (feature_available(FEATURE_TP_BTF) && (h->btf || upgrade_to_tp_btf(h))) {
			h->flavour = HOOK_TP_BTF;
		} else if (feature_available(FEATURE_RAW_TP)) {
			h->flavour = HOOK_RAW_TP;
			note_fallback(FEATURE_TP_BTF, "raw_tp", h);
		} else if (h->classic && feature_available(FEATURE_TRACEPOINT)) {
			h->flavour = HOOK_TRACEPOINT;
			note_fallback(FEATURE_RAW_TP, "the classic tracepoint", h);
		} else {
			warnx("cannot attach to tracepoint %s:%s: raw_tp: %s; tracepoint: %s",
			      h->category, h->name, feature_why_not(FEATURE_RAW_TP),
			      h->classic ? feature_why_not(FEATURE_TRACEPOINT) : "no fallback");
			return -1;
		}
		bpf_program__set_autoload(h->raw, h->flavour == HOOK_RAW_TP ||
						  (h->flavour == HOOK_TP_BTF && !h->btf));
		if (h->btf)
			bpf_program__set_autoload(h->btf, h->flavour == HOOK_TP_BTF);
		if (h->classic)
			bpf_program__set_autoload(h->classic, h->flavour == HOOK_TRACEPOINT);
		if (verbose)
			fprintf(stderr, "note: %s:%s uses %s\n", h->category, h->name,
				hook_flavour_name(h->flavour));
	}
	return 0;
}

int loader_load(struct bpf_object_skeleton *skeleton)
{
	int err;

	last_warning[0] = '\0';
	program_rejected = false;
	err = bpf_object__load_skeleton(skeleton);
	if (!err)
		return 0;
	err = -err;
	if (err == EPERM && strstr(last_warning, "failed to iterate BTF objects")) {
		/* libbpf looks in modules' BTF for a type vmlinux lacks: a bug of ours */
		warnx("a CO-RE relocation names a type the kernel does not have, and looking for it "
		      "in kernel modules' BTF needs CAP_SYS_ADMIN: please report it with -v's output");
	} else if (err == EPERM) {
		warnx("the kernel refused to load the BPF programs (%s) although the privileges "
		      "look right: a lockdown or security module forbids it%s%s",
		      strerror(err), last_warning[0] ? "; libbpf said: " : "", last_warning);
	} else if (err == EACCES || err == EINVAL) {
		warnx("the kernel's verifier rejected the BPF programs (%s): rerun with -v for its "
		      "log, and please report it with the kernel version", strerror(err));
	} else if (err == E2BIG && program_rejected) {
		warnx("the kernel's verifier gave up on a BPF program (too complex for this kernel): "
		      "rerun with -v for its log, and please report it with the kernel version");
	} else if (err == ENOMEM || err == E2BIG) {
		warnx("not enough memory for the BPF maps (%s): check the memory cgroup limit",
		      strerror(err));
	} else {
		warnx("loading the BPF programs failed: %s%s%s (rerun with -v for libbpf's and "
		      "the verifier's log)",
		      strerror(err), last_warning[0] ? "; libbpf said: " : "", last_warning);
	}
	return -1;
}

static struct bpf_link *attach_hook(struct tp_hook *h)
{
	switch (h->flavour) {
	case HOOK_TP_BTF:
		return bpf_program__attach_trace(h->btf ? h->btf : h->raw);
	case HOOK_RAW_TP:
		return bpf_program__attach_raw_tracepoint(h->raw, h->name);
	case HOOK_TRACEPOINT:
		return bpf_program__attach_tracepoint(h->classic, h->category, h->name);
	default:
		errno = EINVAL;
		return NULL;
	}
}

int loader_attach_hooks(struct tp_hook *hooks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		hooks[i].link = attach_hook(&hooks[i]);
		if (!hooks[i].link) {
			int err = errno;

			warnx("attaching to tracepoint %s:%s (%s) failed: %s", hooks[i].category,
			      hooks[i].name, hook_flavour_name(hooks[i].flavour), strerror(err));
			loader_detach_hooks(hooks, i);
			return -1;
		}
	}
	return 0;
}

void loader_detach_hooks(struct tp_hook *hooks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bpf_link__destroy(hooks[i].link);
		hooks[i].link = NULL;
	}
}

/* bpf_prog_info.recursion_misses: a tracepoint that fires while its program is already
 * running on that CPU (an interrupt during the program) is not run again, only counted */
uint64_t loader_recursion_misses(const struct tp_hook *hooks, size_t n)
{
	uint64_t misses = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tp_hook *h = &hooks[i];
		const struct bpf_program *prog = h->flavour == HOOK_TRACEPOINT ? h->classic :
						 h->flavour == HOOK_TP_BTF && h->btf ? h->btf :
										     h->raw;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (prog && !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			misses += info.recursion_misses;
	}
	return misses;
}

int loader_run_iter(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[256];
	ssize_t n = -1;
	int fd;

	if (!link) {
		warn("attaching the iterator %s", bpf_program__name(prog));
		return -1;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		close(fd);
	}
	if (n < 0)
		warn("running the iterator %s", bpf_program__name(prog));
	bpf_link__destroy(link);
	return n < 0 ? -1 : 0;
}
