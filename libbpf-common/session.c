// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include "procfs.h"
#include "session.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#define TARGET_POLL_NS (200 * NSEC_PER_MSEC)

void format_wall_time(char *buf, size_t len, uint64_t monotonic)
{
	struct timespec now;
	struct tm tm;
	int64_t wall_ns;
	time_t secs;

	clock_gettime(CLOCK_REALTIME, &now);
	wall_ns = (int64_t)(now.tv_sec * NSEC_PER_SEC + now.tv_nsec) -
		  (int64_t)(monotonic_ns() - monotonic);
	secs = wall_ns / (int64_t)NSEC_PER_SEC;
	localtime_r(&secs, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

static sigset_t ending_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return set;
}

int session_block_signals(void)
{
	sigset_t set = ending_signals();

	/* a report written to a closed pipe should end the tool quietly, not kill it mid-line */
	signal(SIGPIPE, SIG_IGN);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

static int timer_new(uint64_t ns, bool periodic)
{
	struct itimerspec its = {
		.it_value = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (periodic)
		its.it_interval = its.it_value;
	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int watch(struct session *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int add_targets(struct session *s, const struct id_list *ids, bool threads)
{
	for (size_t i = 0; i < ids->len; i++) {
		struct session_target *t = &s->targets[s->ntargets++];

		t->id = ids->ids[i];
		t->pidfd = syscall(SYS_pidfd_open, t->id, threads ? PIDFD_THREAD : 0);
		if (t->pidfd >= 0 && watch(s, t->pidfd))
			return -1;
		if (t->pidfd < 0 && s->poll_fd < 0) {
			/* kernels before 6.9 have no thread pidfds: look at /proc instead */
			s->poll_fd = timer_new(TARGET_POLL_NS, true);
			if (s->poll_fd < 0 || watch(s, s->poll_fd))
				return -1;
		}
		s->alive++;
	}
	return 0;
}

static void timers_reset(struct session *s)
{
	s->epfd = s->sigfd = s->duration_fd = s->interval_fd = s->tick_fd = s->poll_fd =
		s->guard_fd = -1;
	s->rb = NULL;
	s->targets = NULL;
	s->ntargets = s->alive = 0;
}

int session_begin(struct session *s, const struct timing_opts *timing,
		  const struct target_opts *targets, struct ring_buffer *rb, uint64_t tick_ns,
		  struct bpf_object *obj)
{
	sigset_t set = ending_signals();

	timers_reset(s);
	s->rb = rb;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (s->epfd < 0 || s->sigfd < 0 || watch(s, s->sigfd))
		goto fail;
	if (timing->duration_ns &&
	    ((s->duration_fd = timer_new(timing->duration_ns, false)) < 0 || watch(s, s->duration_fd)))
		goto fail;
	if (timing->interval_ns &&
	    ((s->interval_fd = timer_new(timing->interval_ns, true)) < 0 || watch(s, s->interval_fd)))
		goto fail;
	if (tick_ns && ((s->tick_fd = timer_new(tick_ns, true)) < 0 || watch(s, s->tick_fd)))
		goto fail;
	if (rb && watch(s, ring_buffer__epoll_fd(rb)))
		goto fail;
	s->max_cpu_pct = timing->max_cpu_pct;
	if (s->max_cpu_pct &&
	    ((s->guard_fd = timer_new(NSEC_PER_SEC, true)) < 0 || watch(s, s->guard_fd)))
		goto fail;
	s->targets = calloc(targets->pids.len + targets->tids.len + 1, sizeof(*s->targets));
	if (!s->targets || add_targets(s, &targets->pids, false) ||
	    add_targets(s, &targets->tids, true))
		goto fail;
	cost_start(&s->cost, obj);
	s->start_ns = s->interval_start_ns = monotonic_ns();
	return 0;
fail:
	warn("setting up the session");
	session_end(s);
	return -1;
}

static bool target_exited(struct session_target *t)
{
	char state = proc_state(t->id);

	return !state || state == 'Z' || state == 'X';
}

/* Marks exited targets; true when none is left. */
static bool targets_gone(struct session *s, int ready_fd)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct session_target *t = &s->targets[i];

		if (t->gone)
			continue;
		if (t->pidfd >= 0 ? t->pidfd == ready_fd : ready_fd == s->poll_fd && target_exited(t)) {
			t->gone = true;
			s->alive--;
			if (t->pidfd >= 0)
				epoll_ctl(s->epfd, EPOLL_CTL_DEL, t->pidfd, NULL);
		}
	}
	return s->ntargets && !s->alive;
}

static void drain_timer(int fd)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		warn("reading a timer");
}

enum session_wake session_wait(struct session *s)
{
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(s->epfd, &ev, 1, -1);
		int fd = ev.data.fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warn("waiting for events");
			s->end_reason = "error";
			return SESSION_END;
		}
		if (s->rb && fd == ring_buffer__epoll_fd(s->rb)) {
			ring_buffer__consume(s->rb);
		} else if (fd == s->sigfd) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			s->end_reason = si.ssi_signo == SIGINT ? "interrupted" :
					si.ssi_signo == SIGTERM ? "terminated" : "hangup";
			break;
		} else if (fd == s->duration_fd) {
			s->end_reason = "duration elapsed";
			break;
		} else if (fd == s->interval_fd) {
			drain_timer(fd);
			return SESSION_INTERVAL;
		} else if (fd == s->tick_fd) {
			drain_timer(fd);
			return SESSION_TICK;
		} else if (fd == s->guard_fd) {
			double pct = cost_window(&s->cost);

			drain_timer(fd);
			if (pct <= s->max_cpu_pct)
				continue;
			snprintf(s->end_buf, sizeof(s->end_buf), "overhead limit (%.2f%% > %g%%)", pct,
				 s->max_cpu_pct);
			s->end_reason = s->end_buf;
			break;
		} else {
			if (fd == s->poll_fd)
				drain_timer(fd);
			if (targets_gone(s, fd)) {
				s->end_reason = "all traced processes exited";
				break;
			}
		}
	}
	/* what the kernel has queued before the end belongs to the report */
	if (s->rb)
		ring_buffer__consume(s->rb);
	return SESSION_END;
}

uint64_t session_next_interval(struct session *s)
{
	uint64_t now = monotonic_ns();
	uint64_t length = now - s->interval_start_ns;

	s->interval_start_ns = now;
	return length;
}

void session_end(struct session *s)
{
	int fds[] = { s->epfd,	 s->sigfd,   s->duration_fd, s->interval_fd,
		      s->tick_fd, s->poll_fd, s->guard_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i].pidfd >= 0)
			close(s->targets[i].pidfd);
	free(s->targets);
	timers_reset(s);
}

void session_footer(FILE *out, const struct session *s)
{
	fprintf(out, "ended: %s\n", s->end_reason ? s->end_reason : "error");
	cost_print(out, &s->cost);
}
