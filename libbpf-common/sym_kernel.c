// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel addresses, from /proc/kallsyms.  kallsyms has no sizes: a text symbol ends where the
 * next one starts, the last of the kernel's text at _etext (_einittext for init text), a
 * module's at the module's end (/proc/modules), so that an address past a symbol does not
 * borrow its name.  BPF programs are listed as [bpf] by the kernel itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sym_internal.h"
#include "units.h"

#define UNBOUNDED_SPAN (64 * 1024) /* a symbol nothing bounds: at most this long */
/* kallsyms is read again for an address it lacks (a BPF program loaded since, a module): the
 * first time at once, then at most this often */
#define RELOAD_AFTER_NS 1000000000ULL

/* Of several names at one address, how much it names the code there: aliases the early boot
 * code uses (__pi_) and section markers least */
static int name_rank(const char *name)
{
	if (!strncmp(name, "__pi_", 5))
		return 0;
	if (!strcmp(name, "_stext") || !strcmp(name, "_text") || !strcmp(name, "_sinittext"))
		return 1;
	return 2;
}

/* By address; at one address the best name last, which is the one a lookup finds */
static int symbol_compare(const void *a, const void *b)
{
	const struct sym_kernel_symbol *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return name_rank(x->name) - name_rank(y->name);
}

struct module_range {
	char name[68]; /* "[" name "]" */
	uint64_t start, end;
};

/* /proc/modules: "name size refcount deps state address" */
static size_t read_modules(struct module_range **out)
{
	char line[512], name[64];
	size_t n = 0, cap = 0;
	uint64_t size, start;
	FILE *f = fopen("/proc/modules", "re");

	*out = NULL;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		struct module_range *grown;

		if (sscanf(line, "%63s %" SCNu64 " %*s %*s %*s %" SCNx64, name, &size, &start) != 3)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(*out, cap * sizeof(**out));
			if (!grown)
				break;
			*out = grown;
		}
		snprintf((*out)[n].name, sizeof((*out)[n].name), "[%s]", name);
		(*out)[n].start = start;
		(*out)[n].end = start + size;
		n++;
	}
	fclose(f);
	return n;
}

static uint64_t module_end(const struct module_range *mods, size_t n, const char *module)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(mods[i].name, module))
			return mods[i].end;
	return 0;
}

/* Where each symbol ends: the next symbol of the same module, or the module's end */
static void set_ends(struct symbolizer *s, uint64_t etext, uint64_t einittext)
{
	struct module_range *mods;
	size_t nmods = read_modules(&mods);

	for (size_t i = 0; i < s->nksyms; i++) {
		struct sym_kernel_symbol *k = &s->ksyms[i];
		uint64_t limit = k->start + UNBOUNDED_SPAN, next = 0;

		if (i + 1 < s->nksyms && s->ksyms[i + 1].module == k->module)
			next = s->ksyms[i + 1].start;
		if (!strcmp(k->module, "[kernel]"))
			limit = k->start < etext ? etext : einittext > k->start ? einittext : limit;
		else if (module_end(mods, nmods, k->module))
			limit = module_end(mods, nmods, k->module);
		k->end = next && next < limit ? next : limit;
	}
	free(mods);
}

static void load_kallsyms(struct symbolizer *s)
{
	char line[512];
	size_t cap = 0, names_len = 0, names_cap = 0;
	uint64_t etext = 0, einittext = 0;
	bool any_address = false;
	FILE *f;

	s->ksyms_loaded = true;
	s->ksyms_loaded_ns = monotonic_ns();
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	/* names go into one buffer: offsets first, pointers once it stops growing */
	while (fgets(line, sizeof(line), f)) {
		char type, name[256], module[128] = "[kernel]";
		uint64_t addr;
		size_t need;
		int fields = sscanf(line, "%" SCNx64 " %c %255s %127s", &addr, &type, name, module);

		if (fields < 3)
			continue;
		any_address |= addr != 0;
		if (!strcmp(name, "_etext"))
			etext = addr;
		else if (!strcmp(name, "_einittext"))
			einittext = addr;
		/* text only; __pfx_ symbols name the padding before a function; _etext and
		 * _einittext mark where text ends and are no code (if kept, _etext would lend its
		 * name to everything up to the init text: rodata, data) */
		if ((type != 't' && type != 'T' && type != 'w' && type != 'W') ||
		    !strncmp(name, "__pfx_", 6) || !strcmp(name, "_etext") ||
		    !strcmp(name, "_einittext"))
			continue;
		need = strlen(name) + 1 + strlen(module) + 1;
		if (names_len + need > names_cap) {
			size_t grown_cap = names_cap ? names_cap * 2 : 1 << 20;
			char *grown;

			while (grown_cap < names_len + need)
				grown_cap *= 2;
			grown = realloc(s->ksym_names, grown_cap);
			if (!grown)
				break;
			s->ksym_names = grown;
			names_cap = grown_cap;
		}
		if (s->nksyms == cap) {
			size_t grown_cap = cap ? cap * 2 : 65536;
			struct sym_kernel_symbol *grown = realloc(s->ksyms, grown_cap * sizeof(*grown));

			if (!grown)
				break;
			s->ksyms = grown;
			cap = grown_cap;
		}
		s->ksyms[s->nksyms++] = (struct sym_kernel_symbol){
			.start = addr,
			.name = (const char *)(uintptr_t)names_len,
			.module = (const char *)(uintptr_t)(names_len + strlen(name) + 1),
		};
		strcpy(s->ksym_names + names_len, name);
		strcpy(s->ksym_names + names_len + strlen(name) + 1, module);
		names_len += need;
	}
	fclose(f);
	if (!any_address) {
		/* kptr_restrict hides the addresses from us: nothing can be named */
		fprintf(stderr, "note: /proc/kallsyms hides the kernel's addresses from this process "
			"(CAP_SYSLOG shows them unless kernel.kptr_restrict = 2): kernel frames "
			"are bare addresses\n");
		s->nksyms = 0;
		return;
	}
	for (size_t i = 0; i < s->nksyms; i++) {
		s->ksyms[i].name = s->ksym_names + (uintptr_t)s->ksyms[i].name;
		s->ksyms[i].module = s->ksym_names + (uintptr_t)s->ksyms[i].module;
	}
	qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), symbol_compare);
	/* one string per module name, so that set_ends() can compare pointers */
	for (size_t i = 1; i < s->nksyms; i++)
		if (!strcmp(s->ksyms[i].module, s->ksyms[i - 1].module))
			s->ksyms[i].module = s->ksyms[i - 1].module;
	set_ends(s, etext, einittext);
}

static const struct sym_kernel_symbol *lookup(const struct symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nksyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < s->ksyms[mid].start)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* lo: the first symbol after addr; the one before may hold it */
	if (lo && addr < s->ksyms[lo - 1].end)
		return &s->ksyms[lo - 1];
	return NULL;
}

const struct sym_kernel_symbol *sym_kernel_lookup(struct symbolizer *s, uint64_t addr)
{
	if (!s->ksyms_loaded)
		load_kallsyms(s);
	return lookup(s, addr);
}

void sym_kernel_refresh(struct symbolizer *s, const uint64_t *addrs, size_t n)
{
	if (!s->ksyms_loaded) {
		load_kallsyms(s);
		return;
	}
	if (s->ksyms_reloaded && monotonic_ns() - s->ksyms_loaded_ns < RELOAD_AFTER_NS)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!lookup(s, addrs[i])) {
			sym_kernel_free(s);
			load_kallsyms(s);
			s->ksyms_reloaded = true;
			return;
		}
	}
}

bool symbolizer_kernel_function(struct symbolizer *s, const char *name, uint64_t *start,
				uint64_t *end)
{
	if (!s->ksyms_loaded)
		load_kallsyms(s);
	for (size_t i = 0; i < s->nksyms; i++) {
		if (!strcmp(s->ksyms[i].name, name) && !strcmp(s->ksyms[i].module, "[kernel]")) {
			*start = s->ksyms[i].start;
			*end = s->ksyms[i].end;
			return true;
		}
	}
	return false;
}

/* The frames a tracer adds on top of the stack it records: the BPF program and the glue that
 * ran it.  Only ever removed from the top. */
bool sym_kernel_is_tracer(const char *name)
{
	static const char *const prefixes[] = {
		"bpf_prog_",	     "bpf_trace_run",	     "__bpf_trace_", "__traceiter_",
		"bpf_trampoline_",  "trace_call_bpf",	     "__bpf_prog_run", "bpf_dispatcher_",
		"bpf_get_stack",    "__bpf_get_stack",	     "bpf_get_stackid", "perf_trace_run_bpf",
		"bpf_overflow_handler", "__bpf_get_stackid",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void sym_kernel_free(struct symbolizer *s)
{
	free(s->ksyms);
	free(s->ksym_names);
	s->ksyms = NULL;
	s->ksym_names = NULL;
	s->nksyms = 0;
}
