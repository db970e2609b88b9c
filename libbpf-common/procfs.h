/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What /proc says about processes and threads. */
#ifndef STALLKIT_PROCFS_H
#define STALLKIT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum proc_id_kind {
	PROC_ID_NONE,	 /* no such process or thread */
	PROC_ID_PROCESS, /* a process (thread group leader) */
	PROC_ID_THREAD,	 /* a thread of another process */
};

/* A small file of /proc or /sys, whole (at most len - 1 bytes) and NUL-terminated: its
 * length, or -errno */
ssize_t proc_read_file(const char *path, char *buf, size_t len);
/* Its first line, without the newline: 0, or -errno with buf empty (-EINVAL: an empty file) */
int proc_read_line(const char *path, char *buf, size_t len);

/* The number alone in a file of /proc or /sys (a sysctl, say): 0, or -errno (-EINVAL: not a
 * number) */
int proc_read_u64(const char *path, uint64_t *out);

/* What the ID is; *tgid gets its process ID. */
enum proc_id_kind proc_id_kind(pid_t id, pid_t *tgid);

/* The file backing addr in pid's address space and the file offset of addr: 0 or -errno. */
int proc_file_offset(pid_t pid, uintptr_t addr, char *path, size_t len, uint64_t *offset);

/* The PID the process has in its own PID namespace (the last of NSpid in its status), pid
 * itself if that cannot be read */
pid_t proc_namespace_pid(pid_t pid);

/* The thread's command name (or "?"), without the newline. */
void proc_comm(pid_t tid, char *buf, size_t len);

/* The syscall the thread is blocked in, from /proc/TID/syscall: 0 with *nr set, -EAGAIN if it
 * is running, -errno otherwise.  Also its wait channel and state letter (R, S, D, ...). */
int proc_thread_syscall(pid_t tid, long *nr, char *wchan, size_t wchan_len, char *state);

/* The state letter of a process or thread (R, S, D, Z, ...), 0 if it does not exist. */
char proc_state(pid_t tid);

/* Calls fn for every thread of pid, or of every process when pid is 0; stops early when fn
 * returns non-zero and returns that. */
int proc_for_each_thread(pid_t pid, int (*fn)(pid_t pid, pid_t tid, void *ctx), void *ctx);

/* A C library's file name: glibc's libc.so.6 (libc-2.31.so), musl's ld-musl-x86_64.so.1 */
bool proc_is_libc_name(const char *basename);

/*
 * Calls fn once for each C library that pid maps (pid 0: this process), with its path as the
 * process sees it and a path that reaches the file from here (/proc/PID/map_files/..., which
 * also works for a container's files and deleted ones); stops when fn returns non-zero and
 * returns that.  -errno if the maps cannot be read.
 */
int proc_for_each_libc(pid_t pid, int (*fn)(const char *path, const char *reach, void *ctx),
		       void *ctx);

#endif
