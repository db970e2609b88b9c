// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "dnsblock.h"
#include "dnsblock_probes.h"
#include "dnsblock_wire.h"
#include "filters.h"
#include "procfs.h"

/* A C library already probed: uprobes attach to a file, whichever process maps it */
struct library {
	dev_t dev;
	ino_t ino;
};

struct probing {
	struct dns_probes *p;
	struct bpf_program *enter, *exit;
	struct library *seen;
	size_t nseen, cap;
	bool verbose;
	int error; /* of the first library that could not be probed at all */
};

static int links_add(struct dns_probes *p, struct bpf_link *link)
{
	if (p->nlinks == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct bpf_link **links = realloc(p->links, cap * sizeof(*links));

		if (!links) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		p->links = links;
		p->cap = cap;
	}
	p->links[p->nlinks++] = link;
	return 0;
}

static bool library_seen(struct probing *pr, const struct stat *st)
{
	struct library *seen;

	for (size_t i = 0; i < pr->nseen; i++)
		if (pr->seen[i].dev == st->st_dev && pr->seen[i].ino == st->st_ino)
			return true;
	if (pr->nseen == pr->cap) {
		size_t cap = pr->cap ? 2 * pr->cap : 8;

		seen = realloc(pr->seen, cap * sizeof(*seen));
		if (!seen)
			return true;
		pr->seen = seen;
		pr->cap = cap;
	}
	pr->seen[pr->nseen++] = (struct library){ st->st_dev, st->st_ino };
	return false;
}

/* Entry and return probes of one function; -ENOENT if the library has no such function */
static int probe_function(struct probing *pr, const char *reach, enum dns_api api)
{
	for (int ret = 0; ret <= 1; ret++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = dns_api_name(api),
			    .retprobe = ret, .bpf_cookie = api);
		struct bpf_link *link;
		int err;

		link = bpf_program__attach_uprobe_opts(ret ? pr->exit : pr->enter, -1, reach, 0,
						       &opts);
		err = link ? 0 : -errno;
		if (!err)
			err = links_add(pr->p, link);
		if (err)
			return err;
	}
	return 0;
}

static int probe_library(const char *path, const char *reach, void *ctx)
{
	struct probing *pr = ctx;
	int probed = 0, err = 0;
	struct stat st;

	if (stat(reach, &st) || library_seen(pr, &st))
		return 0;
	for (int api = 0; api < DNS_API_COUNT; api++) {
		int e = probe_function(pr, reach, api);

		if (!e)
			probed++;
		else if (e != -ENOENT && !err)
			err = e;
	}
	if (pr->verbose)
		fprintf(stderr, "note: resolver probes on %s: %d of %d functions\n", path, probed,
			DNS_API_COUNT);
	if (probed)
		pr->p->libraries++;
	else if (!pr->error)
		pr->error = err ? err : -ENOENT;
	return 0;
}

static void probe_process(struct probing *pr, pid_t pid)
{
	proc_for_each_libc(pid, probe_library, pr);
}

static void probe_every_process(struct probing *pr)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc)))
		if (isdigit((unsigned char)de->d_name[0]))
			probe_process(pr, atoi(de->d_name));
	closedir(proc);
}

int resolver_probes_attach(struct dns_probes *p, struct bpf_program *enter,
			   struct bpf_program *exit, const struct target_opts *targets,
			   bool verbose)
{
	struct probing pr = { .p = p, .enter = enter, .exit = exit, .verbose = verbose };

	/* the host's libc first (this process maps it): processes that start later use it */
	probe_process(&pr, 0);
	if (!p->libraries) {
		free(pr.seen);
		warnx("cannot probe the C library's resolver functions: %s",
		      strerror(pr.error ? -pr.error : ENOENT));
		return -1;
	}
	if (!targets->pids.len && !targets->tids.len)
		probe_every_process(&pr);
	for (size_t i = 0; i < targets->pids.len; i++)
		probe_process(&pr, targets->pids.ids[i]);
	for (size_t i = 0; i < targets->tids.len; i++) {
		pid_t tgid;

		if (proc_id_kind(targets->tids.ids[i], &tgid) != PROC_ID_NONE)
			probe_process(&pr, tgid);
	}
	free(pr.seen);
	return 0;
}

int wire_probes_attach(struct dns_probes *p, struct bpf_program *egress,
		       struct bpf_program *ingress, bool verbose)
{
	struct bpf_link *out, *in;
	char root[4096];
	int fd;

	if (cgroup2_mount(root, sizeof(root))) {
		warnx("DNS messages cannot be seen: no cgroup v2 hierarchy is mounted "
		      "(mount -t cgroup2 none /sys/fs/cgroup/unified)");
		return -1;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		warn("opening the cgroup v2 root %s", root);
		return -1;
	}
	out = bpf_program__attach_cgroup(egress, fd);
	in = out ? bpf_program__attach_cgroup(ingress, fd) : NULL;
	if (!in) {
		warnx("attaching the DNS message programs to the cgroup v2 root %s: %s", root,
		      strerror(errno));
		bpf_link__destroy(out);
		close(fd);
		return -1;
	}
	close(fd);
	if (links_add(p, out) || links_add(p, in))
		return -1;
	p->wire = true;
	if (verbose)
		fprintf(stderr, "note: DNS messages seen at the cgroup v2 root %s\n", root);
	return 0;
}

void dns_probes_detach(struct dns_probes *p)
{
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	memset(p, 0, sizeof(*p));
}
