// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing a capture: the options, the metadata, the report streams, the atomic file. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "capture.h"
#include "json.h"
#include "parse.h"
#include "procfs.h"
#include "units.h"
#include "util.h"

enum {
	OPT_TAG = 0x200,
	OPT_REASON,
};

static const struct argp_option capture_options[] = {
	{ "output", 'o', "FILE", 0,
	  "Also write a capture of the session to FILE, for stallreport", 0 },
	{ "tag", OPT_TAG, "KEY=VALUE", 0,
	  "Label the capture (repeatable): --tag commit=4f2a --tag deploy=canary-3", 0 },
	{ "reason", OPT_REASON, "TEXT", 0, "Why this session runs (kept in the capture)", 0 },
	{},
};

static bool valid_tag(const char *tag)
{
	const char *eq = strchr(tag, '=');

	if (!eq || eq == tag)
		return false;
	for (const char *p = tag; p < eq; p++)
		if (!(*p == '_' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

static error_t parse_capture(int key, char *arg, struct argp_state *state)
{
	struct capture_opts *o = state->input;
	const char **tags;

	switch (key) {
	case 'o':
		if (!*arg)
			argp_error(state, "-o: the capture needs a file name");
		o->path = arg;
		break;
	case OPT_TAG:
		if (!valid_tag(arg))
			argp_error(state, "--tag '%s': expected KEY=VALUE, KEY of letters, digits, "
				   "'_', '-' and '.'", arg);
		tags = realloc(o->tags, (o->ntags + 1) * sizeof(*tags));
		if (!tags)
			argp_failure(state, EXIT_RUNTIME, ENOMEM, "--tag");
		tags[o->ntags++] = arg;
		o->tags = tags;
		break;
	case OPT_REASON:
		o->reason = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp capture_argp = { capture_options, parse_capture, NULL, NULL, NULL, NULL, NULL };

void capture_opts_free(struct capture_opts *o)
{
	free(o->tags);
	o->tags = NULL;
	o->ntags = 0;
}

/* A stream of report lines into the capture, echoed to stdout if the user reads that form */
struct line_sink {
	struct capture *c;
	bool json; /* each line a JSON value: a record of its own; else text */
	bool echo;
	char *pending;
	size_t len, cap;
};

struct capture {
	char *path, *temp;
	int fd;
	gzFile gz;
	FILE *records; /* writes into gz */
	struct json j;
	uint64_t start_mono;
	struct line_sink sinks[2]; /* text, JSON */
	FILE *streams[2];
};

static ssize_t gz_write(void *cookie, const char *buf, size_t n)
{
	return n && gzwrite(cookie, buf, n) == 0 ? -1 : (ssize_t)n;
}

static void record_begin(struct capture *c, const char *section)
{
	json_init(&c->j, c->records);
	json_object_begin(&c->j, NULL);
	json_str(&c->j, "section", section);
}

static void record_end(struct capture *c)
{
	json_object_end(&c->j);
	json_line_end(&c->j);
}

/* Where the next record ends: after one JSON line, or after the last complete text line (all:
 * at the end of what is pending) */
static size_t sink_record_end(const struct line_sink *s, size_t from, bool all)
{
	const char *p = s->pending + from;
	size_t n = s->len - from;
	const char *nl = s->json ? memchr(p, '\n', n) : memrchr(p, '\n', n);

	return nl ? (size_t)(nl - s->pending) + 1 : all ? s->len : from;
}

/* The complete lines pending become records: one per JSON line, one for text lines */
static void sink_emit(struct line_sink *s, bool all)
{
	size_t done = 0, end;

	while (done < s->len && (end = sink_record_end(s, done, all)) > done) {
		size_t n = end - done;
		char saved;

		while (s->json && n && s->pending[done + n - 1] == '\n')
			n--;
		if (!n) { /* a blank line between JSON values */
			done = end;
			continue;
		}
		saved = s->pending[done + n];
		s->pending[done + n] = '\0'; /* pending always has room for it */
		record_begin(s->c, s->json ? "json" : "text");
		if (s->json)
			json_raw(&s->c->j, "data", s->pending + done);
		else
			json_str(&s->c->j, "data", s->pending + done);
		record_end(s->c);
		s->pending[done + n] = saved;
		done = end;
	}
	memmove(s->pending, s->pending + done, s->len - done);
	s->len -= done;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct line_sink *s = cookie;

	if (s->echo && (fwrite(buf, 1, n, stdout) != n || fflush(stdout)))
		return -1;
	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->len + n + 1) * 2;
		char *p = realloc(s->pending, cap);

		if (!p)
			return -1;
		s->pending = p;
		s->cap = cap;
	}
	memcpy(s->pending + s->len, buf, n);
	s->len += n;
	sink_emit(s, false);
	return n;
}

static int sink_close(void *cookie)
{
	struct line_sink *s = cookie;

	sink_emit(s, true);
	free(s->pending);
	s->pending = NULL;
	return 0;
}

/* The person behind the session: sudo's caller, else the login user, else the uid */
static void json_user(struct json *j)
{
	const char *sudo = getenv("SUDO_USER");
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

#define CMDLINE_MAX (256 << 10)

/* /proc/PID/cmdline (self: as typed; argp reorders argv's pointers, not the strings): its
 * length, or 0 with buf empty */
static size_t read_cmdline(const char *pid, char *buf)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	n = proc_read_file(path, buf, CMDLINE_MAX);
	return n > 0 ? n : 0;
}

/* A target's command line, its NULs as spaces */
static void json_cmdline(struct json *j, pid_t pid, char *buf)
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

static void json_argv(struct json *j, char *buf)
{
	size_t n = read_cmdline("self", buf);

	json_array_begin(j, "argv");
	for (size_t at = 0; at < n; at += strlen(buf + at) + 1)
		json_str(j, NULL, buf + at);
	json_array_end(j);
}

static void json_targets(struct json *j, const struct target_opts *t, char *buf)
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
			json_cmdline(j, id, buf);
			json_object_end(j);
		}
	}
	json_array_end(j);
	json_str(j, "comm_filter", t->comm);
	json_str(j, "cgroup_filter", t->cgroup);
}

static void json_time(struct json *j, const char *key, const struct timespec *ts)
{
	char buf[64], iso[40];
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%03ldZ", iso, ts->tv_nsec / 1000000);
	json_str(j, key, buf);
}

static void write_meta(struct capture *c, const struct capture_opts *o, const char *tool,
		       const struct target_opts *targets)
{
	static char cmdline[CMDLINE_MAX];
	struct utsname u;
	struct timespec now;
	char buf[256];

	clock_gettime(CLOCK_REALTIME, &now);
	record_begin(c, "meta");
	json_str(&c->j, "format", CAPTURE_FORMAT);
	snprintf(buf, sizeof(buf), "%d.%d", CAPTURE_VERSION_MAJOR, CAPTURE_VERSION_MINOR);
	json_str(&c->j, "version", buf);
	json_str(&c->j, "tool", tool);
	json_str(&c->j, "stallkit_version", STALLKIT_VERSION);
	json_argv(&c->j, cmdline);
	gethostname(buf, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	json_str(&c->j, "host", buf);
	json_str(&c->j, "kernel", uname(&u) ? NULL : u.release);
	proc_read_line("/proc/sys/kernel/random/boot_id", buf, sizeof(buf));
	json_str(&c->j, "boot_id", buf);
	json_time(&c->j, "start_time", &now);
	json_u64(&c->j, "start_unix_ns", now.tv_sec * NSEC_PER_SEC + now.tv_nsec);
	json_user(&c->j);
	json_str(&c->j, "reason", o->reason);
	json_object_begin(&c->j, "tags");
	for (size_t i = 0; i < o->ntags; i++) {
		const char *eq = strchr(o->tags[i], '=');

		snprintf(buf, sizeof(buf), "%.*s", (int)(eq - o->tags[i]), o->tags[i]);
		json_str(&c->j, buf, eq + 1);
	}
	json_object_end(&c->j);
	json_targets(&c->j, targets, cmdline);
	record_end(c);
}

static int open_temp(struct capture *c, const char *path)
{
	char *copy = strdup(path), *dir, *base;

	if (!copy)
		return -1;
	dir = dirname(copy);
	base = basename((char *)path);
	c->path = strdup(path);
	if (!c->path || asprintf(&c->temp, "%s/.%s.XXXXXX", dir, base) < 0) {
		c->temp = NULL;
		free(copy);
		return -1;
	}
	free(copy);
	c->fd = mkostemp(c->temp, O_CLOEXEC);
	if (c->fd < 0) {
		free(c->temp);
		c->temp = NULL;
		return -1;
	}
	return fchmod(c->fd, 0600);
}

int capture_begin(struct capture **out, const struct capture_opts *o, const char *tool,
		  const struct target_opts *targets)
{
	struct capture *c;
	int gzfd;

	*out = NULL;
	if (!o->path)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->fd = -1;
	if (open_temp(c, o->path)) {
		fprintf(stderr, "%s: capture %s: %s\n", tool, o->path, strerror(errno));
		capture_abort(c);
		return -1;
	}
	gzfd = dup(c->fd);
	c->gz = gzfd < 0 ? NULL : gzdopen(gzfd, "wb6");
	c->records = c->gz ? fopencookie(c->gz, "w", (cookie_io_functions_t){ .write = gz_write })
			   : NULL;
	if (!c->records) {
		if (gzfd >= 0 && !c->gz)
			close(gzfd);
		fprintf(stderr, "%s: capture %s: %s\n", tool, o->path, strerror(errno));
		capture_abort(c);
		return -1;
	}
	c->start_mono = monotonic_ns();
	write_meta(c, o, tool, targets);
	*out = c;
	return 0;
}

void capture_streams(struct capture *c, bool print_json, bool print_other,
		     struct report_streams *s)
{
	bool print_text = !print_json && !print_other;

	if (!c) {
		s->text = print_text ? stdout : NULL;
		s->json = print_json ? stdout : NULL;
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct line_sink *sink = &c->sinks[i];

		if (c->streams[i])
			continue;
		*sink = (struct line_sink){ .c = c, .json = i == 1,
					    .echo = i ? print_json : print_text };
		c->streams[i] = fopencookie(sink, "w", (cookie_io_functions_t){
						    .write = sink_write, .close = sink_close });
	}
	/* out of memory: the forms the user reads still go to stdout */
	s->text = c->streams[0] ? c->streams[0] : print_text ? stdout : NULL;
	s->json = c->streams[1] ? c->streams[1] : print_json ? stdout : NULL;
}

static void close_streams(struct capture *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->streams[i])
			fclose(c->streams[i]);
		c->streams[i] = NULL;
	}
}

static void write_end(struct capture *c, const char *end_reason)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	record_begin(c, "end");
	json_time(&c->j, "end_time", &now);
	json_u64(&c->j, "end_unix_ns", now.tv_sec * NSEC_PER_SEC + now.tv_nsec);
	json_u64(&c->j, "duration_ns", monotonic_ns() - c->start_mono);
	json_str(&c->j, "end_reason", end_reason);
	record_end(c);
}

static int sync_directory(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	return ret;
}

int capture_end(struct capture *c, const char *end_reason)
{
	int err = 0;

	if (!c)
		return 0;
	close_streams(c);
	write_end(c, end_reason);
	if (fflush(c->records) || ferror(c->records))
		err = errno ? errno : EIO;
	fclose(c->records);
	c->records = NULL;
	if (gzclose(c->gz) != Z_OK && !err)
		err = errno ? errno : EIO;
	c->gz = NULL;
	if (!err && fsync(c->fd))
		err = errno;
	if (!err && rename(c->temp, c->path))
		err = errno;
	if (err) {
		fprintf(stderr, "%s: writing the capture %s: %s\n", program_invocation_short_name,
			c->path, strerror(err));
		capture_abort(c);
		return -1;
	}
	sync_directory(c->path);
	free(c->temp);
	c->temp = NULL;
	capture_abort(c);
	return 0;
}

void capture_abort(struct capture *c)
{
	if (!c)
		return;
	close_streams(c);
	if (c->records)
		fclose(c->records);
	else if (c->gz)
		gzclose(c->gz);
	if (c->fd >= 0)
		close(c->fd);
	if (c->temp)
		unlink(c->temp);
	free(c->temp);
	free(c->path);
	free(c);
}
