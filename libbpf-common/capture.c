// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing a capture: the options, the metadata, the report streams, the atomic file. */
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <libgen.h>
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
#include "session_facts.h"
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
	free(o->kept_path);
	o->kept_path = NULL;
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
	char *kept_path; /* a copy, when -o names another file */
	gid_t kept_gid;
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
	if (done) { /* (pending is NULL before the first write) */
		memmove(s->pending, s->pending + done, s->len - done);
		s->len -= done;
	}
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

static void write_meta(struct capture *c, const struct capture_opts *o, const char *tool,
		       const struct target_opts *targets)
{
	static char cmdline[FACTS_CMDLINE_MAX];
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
	facts_argv(&c->j, cmdline);
	gethostname(buf, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	json_str(&c->j, "host", buf);
	json_str(&c->j, "kernel", uname(&u) ? NULL : u.release);
	proc_read_line("/proc/sys/kernel/random/boot_id", buf, sizeof(buf));
	json_str(&c->j, "boot_id", buf);
	facts_time(&c->j, "start_time", &now);
	json_u64(&c->j, "start_unix_ns", now.tv_sec * NSEC_PER_SEC + now.tv_nsec);
	facts_user(&c->j);
	json_str(&c->j, "reason", o->reason);
	facts_tags(&c->j, o->tags, o->ntags);
	facts_targets(&c->j, targets, cmdline);
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

/* The kept copy's group may read it; the group must be one of the caller's */
static int give_to_group(int fd, gid_t gid)
{
	if (gid == (gid_t)-1)
		return 0;
	return fchown(fd, -1, gid) || fchmod(fd, 0640) ? -1 : 0;
}

int capture_begin(struct capture **out, const struct capture_opts *o, const char *tool,
		  const struct target_opts *targets)
{
	struct capture *c;
	int gzfd;

	const char *path = o->path ? o->path : o->kept_path;

	*out = NULL;
	if (!path)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->fd = -1;
	c->kept_gid = o->kept_gid;
	if (o->path && o->kept_path && !(c->kept_path = strdup(o->kept_path))) {
		capture_abort(c);
		return -1;
	}
	if (open_temp(c, path) || (!o->path && give_to_group(c->fd, o->kept_gid))) {
		fprintf(stderr, "%s: capture %s: %s\n", tool, path, strerror(errno));
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
		fprintf(stderr, "%s: capture %s: %s\n", tool, path, strerror(errno));
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
	facts_time(&c->j, "end_time", &now);
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

/* The copy for the policy's capture directory, made the same way as the capture: 0, or errno */
static int keep_copy(const struct capture *c)
{
	struct capture k = { .fd = -1 };
	struct stat st;
	off_t at = 0;
	int err = 0;

	if (open_temp(&k, c->kept_path) || give_to_group(k.fd, c->kept_gid) || fstat(c->fd, &st))
		err = errno ? errno : ENOMEM;
	while (!err && at < st.st_size) {
		ssize_t n = sendfile(k.fd, c->fd, &at, st.st_size - at);

		if (n <= 0)
			err = n ? errno : EIO;
	}
	if (!err && (fsync(k.fd) || rename(k.temp, k.path)))
		err = errno;
	if (!err) {
		sync_directory(k.path);
	} else if (k.temp) {
		unlink(k.temp);
	}
	if (k.fd >= 0)
		close(k.fd);
	free(k.temp);
	free(k.path);
	return err;
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
	if (c->kept_path && (err = keep_copy(c)))
		fprintf(stderr, "%s: keeping a copy of the capture in %s: %s\n",
			program_invocation_short_name, c->kept_path, strerror(err));
	capture_abort(c);
	return err ? -1 : 0;
}

void capture_abort(struct capture *c)
{
	if (!c)
		return;
	close_streams(c);
	if (c->records)
		fclose(c->records); /* (the cookie stream leaves gz open) */
	if (c->gz)
		gzclose(c->gz);
	if (c->fd >= 0)
		close(c->fd);
	if (c->temp)
		unlink(c->temp);
	free(c->temp);
	free(c->path);
	free(c->kept_path);
	free(c);
}

const char *capture_kept_path(const struct capture_opts *o)
{
	return o->kept_path ? o->kept_path : o->path;
}
