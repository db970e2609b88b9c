// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include "filters.h"
#include "procfs.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

static int check_targets(const struct target_opts *t)
{
	for (size_t i = 0; i < t->pids.len; i++) {
		pid_t id = t->pids.ids[i], tgid = 0;

		switch (proc_id_kind(id, &tgid)) {
		case PROC_ID_NONE:
			warnx("no process with PID %d", id);
			return -1;
		case PROC_ID_THREAD:
			warnx("%d is a thread of process %d, not a process: use -t %d or -p %d", id,
			      tgid, id, tgid);
			return -1;
		default:
			break;
		}
	}
	for (size_t i = 0; i < t->tids.len; i++) {
		pid_t tgid;

		if (proc_id_kind(t->tids.ids[i], &tgid) == PROC_ID_NONE) {
			warnx("no thread with TID %d", t->tids.ids[i]);
			return -1;
		}
	}
	return 0;
}

static pid_t max_id(const struct id_list *l)
{
	pid_t max = 0;

	for (size_t i = 0; i < l->len; i++)
		if (l->ids[i] > max)
			max = l->ids[i];
	return max;
}

uint32_t pid_max(void)
{
	uint64_t v;

	/* else the largest pid_max Linux allows */
	return proc_read_u64("/proc/sys/kernel/pid_max", &v) ? 4194304 : (uint32_t)v;
}

int filter_configure(struct filter_config *cfg, struct bpf_map *ids_map,
		     const struct target_opts *t)
{
	const struct id_list *ids = t->pids.len ? &t->pids : &t->tids;

	if (check_targets(t))
		return -1;
	memset(cfg, 0, sizeof(*cfg));
	cfg->self_tgid = getpid();
	cfg->ids_by = t->pids.len ? FILTER_IDS_TGID : t->tids.len ? FILTER_IDS_TID : FILTER_IDS_NONE;
	if (ids->len) {
		uint32_t limit = pid_max();

		if ((uint32_t)max_id(ids) >= limit)
			limit = max_id(ids) + 1;
		if (bpf_map__set_max_entries(ids_map, limit / 64 + 1))
			return -1;
	}
	if (t->comm) {
		cfg->comm_len = strlen(t->comm);
		memcpy(cfg->comm, t->comm, cfg->comm_len);
	}
	if (t->cgroup && cgroup_resolve(t->cgroup, &cfg->cgroup_id, &cfg->cgroup_level))
		return -1;
	return 0;
}

int filter_populate(struct bpf_map *ids_map, const struct filter_config *cfg,
		    const struct target_opts *t)
{
	const struct id_list *ids = cfg->ids_by == FILTER_IDS_TGID ? &t->pids : &t->tids;

	if (cfg->ids_by == FILTER_IDS_NONE)
		return 0;
	for (size_t i = 0; i < ids->len; i++) {
		uint32_t word = ids->ids[i] / 64;
		uint64_t bits = 0;

		bpf_map__lookup_elem(ids_map, &word, sizeof(word), &bits, sizeof(bits), 0);
		bits |= 1ULL << (ids->ids[i] % 64);
		if (bpf_map__update_elem(ids_map, &word, sizeof(word), &bits, sizeof(bits), 0)) {
			warn("setting up the ID filter");
			return -1;
		}
	}
	return 0;
}

void filter_describe(const struct target_opts *t, char *buf, size_t len)
{
	const struct id_list *ids = t->pids.len ? &t->pids : &t->tids;
	const char *what = t->pids.len ? "process" : "thread";
	int n;

	if (ids->len == 1)
		n = snprintf(buf, len, "%s %d", t->pids.len ? "PID" : "TID", ids->ids[0]);
	else if (ids->len)
		n = snprintf(buf, len, "%zu %ses", ids->len, what);
	else
		n = snprintf(buf, len, "all processes");
	if (n < 0 || (size_t)n >= len)
		return;
	if (t->comm)
		n += snprintf(buf + n, len - n, ", command %s", t->comm);
	if (n < 0 || (size_t)n >= len)
		return;
	if (t->cgroup)
		snprintf(buf + n, len - n, ", cgroup %s", t->cgroup);
}

int cgroup2_mount(char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mount_point[PATH_MAX], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) == 1) {
			snprintf(buf, len, "%s", mount_point);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static uint32_t path_depth(const char *relative)
{
	uint32_t depth = 0;

	for (const char *p = relative; *p; p++)
		if (*p != '/' && (p == relative || p[-1] == '/'))
			depth++;
	return depth;
}

int cgroup_resolve(const char *path, __u64 *id, __u32 *level)
{
	char mount[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX], real_mount[PATH_MAX];
	struct {
		struct file_handle fh;
		uint64_t cgid;
	} handle = { .fh.handle_bytes = sizeof(uint64_t) };
	struct statfs st;
	int mount_id;
	size_t mlen;

	if (cgroup2_mount(mount, sizeof(mount))) {
		warnx("--cgroup: no cgroup v2 hierarchy is mounted on this host");
		return -1;
	}
	if (!statfs(path, &st) && st.f_type == CGROUP2_SUPER_MAGIC)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", mount, path);
	if (!realpath(full, real) || !realpath(mount, real_mount) || statfs(real, &st) ||
	    st.f_type != CGROUP2_SUPER_MAGIC) {
		warnx("--cgroup %s: not a cgroup v2 directory (cgroup v2 is mounted at %s)", path,
		      mount);
		return -1;
	}
	mlen = strlen(real_mount);
	if (strncmp(real, real_mount, mlen) || (real[mlen] && real[mlen] != '/')) {
		warnx("--cgroup %s: not below the cgroup v2 mount %s", path, mount);
		return -1;
	}
	if (name_to_handle_at(AT_FDCWD, real, &handle.fh, &mount_id, 0)) {
		warn("--cgroup %s: cannot read its cgroup ID", path);
		return -1;
	}
	*id = handle.cgid;
	*level = path_depth(real + mlen);
	return 0;
}
