// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host facts for stallcheck: everything that is read from a file or asked of the kernel
 * directly.  Nothing here changes the host: no mounts, no sysctl writes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include "filters.h"
#include "host.h"
#include "privileges.h"
#include "procfs.h"
#include "stallcheck.h"

#define SECURITYFS_MAGIC    0x73636673
#define CGROUP2_SUPER_MAGIC 0x63677270
#define TMPFS_MAGIC	    0x01021994

#define SECURITYFS "/sys/kernel/security"
#define LOCKDOWN   SECURITYFS "/lockdown"
#define BPF_STATS  "/proc/sys/kernel/bpf_stats_enabled"
#define KCONFIG_GZ "/proc/config.gz"

static bool fs_is(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == magic;
}

/* "none [integrity] confidentiality": the bracketed word is the current mode. */
static void read_lockdown(struct host_facts *h)
{
	char buf[128], *open, *close;
	FILE *f;

	if (!fs_is(SECURITYFS, SECURITYFS_MAGIC)) {
		snprintf(h->lockdown_why, sizeof(h->lockdown_why),
			 "securityfs is not mounted (mount -t securityfs securityfs " SECURITYFS
			 " to read " LOCKDOWN ")");
		return;
	}
	f = fopen(LOCKDOWN, "re");
	if (!f) {
		if (errno == ENOENT) {
			/* securityfs is there but the lockdown LSM did not register: no lockdown */
			h->lockdown_known = true;
			snprintf(h->lockdown, sizeof(h->lockdown), "none");
			snprintf(h->lockdown_why, sizeof(h->lockdown_why),
				 "the lockdown LSM is not active (no " LOCKDOWN ")");
		} else {
			snprintf(h->lockdown_why, sizeof(h->lockdown_why),
				 "reading " LOCKDOWN ": %s", strerror(errno));
		}
		return;
	}
	if (fgets(buf, sizeof(buf), f) && (open = strchr(buf, '[')) &&
	    (close = strchr(open, ']'))) {
		*close = '\0';
		h->lockdown_known = true;
		snprintf(h->lockdown, sizeof(h->lockdown), "%s", open + 1);
	} else {
		snprintf(h->lockdown_why, sizeof(h->lockdown_why),
			 LOCKDOWN " has no [current] mode in it");
	}
	fclose(f);
}

/*
 * The mode the kernel is built to force at boot (it can only be raised later), for when
 * securityfs cannot tell the current one.
 */
static void read_lockdown_config(struct host_facts *h)
{
	static const char prefix[] = "CONFIG_LOCK_DOWN_KERNEL_FORCE_";
	bool lsm_built = false;
	char line[512];
	gzFile gz;

	errno = 0;
	gz = gzopen(KCONFIG_GZ, "rb");
	if (!gz) {
		snprintf(h->lockdown_config_why, sizeof(h->lockdown_config_why),
			 KCONFIG_GZ " is not readable (%s; CONFIG_IKCONFIG_PROC is not set?)",
			 errno ? strerror(errno) : "not gzip");
		return;
	}
	while (gzgets(gz, line, sizeof(line))) {
		char *eq, *mode;
		size_t i;

		if (!strncmp(line, "CONFIG_SECURITY_LOCKDOWN_LSM=y", 30))
			lsm_built = true;
		if (strncmp(line, prefix, sizeof(prefix) - 1))
			continue;
		eq = strstr(line, "=y");
		if (!eq)
			continue;
		*eq = '\0';
		mode = line + sizeof(prefix) - 1;
		for (i = 0; mode[i] && i + 1 < sizeof(h->lockdown_config); i++)
			h->lockdown_config[i] = tolower((unsigned char)mode[i]);
		h->lockdown_config[i] = '\0';
	}
	gzclose(gz);
	if (!lsm_built) {
		snprintf(h->lockdown_config, sizeof(h->lockdown_config), "none");
		snprintf(h->lockdown_config_why, sizeof(h->lockdown_config_why),
			 "CONFIG_SECURITY_LOCKDOWN_LSM is not set");
	} else if (!h->lockdown_config[0]) {
		snprintf(h->lockdown_config_why, sizeof(h->lockdown_config_why),
			 "no CONFIG_LOCK_DOWN_KERNEL_FORCE_* is set in " KCONFIG_GZ);
	}
}

/*
 * Read the sysctl first: while the BPF_ENABLE_STATS descriptor below is open, the sysctl
 * reads 1.  That command turns stats on only for as long as its descriptor lives, so trying
 * it leaves the host as it was.
 */
static void read_bpf_stats(struct host_facts *h)
{
	uint64_t on;
	int fd;

	h->stats_enabled = proc_read_u64(BPF_STATS, &on) ? -1 : (int)on;
	h->stats_sysctl_writable = access(BPF_STATS, W_OK) == 0;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd >= 0) {
		h->stats_can_enable = true;
		close(fd);
		return;
	}
	if (fd == -EPERM)
		snprintf(h->stats_why, sizeof(h->stats_why),
			 "BPF_ENABLE_STATS was refused (EPERM): it needs CAP_SYS_ADMIN");
	else if (fd == -EINVAL)
		snprintf(h->stats_why, sizeof(h->stats_why),
			 "BPF_ENABLE_STATS is not supported (Linux 5.8+ has it)");
	else
		snprintf(h->stats_why, sizeof(h->stats_why), "BPF_ENABLE_STATS failed: %s",
			 strerror(-fd));
}

/*
 * Whether /proc/kallsyms shows this process the kernel's addresses (kernel.kptr_restrict,
 * kernel.perf_event_paranoid and CAP_SYSLOG decide): the first text symbol's is never 0.
 */
static bool kallsyms_visible(void)
{
	char line[512], type;
	unsigned long long addr;
	bool visible = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c", &addr, &type) == 2 && (type == 'T' || type == 't')) {
			visible = addr != 0;
			break;
		}
	}
	fclose(f);
	return visible;
}

static void read_caps(struct host_facts *h)
{
	h->caps_known = privileges_effective(&h->caps);
	h->kallsyms_visible = kallsyms_visible();
}

/*
 * systemd's test: /sys/fs/cgroup is cgroup2 itself (unified), or a tmpfs holding the v1
 * controllers, with or without a v2 tree beside them (hybrid or legacy).
 */
static void read_cgroups(struct host_facts *h)
{
	bool v1_layout = fs_is("/sys/fs/cgroup", TMPFS_MAGIC);

	h->cgroup2 = cgroup2_mount(h->cgroup2_path, sizeof(h->cgroup2_path)) == 0;
	if (!h->cgroup2)
		h->cgroup_hierarchy = v1_layout ? "legacy" : "none";
	else
		h->cgroup_hierarchy = v1_layout ? "hybrid" : "unified";
}

void host_collect(struct host_facts *h)
{
	struct stat st;

	memset(h, 0, sizeof(*h));
	uname(&h->uts);
	h->btf = stat("/sys/kernel/btf/vmlinux", &st) == 0;
	read_lockdown(h);
	read_lockdown_config(h);
	h->tracefs = tracefs_mount_point();
	read_bpf_stats(h);
	read_caps(h);
	read_cgroups(h);
}
