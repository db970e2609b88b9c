// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallsym: the symbolizer on the command line, like addr2line but for live processes as well
 * as files, and for the kernel.  How raw addresses become lines of code later, and how the
 * tests check the symbolizer.
 */
#include <argp.h>
#include <ctype.h>
#include <err.h>
#include <poll.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "json.h"
#include "options.h"
#include "parse.h"
#include "procfs.h"
#include "symbolizer.h"

#define MAX_FRAMES 64

enum target_kind {
	TARGET_NONE,
	TARGET_PROCESS,
	TARGET_FILE,
	TARGET_KERNEL,
};

struct stallsym_opts {
	bool json;
	enum target_kind target;
	pid_t pid;
	const char *file;
	bool file_offsets;
	bool stack;
	const char *debug_root;
	char **addrs;
	int naddrs;
};

enum {
	OPT_DEBUG_ROOT = 0x100,
	OPT_JSON,
};

static const char doc[] =
	"Turn addresses into functions, source lines and inlined calls: of a live process, of an "
	"ELF file, or of the kernel.\v"
	"ADDR is hexadecimal, with or without 0x.  Without ADDR, addresses are read from standard "
	"input, separated by white space.  Separate debug files are found by build-id and "
	".gnu_debuglink under the debug root (/usr/lib/debug by default).\n\n"
	"Examples:\n"
	"  stallsym -p 1234 0x7f3a12c4d22e   an address of process 1234\n"
	"  stallsym -e /usr/bin/app 0x1136   a virtual address of a file\n"
	"  stallsym -e libc.so.6 -o 0xfc22e  a file offset\n"
	"  stallsym -k ffffffff8134e740      a kernel address\n"
	"  stallsym -p 1234 --stack < stack  a whole stack, innermost first\n";

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Addresses of this process (which must be running)", 1 },
	{ "exe", 'e', "FILE", 0, "Addresses of this ELF file", 1 },
	{ "kernel", 'k', NULL, 0, "Kernel addresses", 1 },
	{ "file-offset", 'o', NULL, 0, "With -e: the addresses are file offsets", 1 },
	{ "stack", 's', NULL, 0,
	  "The addresses are a stack: the first where the thread was, the others return "
	  "addresses (looked up at ADDR - 1)", 1 },
	{ "debug-root", OPT_DEBUG_ROOT, "DIR", 0, "Look for separate debug files under DIR", 1 },
	{ "json", OPT_JSON, NULL, 0, "Write JSON: an array of {addr, frames}", 1 },
	{},
};

static void set_target(struct argp_state *state, struct stallsym_opts *o, enum target_kind t)
{
	if (o->target != TARGET_NONE)
		argp_error(state, "give one of -p, -e and -k");
	o->target = t;
}

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct stallsym_opts *o = state->input;
	uint64_t pid;

	switch (key) {
	case 'p':
		set_target(state, o, TARGET_PROCESS);
		if (parse_u64(arg, &pid) || pid == 0 || pid > 0x7fffffff)
			argp_error(state, "invalid PID '%s'", arg);
		o->pid = pid;
		break;
	case 'e':
		set_target(state, o, TARGET_FILE);
		o->file = arg;
		break;
	case 'k':
		set_target(state, o, TARGET_KERNEL);
		break;
	case 'o':
		o->file_offsets = true;
		break;
	case 's':
		o->stack = true;
		break;
	case OPT_DEBUG_ROOT:
		o->debug_root = arg;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case ARGP_KEY_ARGS:
		o->addrs = state->argv + state->next;
		o->naddrs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		if (o->target == TARGET_NONE)
			argp_error(state, "say whose addresses: -p PID, -e FILE or -k");
		if (o->file_offsets && o->target != TARGET_FILE)
			argp_error(state, "-o goes with -e");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_option, "[ADDR...]", doc, NULL, NULL, NULL };

static int parse_address(const char *s, uint64_t *addr)
{
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	/* hex digits only: strtoull() would also take white space and a sign ("0x-1") */
	if (!*s || s[strspn(s, "0123456789abcdefABCDEF")])
		return -EINVAL;
	errno = 0;
	*addr = strtoull(s, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

/*
 * Standard input, read by hand: before waiting for more input, what has been answered is
 * flushed, so that a pipe gets each answer as it asks (a tool symbolizing a stream), while a
 * file or a long list is answered in big writes.
 */
struct input {
	char buf[65536];
	size_t len, pos;
	bool eof;
};

static bool input_word(struct input *in, char *word, size_t max)
{
	size_t n = 0;

	for (;;) {
		if (in->pos == in->len) {
			struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
			ssize_t got;

			if (in->eof)
				break;
			if (poll(&pfd, 1, 0) == 0)
				fflush(stdout);
			got = read(STDIN_FILENO, in->buf, sizeof(in->buf));
			if (got <= 0) {
				in->eof = true;
				break;
			}
			in->len = got;
			in->pos = 0;
		}
		char c = in->buf[in->pos++];

		if (isspace((unsigned char)c)) {
			if (n)
				break;
			continue;
		}
		if (n + 1 < max)
			word[n++] = c;
	}
	word[n] = '\0';
	return n > 0;
}

/* The next address, from the command line or standard input: 1, 0 at the end, -1 if it is not
 * an address */
static int next_address(const struct stallsym_opts *o, struct input *in, int *next,
			uint64_t *addr)
{
	char word[64];
	const char *s;

	if (o->naddrs) {
		if (*next >= o->naddrs)
			return 0;
		s = o->addrs[(*next)++];
	} else {
		if (!input_word(in, word, sizeof(word)))
			return 0;
		s = word;
	}
	if (parse_address(s, addr)) {
		warnx("not a hexadecimal address: '%s'", s);
		return -1;
	}
	return 1;
}

/* One address; with --stack, all but the first are return addresses */
static long resolve(struct symbolizer *sym, const struct stallsym_opts *o, uint64_t addr,
		    bool return_address, struct sym_frame *frames)
{
	uint64_t pair[2] = { 0, addr };
	size_t n;

	switch (o->target) {
	case TARGET_PROCESS:
		if (!return_address)
			return symbolizer_user_stack(sym, o->pid, &addr, 1, frames, MAX_FRAMES,
						     NULL);
		/* the second entry of a stack is looked up as a return address: resolve a pair
		 * and drop the placeholder's frame */
		n = symbolizer_user_stack(sym, o->pid, pair, 2, frames, MAX_FRAMES, NULL);
		memmove(frames, frames + 1, (n - 1) * sizeof(*frames));
		return n - 1;
	case TARGET_FILE:
		return symbolizer_file_address(sym, o->file, addr, o->file_offsets, return_address,
					       frames, MAX_FRAMES);
	case TARGET_KERNEL:
	default:
		if (!return_address)
			return symbolizer_kernel_stack(sym, &addr, 1, frames, MAX_FRAMES);
		n = symbolizer_kernel_stack(sym, pair, 2, frames, MAX_FRAMES);
		memmove(frames, frames + 1, (n - 1) * sizeof(*frames));
		return n - 1;
	}
}

static void print_text(uint64_t addr, const struct sym_frame *frames, long n)
{
	char line[1024];

	printf("0x%llx\n", (unsigned long long)addr);
	for (long f = 0; f < n; f++)
		printf("  %s\n", frame_format(&frames[f], line, sizeof(line)));
}

static void print_json(struct json *j, uint64_t addr, const struct sym_frame *frames, long n)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)addr);
	json_object_begin(j, NULL);
	json_str(j, "addr", hex);
	json_array_begin(j, "frames");
	for (long f = 0; f < n; f++)
		frame_json(j, &frames[f]);
	json_array_end(j);
	json_object_end(j);
}

int main(int argc, char **argv)
{
	struct stallsym_opts o = { .target = TARGET_NONE };
	struct symbolizer_opts so = { 0 };
	struct sym_frame frames[MAX_FRAMES];
	static struct input in;
	struct symbolizer *sym;
	struct json j;
	uint64_t addr;
	int next = 0, got, ret = 0;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (o.target == TARGET_PROCESS && proc_id_kind(o.pid, &(pid_t){ 0 }) == PROC_ID_NONE) {
		warnx("no process with PID %d", o.pid);
		return EXIT_RUNTIME;
	}
	so.debug_root = o.debug_root;
	sym = symbolizer_new(&so);
	if (!sym) {
		warnx("out of memory");
		return EXIT_RUNTIME;
	}
	/* noted before any address is read: they resolve even if it exits meanwhile */
	if (o.target == TARGET_PROCESS && symbolizer_note_process(sym, o.pid)) {
		warn("reading the mappings of process %d", o.pid);
		symbolizer_free(sym);
		return EXIT_RUNTIME;
	}
	json_init(&j, stdout);
	if (o.json)
		json_array_begin(&j, NULL);
	for (int i = 0; (got = next_address(&o, &in, &next, &addr)) > 0; i++) {
		long n = resolve(sym, &o, addr, o.stack && i > 0, frames);

		if (n < 0) {
			errno = -n;
			if (n == -ENOEXEC)
				warnx("%s: not an ELF file", o.file);
			else
				warn("%s", o.file);
			ret = EXIT_RUNTIME;
			break;
		}
		if (o.json)
			print_json(&j, addr, frames, n);
		else
			print_text(addr, frames, n);
	}
	if (got < 0)
		ret = EXIT_USAGE;
	if (o.json) {
		json_array_end(&j);
		json_line_end(&j);
	}
	symbolizer_free(sym);
	return ret;
}
