// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fdinfo.h"

static const char *const tcp_states[] = {
	"?",	      "ESTABLISHED", "SYN_SENT",   "SYN_RECV",	"FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT",  "CLOSE",	     "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
	"NEW_SYN_RECV",
};

/* "0100007F:0035" (IPv4) or 32 hex digits (IPv6), as /proc/net/{tcp,udp}[6] write them */
static void format_proc_address(const char *hex, bool v6, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;
	const char *colon = strchr(hex, ':');

	if (!colon)
		return (void)snprintf(buf, len, "?");
	sscanf(colon + 1, "%x", &port);
	if (v6) {
		uint32_t words[4];

		for (int i = 0; i < 4; i++)
			sscanf(hex + 8 * i, "%8" SCNx32, &words[i]);
		inet_ntop(AF_INET6, words, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		uint32_t addr;

		sscanf(hex, "%8" SCNx32, &addr);
		inet_ntop(AF_INET, &addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, port);
	}
}

/* Looks for the socket inode in one of /proc/PID/net/{tcp,tcp6,udp,udp6} */
static bool describe_inet_socket(pid_t pid, unsigned long inode, const char *proto, bool v6,
				 char *buf, size_t len)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s%s", pid, proto, v6 ? "6" : "");
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char local[64], remote[64], l[80], r[80];
		unsigned int state;
		unsigned long ino;

		if (sscanf(line, "%*d: %63s %63s %x %*s %*s %*s %*d %*d %lu", local, remote, &state,
			   &ino) != 4 || ino != inode)
			continue;
		format_proc_address(local, v6, l, sizeof(l));
		format_proc_address(remote, v6, r, sizeof(r));
		if (!strcmp(proto, "tcp"))
			snprintf(buf, len, "tcp%s %s -> %s %s", v6 ? "6" : "", l, r,
				 state < sizeof(tcp_states) / sizeof(tcp_states[0]) ?
					 tcp_states[state] : "?");
		else if (strchr(remote, ':') && strspn(remote, "0:") == strlen(remote))
			snprintf(buf, len, "%s%s %s", proto, v6 ? "6" : "", l);
		else
			snprintf(buf, len, "%s%s %s -> %s", proto, v6 ? "6" : "", l, r);
		found = true;
	}
	fclose(f);
	return found;
}

static bool describe_unix_socket(pid_t pid, unsigned long inode, char *buf, size_t len)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long ino;
		int name_at = 0;

		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %n", &ino, &name_at) < 1 ||
		    ino != inode)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "unix %s", name_at && line[name_at] ? line + name_at : "(unnamed)");
		found = true;
	}
	fclose(f);
	return found;
}

static void describe_socket(pid_t pid, unsigned long inode, char *buf, size_t len)
{
	static const char *const protos[] = { "tcp", "udp" };

	for (size_t i = 0; i < 2; i++)
		for (int v6 = 0; v6 < 2; v6++)
			if (describe_inet_socket(pid, inode, protos[i], v6, buf, len))
				return;
	if (describe_unix_socket(pid, inode, buf, len))
		return;
	snprintf(buf, len, "socket:[%lu]", inode);
}

/* The descriptors an epoll instance watches ("tfd:" lines of its fdinfo) */
static void describe_epoll(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64], line[256];
	size_t n = snprintf(buf, len, "epoll");
	int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n < len) {
		int tfd;

		if (sscanf(line, "tfd: %d", &tfd) != 1)
			continue;
		n += snprintf(buf + n, len - n, "%s%d", count++ ? "," : " (fds ", tfd);
	}
	if (count && n < len)
		snprintf(buf + n, len - n, ")");
	fclose(f);
}

void fd_describe_inode(pid_t pid, int fd, unsigned long ino, unsigned int mode, char *buf,
		       size_t len)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (!ino || (!stat(path, &st) && st.st_ino == ino)) {
		fd_describe(pid, fd, buf, len);
		return;
	}
	if (S_ISSOCK(mode))
		describe_socket(pid, ino, buf, len);
	else if (S_ISFIFO(mode))
		snprintf(buf, len, "pipe:[%lu]", ino);
	else
		snprintf(buf, len, "inode %lu (descriptor since closed)", ino);
}

bool fd_describe(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64], target[4096];
	unsigned long inode;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		snprintf(buf, len, access(path, F_OK) ? "(process exited)" : "(closed)");
		return false;
	}
	target[n] = '\0';
	if (sscanf(target, "socket:[%lu]", &inode) == 1) {
		describe_socket(pid, inode, buf, len);
	} else if (!strcmp(target, "anon_inode:[eventpoll]")) {
		describe_epoll(pid, fd, buf, len);
	} else if (!strncmp(target, "anon_inode:", 11)) {
		/* anon_inode:[eventfd] -> eventfd */
		const char *kind = target + 11;
		int klen = strlen(kind);

		if (klen >= 2 && kind[0] == '[' && kind[klen - 1] == ']')
			snprintf(buf, len, "%.*s", klen - 2, kind + 1);
		else
			snprintf(buf, len, "%s", kind);
	} else {
		snprintf(buf, len, "%s", target);
	}
	return true;
}
