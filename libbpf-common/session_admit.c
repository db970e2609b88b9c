// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A session's admission under the host's policy, and its lines in the audit log. */
#include <err.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "privileges.h"
#include "session.h"
#include "session_facts.h"

#define ERR_LEN 512

static char cmdline_buf[FACTS_CMDLINE_MAX];

/* One audit line, made in memory and written whole */
struct audit_line {
	FILE *f;
	char *buf;
	size_t len;
	struct json j;
};

/* Starts a line with the facts every line has: 0, or -1 (out of memory) */
static int line_begin(struct audit_line *l, const struct session *s, const char *event)
{
	struct timespec now;
	char host[256];

	l->buf = NULL;
	l->f = open_memstream(&l->buf, &l->len);
	if (!l->f)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	json_init(&l->j, l->f);
	json_object_begin(&l->j, NULL);
	json_str(&l->j, "event", event);
	facts_time(&l->j, "time", &now);
	json_str(&l->j, "session", s->audit.id);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	json_str(&l->j, "host", host);
	facts_user(&l->j);
	json_str(&l->j, "tool", s->tool);
	facts_argv(&l->j, cmdline_buf);
	facts_targets(&l->j, s->target_opts, cmdline_buf);
	json_str(&l->j, "reason", s->capture_opts->reason);
	facts_tags(&l->j, s->capture_opts->tags, s->capture_opts->ntags);
	json_str(&l->j, "policy", s->policy.present ? s->policy.path : NULL);
	return 0;
}

/* Ends the line and writes it: 0, or -1 with err set when the audit is required */
static int line_write(struct session *s, struct audit_line *l, char *err)
{
	int ret;

	json_object_end(&l->j);
	if (fclose(l->f)) {
		free(l->buf);
		snprintf(err, ERR_LEN, "making the audit line: %s", strerror(errno));
		return s->audit.required ? -1 : 0;
	}
	ret = audit_write(&s->audit, l->buf, err, ERR_LEN);
	free(l->buf);
	return ret;
}

static void release(struct session *s)
{
	audit_close(&s->audit);
	cost_stop(&s->cost);
	policy_free(&s->policy);
}

/* Refuses the session: the message, its line in the audit log, the exit status */
static int __attribute__((format(printf, 3, 4)))
refuse(struct session *s, int status, const char *fmt, ...)
{
	char why[ERR_LEN], err[ERR_LEN];
	struct audit_line l;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", s->tool, why);
	if (!line_begin(&l, s, "refused")) {
		json_str(&l.j, "refusal", why);
		if (line_write(s, &l, err))
			fprintf(stderr, "%s: %s\n", s->tool, err);
	}
	release(s);
	s->tool = NULL; /* session_close() has nothing to say */
	return status;
}

static bool has_target(const struct target_opts *t)
{
	return t->pids.len || t->tids.len || t->comm || t->cgroup;
}

/* 0 when the policy allows the options, else the refused session's exit status */
static int check_options(struct session *s, const struct timing_opts *timing,
			 const struct target_opts *targets, const struct capture_opts *capture)
{
	const struct policy *p = &s->policy;
	char d[16], max[16];

	if (p->require_reason && !(capture->reason && *capture->reason))
		return refuse(s, EXIT_USAGE, "the policy (%s) requires a reason: add --reason "
			      "'why, e.g. INC-4211 p99 of checkout'", p->path);
	if (p->require_target && !has_target(targets))
		return refuse(s, EXIT_USAGE, "the policy (%s) requires a target: add -p PID, -t TID, "
			      "--comm NAME or --cgroup PATH", p->path);
	if (p->max_duration_ns && timing->duration_ns > p->max_duration_ns)
		return refuse(s, EXIT_USAGE, "-d %s is longer than the policy's max_duration (%s, %s)",
			      format_duration(d, sizeof(d), timing->duration_ns),
			      format_duration(max, sizeof(max), p->max_duration_ns), p->path);
	if (p->max_cpu_pct && timing->max_cpu_pct > p->max_cpu_pct)
		return refuse(s, EXIT_USAGE, "--max-cpu %g%% is above the policy's max_cpu (%g%%, %s)",
			      timing->max_cpu_pct, p->max_cpu_pct, p->path);
	return 0;
}

static void apply_limits(struct session *s, struct timing_opts *timing)
{
	const struct policy *p = &s->policy;
	char d[16];

	if (p->max_duration_ns && !timing->duration_ns) {
		timing->duration_ns = p->max_duration_ns;
		fprintf(stderr, "%s: no -d given: the policy (%s) ends this session after %s\n",
			s->tool, p->path, format_duration(d, sizeof(d), p->max_duration_ns));
	}
	if (p->max_cpu_pct && !timing->max_cpu_pct)
		timing->max_cpu_pct = p->max_cpu_pct;
}

/* "p1234", "t1234", "comm-nginx", "cgroup-web.slice", "all": for a capture's file name */
static void target_label(const struct target_opts *t, char *buf, size_t len)
{
	const char *slash = t->cgroup ? strrchr(t->cgroup, '/') : NULL;

	if (t->pids.len)
		snprintf(buf, len, "p%d", t->pids.ids[0]);
	else if (t->tids.len)
		snprintf(buf, len, "t%d", t->tids.ids[0]);
	else if (t->comm)
		snprintf(buf, len, "comm-%s", t->comm);
	else if (t->cgroup)
		snprintf(buf, len, "cgroup-%s", slash && slash[1] ? slash + 1 : t->cgroup);
	else
		snprintf(buf, len, "all");
}

static void safe_name(char *s)
{
	for (; *s; s++)
		if (!(*s == '.' || *s == '-' || *s == '_' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			*s = '_';
}

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (getegid() == gid || geteuid() == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* The policy's capture directory: TIME-HOST-TOOL-TARGET-ID.cap there, and its group */
static int keep_captures(struct session *s, const struct target_opts *targets,
			 struct capture_opts *capture)
{
	const struct policy *p = &s->policy;
	char name[256], host[64], target[64], when[32];
	struct tm tm;
	struct group *g;

	if (!p->capture_dir)
		return 0;
	if (p->capture_group) {
		g = getgrnam(p->capture_group);
		if (!g)
			return refuse(s, EXIT_RUNTIME, "the policy (%s) names capture_group %s, which "
				      "does not exist", p->path, p->capture_group);
		if (!in_group(g->gr_gid))
			return refuse(s, EXIT_RUNTIME, "the policy (%s) keeps captures for the group "
				      "%s, and you are not a member of it", p->path,
				      p->capture_group);
		capture->kept_gid = g->gr_gid;
	}
	gmtime_r(&s->admitted.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	target_label(targets, target, sizeof(target));
	snprintf(name, sizeof(name), "%s-%s-%s-%s-%.6s.cap", when, host, s->tool, target,
		 s->audit.id);
	safe_name(name);
	if (asprintf(&capture->kept_path, "%s/%s", p->capture_dir, name) < 0) {
		capture->kept_path = NULL;
		return refuse(s, EXIT_RUNTIME, "out of memory");
	}
	return 0;
}

int session_admit(struct session *s, const char *tool, struct timing_opts *timing,
		  const struct target_opts *targets, struct capture_opts *capture)
{
	char err[ERR_LEN];
	struct audit_line l;
	int ret;

	memset(s, 0, sizeof(*s));
	s->epfd = s->sigfd = s->duration_fd = s->interval_fd = s->tick_fd = s->poll_fd =
		s->guard_fd = s->cost.stats_fd = -1;
	s->tool = tool;
	s->target_opts = targets;
	s->capture_opts = capture;
	capture->kept_gid = (gid_t)-1;
	clock_gettime(CLOCK_REALTIME, &s->admitted);
	session_block_signals();
	if (policy_load(&s->policy, err, sizeof(err))) {
		/* the default log, if there is one, still hears of it */
		audit_open(&s->audit, POLICY_AUDIT_LOG, false, err, 0);
		return refuse(s, EXIT_RUNTIME, "%s", err);
	}
	if (audit_open(&s->audit, s->policy.audit_log, s->policy.present, err, sizeof(err)))
		return refuse(s, EXIT_RUNTIME, "%s: refused, as the policy (%s) wants every session "
			      "audited", err, s->policy.path);
	if ((ret = check_options(s, timing, targets, capture)) ||
	    (ret = keep_captures(s, targets, capture)))
		return ret;
	apply_limits(s, timing);
	cost_enable_stats(&s->cost);
	/* the file capabilities grant CAP_SYS_ADMIN for the stats alone (docs/privileges.md) */
	if ((ret = privileges_drop(CAP_SYS_ADMIN)))
		return refuse(s, EXIT_RUNTIME, "giving up CAP_SYS_ADMIN: %s", strerror(-ret));
	if (line_begin(&l, s, "start"))
		return refuse(s, EXIT_RUNTIME, "out of memory");
	json_u64(&l.j, "duration_ns", timing->duration_ns);
	json_double(&l.j, "max_cpu_pct", timing->max_cpu_pct);
	json_str(&l.j, "capture", capture_kept_path(capture));
	if (line_write(s, &l, err))
		return refuse(s, EXIT_RUNTIME, "%s: refused, as the policy (%s) wants every session "
			      "audited", err, s->policy.path);
	return 0;
}

int session_close(struct session *s, const struct losses *losses, int exit_status)
{
	char err[ERR_LEN];
	struct audit_line l;

	if (!s->tool)
		return exit_status;
	if (!line_begin(&l, s, "end")) {
		facts_time(&l.j, "start", &s->admitted);
		json_str(&l.j, "ended", s->end_reason ? s->end_reason : "error");
		json_u64(&l.j, "exit_status", exit_status);
		json_str(&l.j, "capture", exit_status ? NULL : capture_kept_path(s->capture_opts));
		if (losses)
			losses_json(&l.j, losses);
		cost_json(&l.j, &s->cost);
		if (line_write(s, &l, err)) {
			fprintf(stderr, "%s: %s\n", s->tool, err);
			exit_status = EXIT_RUNTIME;
		}
	}
	release(s);
	s->tool = NULL;
	return exit_status;
}
