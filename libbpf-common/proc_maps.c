// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "proc_maps.h"

bool proc_map_parse(char *line, struct proc_map *m)
{
	int path_at = 0;

	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start,
		   &m->end, m->perms, &m->pgoff, &m->major, &m->minor, &m->inode, &path_at) < 7)
		return false;
	m->path = path_at ? line + path_at : line + strlen(line);
	return true;
}

int proc_map_for_each(pid_t pid, int (*fn)(const struct proc_map *m, void *ctx), void *ctx)
{
	char path[64], *line = NULL;
	size_t len = 0;
	struct proc_map m;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && getline(&line, &len, f) > 0)
		if (proc_map_parse(line, &m))
			ret = fn(&m, ctx);
	free(line);
	fclose(f);
	return ret;
}

int proc_map_open(pid_t pid, const struct proc_map *m, char *open_path, size_t len)
{
	char path[PATH_MAX + 64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, m->start,
		 m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (m->path[0] != '/')
		return -1;
	snprintf(open_path, len, "/proc/%d/root%s", pid, m->path);
	fd = open(open_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != m->inode ||
			st.st_dev != makedev(m->major, m->minor))) {
		close(fd); /* a file of that name, but not the one mapped (replaced since) */
		fd = -1;
	}
	return fd;
}

int proc_map_copy(pid_t pid, const struct proc_map *m)
{
	char path[64];
	size_t len = m->end - m->start;
	char *buf = malloc(len);
	int mem, fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (buf && mem >= 0 && pread(mem, buf, len, m->start) == (ssize_t)len) {
		fd = memfd_create("vdso", MFD_CLOEXEC);
		if (fd >= 0 && write(fd, buf, len) != (ssize_t)len) {
			close(fd);
			fd = -1;
		}
	}
	if (mem >= 0)
		close(mem);
	free(buf);
	return fd;
}
