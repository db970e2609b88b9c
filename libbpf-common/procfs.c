// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "parse.h"
#include "procfs.h"

ssize_t proc_read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

int proc_read_line(const char *path, char *buf, size_t len)
{
	ssize_t n = proc_read_file(path, buf, len);

	if (n <= 0) {
		buf[0] = '\0';
		return n < 0 ? n : -EINVAL;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int proc_read_u64(const char *path, uint64_t *out)
{
	char line[32];
	int err = proc_read_line(path, line, sizeof(line));

	return err ? err : parse_u64(line, out);
}

enum proc_id_kind proc_id_kind(pid_t id, pid_t *tgid)
{
	char path[64], line[256];
	enum proc_id_kind kind = PROC_ID_NONE;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", id);
	f = fopen(path, "re");
	if (!f)
		return PROC_ID_NONE;
	while (fgets(line, sizeof(line), f)) {
		int v;

		if (sscanf(line, "Tgid: %d", &v) == 1) {
			*tgid = v;
			kind = v == id ? PROC_ID_PROCESS : PROC_ID_THREAD;
			break;
		}
	}
	fclose(f);
	return kind;
}

int proc_file_offset(pid_t pid, uintptr_t addr, char *path, size_t len, uint64_t *offset)
{
	char maps[64], line[4096 + 128];
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, pgoff;
		int name_at = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", &start, &end,
			   &pgoff, &name_at) < 3 || !name_at)
			continue;
		if (addr < start || addr >= end)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, len, "%s", line + name_at);
		*offset = addr - start + pgoff;
		err = path[0] == '/' ? 0 : -ENOENT;
		break;
	}
	fclose(f);
	return err;
}

void proc_comm(pid_t tid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", tid);
	if (proc_read_line(path, buf, len))
		snprintf(buf, len, "?");
}

int proc_thread_syscall(pid_t tid, long *nr, char *wchan, size_t wchan_len, char *state)
{
	char path[64], buf[512];
	int err;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	err = proc_read_file(path, buf, sizeof(buf));
	if (err < 0)
		return err;
	if (!isdigit((unsigned char)buf[0]))
		return -EAGAIN; /* "running" or "-1 ..." (not in a syscall) */
	*nr = strtol(buf, NULL, 10);

	snprintf(path, sizeof(path), "/proc/%d/wchan", tid);
	if (proc_read_file(path, wchan, wchan_len) < 0 || !strcmp(wchan, "0"))
		snprintf(wchan, wchan_len, "-");

	*state = proc_state(tid);
	return 0;
}

char proc_state(pid_t tid)
{
	char path[64], buf[512], *p;

	/* the field after the parenthesised command name, which may itself hold ')' */
	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	if (proc_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static int for_each_numeric_entry(const char *dir_path, int (*fn)(pid_t id, void *ctx), void *ctx)
{
	struct dirent *d;
	DIR *dir = opendir(dir_path);
	int ret = 0;

	if (!dir)
		return 0; /* the process is gone: no threads */
	while (!ret && (d = readdir(dir))) {
		char *end;
		long id = strtol(d->d_name, &end, 10);

		if (*end || id <= 0)
			continue;
		ret = fn(id, ctx);
	}
	closedir(dir);
	return ret;
}

struct thread_walk {
	pid_t pid;
	int (*fn)(pid_t pid, pid_t tid, void *ctx);
	void *ctx;
};

static int visit_thread(pid_t tid, void *ctx)
{
	struct thread_walk *w = ctx;

	return w->fn(w->pid, tid, w->ctx);
}

static int visit_process(pid_t pid, void *ctx)
{
	struct thread_walk w = *(struct thread_walk *)ctx;
	char path[64];

	w.pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	return for_each_numeric_entry(path, visit_thread, &w);
}

int proc_for_each_thread(pid_t pid, int (*fn)(pid_t pid, pid_t tid, void *ctx), void *ctx)
{
	struct thread_walk w = { .fn = fn, .ctx = ctx };

	if (pid)
		return visit_process(pid, &w);
	return for_each_numeric_entry("/proc", visit_process, &w);
}

bool proc_is_libc_name(const char *base)
{
	return !strncmp(base, "libc.so.", 8) ||
	       (!strncmp(base, "libc-", 5) && strstr(base, ".so") != NULL) ||
	       !strncmp(base, "ld-musl-", 8) || !strncmp(base, "libc.musl-", 10);
}

int proc_for_each_libc(pid_t pid, int (*fn)(const char *path, const char *reach, void *ctx),
		       void *ctx)
{
	char maps[64], line[PATH_MAX + 128], last[PATH_MAX] = "", reach[96];
	FILE *f;
	int ret = 0;

	if (!pid)
		pid = getpid();
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, '/');
		unsigned long start, end;

		if (!name || sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		name[strcspn(name, "\n")] = '\0';
		/* a library's mappings follow one another: the first one stands for it */
		if (!proc_is_libc_name(strrchr(name, '/') + 1) || !strcmp(name, last))
			continue;
		snprintf(last, sizeof(last), "%s", name);
		snprintf(reach, sizeof(reach), "/proc/%d/map_files/%lx-%lx", (int)pid, start, end);
		ret = fn(name, reach, ctx);
	}
	fclose(f);
	return ret;
}

pid_t proc_namespace_pid(pid_t pid)
{
	char path[64], line[256];
	pid_t nspid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		for (char *tok = strtok(line + 6, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
			nspid = atoi(tok);
		break;
	}
	fclose(f);
	return nspid;
}
