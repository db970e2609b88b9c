// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Asking a HotSpot JVM for its perf map through its attach mechanism, as jcmd does, without
 * jcmd (a JDK tool: hosts that run a JRE have none):
 *
 *   1. create .attach_pidNSPID in the JVM's working directory, else in its /tmp: on SIGQUIT the
 *      JVM starts its attach listener only if it finds that file, owned by its user or root
 *      (without the file, SIGQUIT makes it print a thread dump on its stdout);
 *   2. send SIGQUIT, and wait until the listener's socket /tmp/.java_pidNSPID accepts;
 *   3. connect: the JVM checks the peer's credentials (SO_PEERCRED) against its own effective
 *      uid and gid, or root;
 *   4. send "1\0jcmd\0Compiler.perfmap\0\0\0": protocol 1, the operation, its three arguments;
 *   5. read "STATUS\n" and the command's output, until the JVM closes the connection.
 *
 * Names and paths are the JVM's own: NSPID is its PID in its PID namespace, /tmp is its /tmp
 * (reached through /proc/PID/root, so a container's or a PrivateTmp=).  Steps 1 to 5 run in a
 * child process that takes the JVM's effective uid and gid, because root outside a user
 * namespace is nobody inside it (the JVM would trust neither the file nor the connection), and
 * older JDKs trust their own user only.  A listener that is already running (an earlier
 * request, -XX:+StartAttachListener) is used at once: no file, no signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "jvm.h"
#include "procfs.h"

/* Time the child gets past the deadline to report before it is killed */
#define GRACE_MS 250

/* The last of -XX:[+-]PreserveFramePointer among NUL- or space-separated words, into *on */
static void note_fp_flag(const char *words, size_t len, bool *on)
{
	static const char flag[] = "PreserveFramePointer";
	const size_t word_len = 5 + sizeof(flag) - 1; /* -XX:+PreserveFramePointer */
	const char *end = words + len;

	for (const char *w = words; w + word_len <= end; w++) {
		bool at_start = w == words || !w[-1] || w[-1] == ' ';
		bool at_end = w + word_len == end || !w[word_len] || w[word_len] == ' ';

		if (at_start && at_end && !memcmp(w, "-XX:", 4) && (w[4] == '+' || w[4] == '-') &&
		    !memcmp(w + 5, flag, sizeof(flag) - 1))
			*on = w[4] == '+';
	}
}

/* The value of a variable in a NUL-separated environment, NULL if absent */
static const char *env_value(const char *env, size_t len, const char *name, size_t *value_len)
{
	size_t n = strlen(name);

	for (const char *e = env; e < env + len; e += strlen(e) + 1) {
		if (!strncmp(e, name, n) && e[n] == '=') {
			*value_len = strlen(e + n + 1);
			return e + n + 1;
		}
	}
	return NULL;
}

bool jvm_preserves_frame_pointers(pid_t pid)
{
	static const char *const before[] = { "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS" };
	char path[64], *env = malloc(1 << 16), *cmdline = malloc(1 << 16);
	ssize_t env_len = -1, cmd_len = -1;
	const char *value;
	size_t value_len;
	bool on = false;

	if (env && cmdline) {
		snprintf(path, sizeof(path), "/proc/%d/environ", pid);
		env_len = proc_read_file(path, env, 1 << 16);
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		cmd_len = proc_read_file(path, cmdline, 1 << 16);
	}
	for (size_t i = 0; env_len > 0 && i < sizeof(before) / sizeof(before[0]); i++)
		if ((value = env_value(env, env_len, before[i], &value_len)))
			note_fp_flag(value, value_len, &on);
	if (cmd_len > 0)
		note_fp_flag(cmdline, cmd_len, &on);
	if (env_len > 0 && (value = env_value(env, env_len, "_JAVA_OPTIONS", &value_len)))
		note_fp_flag(value, value_len, &on);
	free(env);
	free(cmdline);
	return on;
}

/* What the request needs to know of the JVM's process, read before the child starts */
struct jvm_target {
	pid_t pid, nspid;
	uid_t euid;
	gid_t egid;
	bool catches_quit;
};

static int read_target(pid_t pid, struct jvm_target *t)
{
	char path[64], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*t = (struct jvm_target){ .pid = pid, .nspid = proc_namespace_pid(pid) };
	while (fgets(line, sizeof(line), f)) {
		unsigned long long mask;
		unsigned int id;

		if (sscanf(line, "Uid: %*u %u", &id) == 1) {
			t->euid = id;
			found |= 1;
		} else if (sscanf(line, "Gid: %*u %u", &id) == 1) {
			t->egid = id;
			found |= 2;
		} else if (sscanf(line, "SigCgt: %llx", &mask) == 1) {
			t->catches_quit = mask >> (SIGQUIT - 1) & 1;
			found |= 4;
		}
	}
	fclose(f);
	return found == 7 ? 0 : -ESRCH;
}

enum attach_step {
	STEP_DONE,
	STEP_CREDENTIALS, /* could not become the JVM's user */
	STEP_NO_SIGQUIT,  /* the JVM does not catch SIGQUIT: it would die of it */
	STEP_TRIGGER,	  /* .attach_pidNSPID could not be created */
	STEP_SIGNAL,
	STEP_LISTENER, /* no listener before the deadline */
	STEP_CONNECT,
	STEP_SEND,
	STEP_REPLY, /* err 0: closed without an answer */
};

/* What the child tells: written at once (less than PIPE_BUF), read at once */
struct attach_result {
	int step;
	int err;
	char reply[1024]; /* the JVM's answer, NUL-terminated, cut if longer */
};

_Static_assert(sizeof(struct attach_result) <= PIPE_BUF, "one write, read at once");

/* Everything the child needs, prepared before the fork: it only makes system calls */
struct attach_request {
	struct jvm_target target;
	pid_t parent;
	int tmp_fd, cwd_fd, pidfd; /* -1 for the ones that could not be opened */
	char trigger[32];	   /* .attach_pidNSPID */
	char socket[32];	   /* .java_pidNSPID */
	struct timespec deadline;  /* CLOCK_MONOTONIC */
};

/* Milliseconds left until the deadline, as poll() takes them: 0 once it has passed */
static int ms_until(const struct timespec *deadline, int more)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	ms += more;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : ms;
}

/* A connected socket, or -errno; the child's working directory is the JVM's /tmp */
static int connect_listener(const struct attach_request *r)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	memcpy(addr.sun_path, r->socket, sizeof(r->socket));
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

static int take_credentials(const struct jvm_target *t)
{
	if (geteuid() == t->euid && getegid() == t->egid)
		return 0;
	/* root keeps no supplementary groups of its own; others cannot drop theirs */
	if (geteuid() == 0 && setgroups(0, NULL))
		return -errno;
	if (setresgid(t->egid, t->egid, t->egid) || setresuid(t->euid, t->euid, t->euid))
		return -errno;
	return 0;
}

static int send_quit(const struct attach_request *r)
{
	/* through the pidfd: the signal cannot reach another process that took the PID */
	if (r->pidfd >= 0 && !syscall(SYS_pidfd_send_signal, r->pidfd, SIGQUIT, NULL, 0))
		return 0;
	if (r->pidfd >= 0 && errno != ENOSYS)
		return -errno;
	return kill(r->target.pid, SIGQUIT) ? -errno : 0;
}

/* Steps 1 and 2: the listener's socket, connected, or -errno (-ETIMEDOUT: none came) */
static int start_listener(const struct attach_request *r, struct attach_result *res)
{
	int dir = r->cwd_fd, fd, err;
	int delay_ms = 1;

	if (!r->target.catches_quit) {
		res->step = STEP_NO_SIGQUIT;
		return -ENOTSUP;
	}
	fd = dir >= 0 ? openat(dir, r->trigger, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)
		      : -1;
	if (fd < 0) {
		dir = r->tmp_fd;
		fd = openat(dir, r->trigger, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		res->step = STEP_TRIGGER;
		return -errno;
	}
	close(fd);
	err = send_quit(r);
	if (err) {
		res->step = STEP_SIGNAL;
		unlinkat(dir, r->trigger, 0);
		return err;
	}
	/* the listener usually answers within milliseconds; jcmd's first look is at 100 ms */
	for (;;) {
		int left = ms_until(&r->deadline, 0);
		struct timespec ts;

		fd = connect_listener(r);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED) || left <= 0)
			break;
		delay_ms = delay_ms < left ? delay_ms : left;
		ts = (struct timespec){ delay_ms / 1000, delay_ms % 1000 * 1000000L };
		nanosleep(&ts, NULL);
		delay_ms = delay_ms < 32 ? delay_ms * 2 : 32;
	}
	unlinkat(dir, r->trigger, 0);
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		res->step = STEP_LISTENER;
		return -ETIMEDOUT;
	}
	if (fd < 0)
		res->step = STEP_CONNECT;
	return fd;
}

/* Steps 4 and 5 */
static int run_command(const struct attach_request *r, int fd, struct attach_result *res)
{
	static const char request[] = "1\0jcmd\0Compiler.perfmap\0\0"; /* and the last NUL */
	size_t sent = 0, got = 0;

	res->step = STEP_SEND;
	while (sent < sizeof(request)) {
		ssize_t n = send(fd, request + sent, sizeof(request) - sent, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			return -errno;
		sent += n > 0 ? n : 0;
	}
	res->step = STEP_REPLY;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = ms_until(&r->deadline, 0);
		char discard[256];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) == 0)
			return -ETIMEDOUT;
		if (got < sizeof(res->reply) - 1)
			n = read(fd, res->reply + got, sizeof(res->reply) - 1 - got);
		else
			n = read(fd, discard, sizeof(discard));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			break;
		if (n > 0 && got < sizeof(res->reply) - 1)
			got += n;
	}
	res->reply[got] = '\0';
	if (!got)
		return 0; /* STEP_REPLY, err 0: closed without an answer */
	res->step = STEP_DONE;
	return 0;
}

static void __attribute__((noreturn)) attach_child(const struct attach_request *r, int out)
{
	struct attach_result res = { .step = STEP_CREDENTIALS };
	int fd;

	res.err = take_credentials(&r->target);
	/* after the change of credentials, which clears it */
	if (!res.err && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != r->parent))
		_exit(1);
	if (!res.err && fchdir(r->tmp_fd)) {
		res.step = STEP_CONNECT;
		res.err = -errno;
	}
	if (!res.err) {
		fd = connect_listener(r);
		if (fd == -ENOENT || fd == -ECONNREFUSED)
			fd = start_listener(r, &res);
		else if (fd < 0)
			res.step = STEP_CONNECT;
		if (fd < 0)
			res.err = fd;
		else
			res.err = run_command(r, fd, &res);
	}
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

/* The child's result, or a timeout (the child then killed) */
static void wait_child(const struct attach_request *r, pid_t child, int in,
		       struct attach_result *res)
{
	struct pollfd p = { .fd = in, .events = POLLIN };
	ssize_t n = -1;

	while (poll(&p, 1, ms_until(&r->deadline, GRACE_MS)) < 0 && errno == EINTR)
		;
	if (p.revents)
		n = read(in, res, sizeof(*res));
	if (n < 0) {
		/* stuck (in a file system, say): what it was at is unknown */
		*res = (struct attach_result){ .step = STEP_REPLY, .err = -ETIMEDOUT };
		kill(child, SIGKILL);
	} else if (n != sizeof(*res)) {
		/* it died (a signal to the whole process group, say) */
		*res = (struct attach_result){ .step = STEP_REPLY, .err = -ECHILD };
	}
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
}

static const char *step_failed(int step)
{
	switch (step) {
	case STEP_CREDENTIALS:
		return "taking its user's credentials";
	case STEP_TRIGGER:
		return "creating .attach_pid in its working directory or /tmp";
	case STEP_SIGNAL:
		return "sending it SIGQUIT";
	case STEP_CONNECT:
		return "connecting to its attach listener";
	case STEP_SEND:
		return "sending the request";
	default:
		return "reading its answer";
	}
}

/* What the child found, said; 0 or -errno */
static int report(const struct attach_request *r, const struct attach_result *res,
		  unsigned int timeout_ms)
{
	const char *tool = program_invocation_short_name;
	pid_t pid = r->target.pid;
	char map[64], *output;
	struct stat st;
	long status;

	switch (res->step) {
	case STEP_DONE:
		break;
	case STEP_NO_SIGQUIT:
		fprintf(stderr,
			"%s: JVM perf map of pid %d: it does not catch SIGQUIT (still "
			"starting, or run with -Xrs), which would end it: not asking\n",
			tool, pid);
		return res->err;
	case STEP_LISTENER:
		fprintf(stderr,
			"%s: JVM perf map of pid %d: its attach listener did not start "
			"within %u ms (-XX:+DisableAttachMechanism?)\n",
			tool, pid, timeout_ms);
		return res->err;
	case STEP_REPLY:
		if (!res->err) {
			fprintf(stderr,
				"%s: JVM perf map of pid %d: it closed the connection "
				"without an answer (it trusts its own user and root only)\n",
				tool, pid);
			return -ECONNRESET;
		}
		if (res->err == -ETIMEDOUT) {
			fprintf(stderr, "%s: JVM perf map of pid %d: no answer within %u ms\n",
				tool, pid, timeout_ms);
			return res->err;
		}
		/* fall through */
	default:
		fprintf(stderr, "%s: JVM perf map of pid %d: %s: %s\n", tool, pid,
			step_failed(res->step), strerror(-res->err));
		return res->err;
	}
	status = strtol(res->reply, &output, 10);
	output += strspn(output, "\n");
	if (output == res->reply || status) {
		fprintf(stderr,
			"%s: JVM perf map of pid %d: Compiler.perfmap failed (%ld): %.*s%s\n", tool,
			pid, status, (int)strcspn(output, "\n"), output,
			strstr(output, "Unknown diagnostic command") ? " (it needs JDK 17 or later)"
								     : "");
		return -EPROTO;
	}
	snprintf(map, sizeof(map), "perf-%d.map", r->target.nspid);
	if (fstatat(r->tmp_fd, map, &st, 0)) {
		fprintf(stderr,
			"%s: JVM perf map of pid %d: it answered, but there is no /tmp/%s: "
			"%s\n",
			tool, pid, map, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

int jvm_perfmap_write(pid_t pid, unsigned int timeout_ms)
{
	struct attach_request r = { .parent = getpid(), .cwd_fd = -1, .pidfd = -1 };
	struct attach_result res;
	char path[64];
	int pipe_fds[2], err;
	pid_t child;

	err = read_target(pid, &r.target);
	if (err) {
		err = err == -ENOENT ? -ESRCH : err;
		fprintf(stderr, "%s: JVM perf map of pid %d: %s\n", program_invocation_short_name,
			pid, err == -ESRCH ? "no such process" : strerror(-err));
		return err;
	}
	snprintf(r.trigger, sizeof(r.trigger), ".attach_pid%d", r.target.nspid);
	snprintf(r.socket, sizeof(r.socket), ".java_pid%d", r.target.nspid);
	clock_gettime(CLOCK_MONOTONIC, &r.deadline);
	r.deadline.tv_sec += timeout_ms / 1000;
	r.deadline.tv_nsec += timeout_ms % 1000 * 1000000L;
	if (r.deadline.tv_nsec >= 1000000000L) {
		r.deadline.tv_sec++;
		r.deadline.tv_nsec -= 1000000000L;
	}
	r.pidfd = syscall(SYS_pidfd_open, pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/root/tmp", pid);
	r.tmp_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r.tmp_fd < 0) {
		err = -errno;
		fprintf(stderr, "%s: JVM perf map of pid %d: opening %s: %s\n",
			program_invocation_short_name, pid, path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	r.cwd_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pipe2(pipe_fds, O_CLOEXEC)) {
		err = -errno;
		fprintf(stderr, "%s: JVM perf map of pid %d: pipe: %s\n",
			program_invocation_short_name, pid, strerror(errno));
		goto out;
	}
	child = fork();
	if (child == 0) {
		close(pipe_fds[0]);
		attach_child(&r, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	if (child < 0) {
		err = -errno;
		fprintf(stderr, "%s: JVM perf map of pid %d: fork: %s\n",
			program_invocation_short_name, pid, strerror(errno));
		close(pipe_fds[0]);
		goto out;
	}
	wait_child(&r, child, pipe_fds[0], &res);
	close(pipe_fds[0]);
	err = report(&r, &res, timeout_ms);
out:
	if (r.cwd_fd >= 0)
		close(r.cwd_fd);
	if (r.tmp_fd >= 0)
		close(r.tmp_fd);
	if (r.pidfd >= 0)
		close(r.pidfd);
	return err;
}
