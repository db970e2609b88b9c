/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A process's mappings (/proc/PID/maps), and the files behind them, opened where they are. */
#ifndef STALLKIT_PROC_MAPS_H
#define STALLKIT_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_map {
	uint64_t start, end, pgoff, inode;
	unsigned int major, minor;
	char perms[5];
	char *path; /* points into the line parsed; "" for anonymous memory */
};

/* One line of /proc/PID/maps (the line is changed: its newline goes) */
bool proc_map_parse(char *line, struct proc_map *m);

/*
 * Calls fn for each mapping of pid, in address order (m->path lives until fn returns); stops
 * when fn returns non-zero, and returns that.  -errno if the mappings cannot be read.
 */
int proc_map_for_each(pid_t pid, int (*fn)(const struct proc_map *m, void *ctx), void *ctx);

/*
 * The file of a mapping, where it really is: /proc/PID/map_files/START-END, which works for
 * deleted files, memfd executables and a container's files; else /proc/PID/root/PATH, checked
 * against the inode the mapping names (open_path gets that path).  -1 if neither opens the file.
 */
int proc_map_open(pid_t pid, const struct proc_map *m, char *open_path, size_t len);

/* The mapping's memory, copied into a memfd (the vDSO, to be read like any other file) */
int proc_map_copy(pid_t pid, const struct proc_map *m);

#endif
