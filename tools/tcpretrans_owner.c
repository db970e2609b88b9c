// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "tcpretrans.h"
#include "tcpretrans_owner.h"
#include "fdinfo.h"
#include "parse.h"
#include "procfs.h"
#include "units.h"
#include "util.h"

#define RESCAN_NS (100 * NSEC_PER_MSEC) /* a rescan on a miss at most this often */

static int holder_cmp(const void *a, const void *b)
{
	const struct socket_holder *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void holder_add(struct socket_owners *o, uint64_t inode, pid_t pid)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 256;
		struct socket_holder *h = realloc(o->holders, cap * sizeof(*h));

		if (!h)
			return;
		o->holders = h;
		o->cap = cap;
	}
	o->holders[o->n++] = (struct socket_holder){ .inode = inode, .pid = pid };
}

static void scan_process(struct socket_owners *o, pid_t pid)
{
	char dir_path[64], link_path[320], target[64];
	struct dirent *d;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", pid);
	dir = opendir(dir_path);
	if (!dir)
		return; /* exited, or a kernel thread */
	while ((d = readdir(dir))) {
		unsigned long long inode;
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link_path, sizeof(link_path), "%s/%s", dir_path, d->d_name);
		n = readlink(link_path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%llu]", &inode) == 1)
			holder_add(o, inode, pid);
	}
	closedir(dir);
}

static void scan(struct socket_owners *o)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;

	o->n = 0;
	o->scanned_ns = monotonic_ns();
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		uint64_t pid;

		if (!parse_u64(d->d_name, &pid))
			scan_process(o, (pid_t)pid);
	}
	closedir(proc);
	if (o->n) /* holders is NULL until the first socket: qsort wants an array */
		qsort(o->holders, o->n, sizeof(*o->holders), holder_cmp);
}

static pid_t lookup(const struct socket_owners *o, uint64_t inode)
{
	size_t lo = 0, hi = o->n;

	/* the first holder of inode: the lowest PID */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->holders[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->n && o->holders[lo].inode == inode ? o->holders[lo].pid : 0;
}

pid_t socket_owner(struct socket_owners *o, uint64_t inode)
{
	pid_t pid;

	if (!inode)
		return 0;
	pid = lookup(o, inode);
	if (!pid && (!o->scanned_ns || monotonic_ns() - o->scanned_ns >= RESCAN_NS)) {
		scan(o);
		pid = lookup(o, inode);
	}
	return pid;
}

void socket_owners_free(struct socket_owners *o)
{
	free(o->holders);
	*o = (struct socket_owners){};
}

struct listener_scan {
	struct socket_owners *owners;
	int fd;
	uint32_t netns;
	bool (*wanted)(pid_t pid, const char *comm, void *ctx);
	void *ctx;
	size_t noted;
};

static int listener_note(const struct sock_info *s, unsigned long inode, void *ctx)
{
	struct listener_scan *l = ctx;
	struct tcpr_flow_key key = { .netns = l->netns };
	struct tcpr_owner owner = { .flow_noted = 1 };

	/* include/net/tcp_states.h */
	if (s->state != 10 /* TCP_LISTEN */)
		return 0;
	owner.pid = lookup(l->owners, inode);
	if (!owner.pid)
		return 0;
	proc_comm(owner.pid, owner.comm, sizeof(owner.comm));
	owner.passes = l->wanted(owner.pid, owner.comm, l->ctx);
	/* as bpf/tcpretrans.bpf.c notes a listener: its local end only */
	key.flow.family = s->family;
	key.flow.local_port = s->local_port;
	memcpy(key.flow.local_addr, s->local_addr, sizeof(key.flow.local_addr));
	l->noted += !bpf_map_update_elem(l->fd, &key, &owner, BPF_NOEXIST);
	return 0;
}

size_t listeners_note(struct socket_owners *o, int fd,
		      bool (*wanted)(pid_t pid, const char *comm, void *ctx), void *ctx)
{
	struct listener_scan l = { .owners = o, .fd = fd, .wanted = wanted, .ctx = ctx };
	uint32_t *seen;
	size_t nseen = 0;

	scan(o);
	seen = calloc(o->n + 1, sizeof(*seen)); /* namespaces: at most one per socket */
	if (!seen)
		return 0;
	/* each namespace once, read through a process in it */
	for (size_t i = 0; i < o->n; i++) {
		char path[64];
		struct stat st;
		bool known = false;

		snprintf(path, sizeof(path), "/proc/%d/ns/net", o->holders[i].pid);
		if (stat(path, &st))
			continue;
		for (size_t k = 0; k < nseen && !known; k++)
			known = seen[k] == st.st_ino;
		if (known)
			continue;
		seen[nseen++] = l.netns = st.st_ino;
		proc_inet_sockets(o->holders[i].pid, "tcp", false, listener_note, &l);
		proc_inet_sockets(o->holders[i].pid, "tcp", true, listener_note, &l);
	}
	free(seen);
	return l.noted;
}
