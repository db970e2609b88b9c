// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Who ran a session, how, on what: the facts a capture's metadata and an audit line share. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "procfs.h"
#include "session_facts.h"

/* The person behind the session: sudo's caller, else the login user, else the uid.  SUDO_USER
 * is believed from root only, and not in a program run with file capabilities: anyone else could
 * set it to anything. */
void facts_user(struct json *j)
{
	const char *sudo = getuid() == 0 ? secure_getenv("SUDO_USER") : NULL;
	char buf[32];
	uid_t uid = getuid();
	struct passwd *pw;

	proc_read_line("/proc/self/loginuid", buf, sizeof(buf));
	if (*buf && strcmp(buf, "4294967295"))
		uid = strtoul(buf, NULL, 10);
	pw = getpwuid(uid);
	json_str(j, "user", sudo && *sudo ? sudo : pw ? pw->pw_name : NULL);
	json_u64(j, "uid", uid);
	if (sudo && *sudo)
		json_str(j, "sudo_user", sudo);
}

/* /proc/PID/cmdline (self: as typed; argp reorders argv's pointers, not the strings): its
 * length, or 0 with buf empty */
static size_t read_cmdline(const char *pid, char *buf)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	n = proc_read_file(path, buf, FACTS_CMDLINE_MAX);
	return n > 0 ? n : 0;
}

/* A target's command line, its NULs as spaces */
static void target_cmdline(struct json *j, pid_t pid, char *buf)
{
	char id[16];
	size_t n;

	snprintf(id, sizeof(id), "%d", pid);
	n = read_cmdline(id, buf);
	for (size_t i = 0; i + 1 < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	json_str(j, "cmdline", n ? buf : NULL);
}

void facts_argv(struct json *j, char *buf)
{
	size_t n = read_cmdline("self", buf);

	json_array_begin(j, "argv");
	for (size_t at = 0; at < n; at += strlen(buf + at) + 1)
		json_str(j, NULL, buf + at);
	json_array_end(j);
}

void facts_targets(struct json *j, const struct target_opts *t, char *buf)
{
	const struct id_list *lists[] = { &t->pids, &t->tids };
	char comm[32];

	json_array_begin(j, "targets");
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->len; i++) {
			pid_t id = lists[l]->ids[i];

			json_object_begin(j, NULL);
			json_u64(j, l ? "tid" : "pid", id);
			proc_comm(id, comm, sizeof(comm));
			json_str(j, "comm", *comm ? comm : NULL);
			target_cmdline(j, id, buf);
			json_object_end(j);
		}
	}
	json_array_end(j);
	json_str(j, "comm_filter", t->comm);
	json_str(j, "cgroup_filter", t->cgroup);
}

void facts_time(struct json *j, const char *key, const struct timespec *ts)
{
	char buf[64], iso[40];
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%03ldZ", iso, ts->tv_nsec / 1000000);
	json_str(j, key, buf);
}

void facts_tags(struct json *j, const char *const *tags, size_t ntags)
{
	char key[256];

	json_object_begin(j, "tags");
	for (size_t i = 0; i < ntags; i++) {
		const char *eq = strchr(tags[i], '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - tags[i]), tags[i]);
		json_str(j, key, eq + 1);
	}
	json_object_end(j);
}
