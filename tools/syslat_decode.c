// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include "errnos.h"
#include "syscalls.h"
#include "syslat_decode.h"
#include "parse.h"
#include "units.h"
#include "util.h"

/*
 * Argument layouts, one word per argument: fd, size (a byte count), n (any other count),
 * ms (a timeout in milliseconds, -1 is infinite), hex, futex_op, pollfds (the descriptors read
 * at entry) and '-' for arguments not worth printing; "kind:label" prints under another name.
 * A syscall not listed prints its first three arguments in hex.
 */
static const struct {
	const char *name;
	const char *layout;
} arg_layouts[] = {
	{ "read", "fd - size" },	   { "write", "fd - size" },
	{ "pread64", "fd - size" },	   { "pwrite64", "fd - size" },
	{ "readv", "fd - n:iovcnt" },
	{ "writev", "fd - n:iovcnt" },
	{ "recvfrom", "fd - size hex:flags" },
	{ "sendto", "fd - size hex:flags" },
	{ "recvmsg", "fd - hex:flags" },
	{ "sendmsg", "fd - hex:flags" },
	{ "recvmmsg", "fd - n:vlen hex:flags" },
	{ "sendmmsg", "fd - n:vlen hex:flags" },
	{ "accept", "fd" },
	{ "accept4", "fd - - hex:flags" },
	{ "connect", "fd" },
	{ "close", "fd" },
	{ "poll", "pollfds n:nfds ms" },
	{ "ppoll", "pollfds n:nfds" },
	{ "epoll_wait", "fd - n:maxevents ms" },
	{ "epoll_pwait", "fd - n:maxevents ms" },
	{ "epoll_pwait2", "fd - n:maxevents" },
	{ "select", "n:nfds" },
	{ "pselect6", "n:nfds" },
	{ "futex", "hex:uaddr futex_op n:val" },
	{ "fsync", "fd" },
	{ "fdatasync", "fd" },
	{ "flock", "fd hex:op" },
	{ "fcntl", "fd n:cmd" },
	{ "ioctl", "fd hex:request" },
	{ "sendfile", "fd:out_fd fd:in_fd - size" },
	{ "splice", "fd:fd_in - fd:fd_out - size" },
	{ "ftruncate", "fd size" },
	{ "getdents64", "fd - size" },
	{ "wait4", "n:pid" },
	{ "clock_nanosleep", "n:clockid hex:flags" },
	{ "shutdown", "fd n:how" },
};

/* Syscalls whose first argument is the descriptor they wait on or work with */
static const char *const fd_first[] = {
	"read",	    "write",	 "pread64",	 "pwrite64",	     "readv",	    "writev",
	"preadv",   "pwritev",	 "preadv2",	 "pwritev2",	     "recvfrom",    "sendto",
	"recvmsg",  "sendmsg",	 "recvmmsg",	 "sendmmsg",	     "accept",	    "accept4",
	"connect",  "epoll_wait", "epoll_pwait", "epoll_pwait2",     "fsync",	    "fdatasync",
	"flock",    "fcntl",	 "ioctl",	 "sendfile",	     "splice",	    "tee",
	"copy_file_range", "ftruncate", "fallocate", "getdents64", "sync_file_range", "close",
	"shutdown", "io_uring_enter", "epoll_ctl",
};

void syslat_fd_args(__u8 fd_arg[SYSLAT_MAX_NR])
{
	unsigned int nr;

	memset(fd_arg, SYSLAT_FD_NONE, SYSLAT_MAX_NR);
	for (size_t i = 0; i < ARRAY_LEN(fd_first); i++)
		if (!syscall_lookup(fd_first[i], &nr) && nr < SYSLAT_MAX_NR)
			fd_arg[nr] = SYSLAT_FD_ARG0;
	if (!syscall_lookup("poll", &nr) && nr < SYSLAT_MAX_NR)
		fd_arg[nr] = SYSLAT_FD_POLLFDS;
	if (!syscall_lookup("ppoll", &nr) && nr < SYSLAT_MAX_NR)
		fd_arg[nr] = SYSLAT_FD_POLLFDS;
}

static const struct {
	int op;
	const char *name;
} futex_ops[] = {
#define OP(x) { x, #x }
	OP(FUTEX_WAIT),		 OP(FUTEX_WAKE),	  OP(FUTEX_FD),
	OP(FUTEX_REQUEUE),	 OP(FUTEX_CMP_REQUEUE),	  OP(FUTEX_WAKE_OP),
	OP(FUTEX_LOCK_PI),	 OP(FUTEX_UNLOCK_PI),	  OP(FUTEX_TRYLOCK_PI),
	OP(FUTEX_WAIT_BITSET),	 OP(FUTEX_WAKE_BITSET),	  OP(FUTEX_WAIT_REQUEUE_PI),
	OP(FUTEX_CMP_REQUEUE_PI),
#undef OP
};

static int format_futex_op(char *buf, size_t len, int op)
{
	int cmd = op & FUTEX_CMD_MASK;

	for (size_t i = 0; i < ARRAY_LEN(futex_ops); i++)
		if (futex_ops[i].op == cmd)
			return snprintf(buf, len, "%s%s", futex_ops[i].name,
					op & FUTEX_PRIVATE_FLAG ? "_PRIVATE" : "");
	return snprintf(buf, len, "%d", op);
}

static int format_pollfds(char *buf, size_t len, const struct syslat_event *e)
{
	int n = snprintf(buf, len, "fds=[");

	for (int i = 0; i < SYSLAT_POLLFDS && e->pollfds[i] != SYSLAT_NO_FD; i++)
		n += snprintf(buf + n, n < (int)len ? len - n : 0, "%s%d", i ? "," : "",
			      e->pollfds[i]);
	if (e->args[1] > SYSLAT_POLLFDS)
		n += snprintf(buf + n, n < (int)len ? len - n : 0, ",...");
	return n + snprintf(buf + n, n < (int)len ? len - n : 0, "]");
}

static int format_arg(char *buf, size_t len, char *kind, const struct syslat_event *e, int i)
{
	unsigned long long v = e->args[i];
	char *label = strchr(kind, ':'), dur[16];

	if (label)
		*label++ = '\0';
	else
		label = kind;
	if (!strcmp(kind, "fd"))
		return snprintf(buf, len, "%s=%d", label, (int)v);
	if (!strcmp(kind, "size") || !strcmp(kind, "n"))
		return snprintf(buf, len, "%s=%lld", label, (long long)v);
	if (!strcmp(kind, "ms")) {
		if ((int)v < 0)
			return snprintf(buf, len, "timeout=inf");
		return snprintf(buf, len, "timeout=%s",
				format_duration(dur, sizeof(dur), (unsigned int)v * NSEC_PER_MSEC));
	}
	if (!strcmp(kind, "futex_op"))
		return format_futex_op(buf, len, (int)v);
	if (!strcmp(kind, "pollfds"))
		return format_pollfds(buf, len, e);
	return snprintf(buf, len, "%s=0x%llx", label == kind ? "arg" : label, v);
}

void syslat_format_args(const struct syslat_event *e, char *buf, size_t len)
{
	const char *name = syscall_name(e->nr), *layout = "hex:arg0 hex:arg1 hex:arg2";
	char copy[64], *save = NULL;
	size_t n = 0;
	int i = 0;

	buf[0] = '\0';
	for (size_t k = 0; name && k < ARRAY_LEN(arg_layouts); k++)
		if (!strcmp(arg_layouts[k].name, name))
			layout = arg_layouts[k].layout;
	snprintf(copy, sizeof(copy), "%s", layout);
	for (char *kind = strtok_r(copy, " ", &save); kind && i < 6 && n < len;
	     kind = strtok_r(NULL, " ", &save), i++) {
		if (!strcmp(kind, "-"))
			continue;
		if (n)
			buf[n++] = ' ';
		n += format_arg(buf + n, len - n, kind, e, i);
	}
	if (n >= len)
		buf[len - 1] = '\0';
}

void syslat_format_result(long long ret, char *buf, size_t len)
{
	const char *name = ret < 0 ? errno_name(-ret) : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%lld", ret);
}
