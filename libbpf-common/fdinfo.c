// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fdinfo.h"
#include "inet.h"

/* "tcp 10.0.0.1:443 -> 10.0.0.2:51234 ESTABLISHED", "udp 127.0.0.1:53" (unconnected) */
static void format_inet(char *buf, size_t len, const char *proto, const struct sock_info *s)
{
	bool v6 = s->family == AF_INET6, connected = s->remote_port != 0;
	char l[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8];
	int n;

	n = snprintf(buf, len, "%s%s %s", proto, v6 ? "6" : "",
		     inet_endpoint_format(l, sizeof(l), s->family, s->local_addr, s->local_port));
	if (connected && n < (int)len)
		n += snprintf(buf + n, len - n, " -> %s",
			      inet_endpoint_format(r, sizeof(r), s->family, s->remote_addr,
						   s->remote_port));
	if (!strcmp(proto, "tcp") && n < (int)len)
		snprintf(buf + n, len - n, " %s", tcp_state_name(s->state));
}

void sock_info_describe(const struct sock_info *s, char *buf, size_t len)
{
	const char *proto = s->protocol == IPPROTO_TCP ? "tcp" :
			    s->protocol == IPPROTO_UDP ? "udp" :
			    s->type == SOCK_RAW	       ? "raw" : "ip";

	if (s->family == AF_INET || s->family == AF_INET6)
		format_inet(buf, len, proto, s);
	else if (s->family == AF_UNIX)
		snprintf(buf, len, "unix socket");
	else
		snprintf(buf, len, "socket (family %u)", s->family);
}

/* "0100007F:0035" (IPv4, the bytes of the address as a host-order word) or 32 hex digits
 * (IPv6, four such words), as /proc/net/{tcp,udp}[6] write them */
static void parse_proc_address(const char *hex, bool v6, __u8 *addr, __u16 *port)
{
	const char *colon = strchr(hex, ':');
	unsigned int p = 0;

	for (int i = 0; i < (v6 ? 4 : 1); i++) {
		uint32_t word = 0;

		sscanf(hex + 8 * i, "%8" SCNx32, &word);
		memcpy(addr + 4 * i, &word, 4);
	}
	if (colon)
		sscanf(colon + 1, "%x", &p);
	*port = p;
}

int proc_inet_sockets(pid_t pid, const char *proto, bool v6,
		      int (*fn)(const struct sock_info *s, unsigned long inode, void *ctx), void *ctx)
{
	char path[64], line[512];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s%s", pid, proto, v6 ? "6" : "");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		struct sock_info s = { .family = v6 ? AF_INET6 : AF_INET };
		char local[64], remote[64];
		unsigned int state;
		unsigned long ino;

		if (sscanf(line, "%*d: %63s %63s %x %*s %*s %*s %*d %*d %lu", local, remote, &state,
			   &ino) != 4)
			continue;
		parse_proc_address(local, v6, s.local_addr, &s.local_port);
		parse_proc_address(remote, v6, s.remote_addr, &s.remote_port);
		s.state = state;
		s.protocol = !strcmp(proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
		ret = fn(&s, ino, ctx);
	}
	fclose(f);
	return ret;
}

struct inet_describe {
	unsigned long inode;
	const char *proto;
	char *buf;
	size_t len;
};

static int describe_if_inode(const struct sock_info *s, unsigned long inode, void *ctx)
{
	struct inet_describe *d = ctx;

	if (inode != d->inode)
		return 0;
	format_inet(d->buf, d->len, d->proto, s);
	return 1;
}

/* Looks for the socket inode in one of /proc/PID/net/{tcp,tcp6,udp,udp6} */
static bool describe_inet_socket(pid_t pid, unsigned long inode, const char *proto, bool v6,
				 char *buf, size_t len)
{
	struct inet_describe d = { .inode = inode, .proto = proto, .buf = buf, .len = len };

	return proc_inet_sockets(pid, proto, v6, describe_if_inode, &d) > 0;
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

static bool describe_socket(pid_t pid, unsigned long inode, char *buf, size_t len)
{
	static const char *const protos[] = { "tcp", "udp" };

	for (size_t i = 0; i < 2; i++)
		for (int v6 = 0; v6 < 2; v6++)
			if (describe_inet_socket(pid, inode, protos[i], v6, buf, len))
				return true;
	if (describe_unix_socket(pid, inode, buf, len))
		return true;
	snprintf(buf, len, "socket:[%lu]", inode);
	return false;
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

void fd_describe_inode(pid_t pid, int fd, unsigned long ino, unsigned int mode,
		       const struct sock_info *sock, char *buf, size_t len)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (!ino || (!stat(path, &st) && st.st_ino == ino)) {
		if (fd_describe(pid, fd, buf, len) && !(S_ISSOCK(mode) && !strncmp(buf, "socket:[", 8)))
			return;
	}
	/* closed, or reused for another file: what was noted while it was open */
	if (S_ISSOCK(mode) && sock && sock->family)
		sock_info_describe(sock, buf, len);
	else if (S_ISSOCK(mode))
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
