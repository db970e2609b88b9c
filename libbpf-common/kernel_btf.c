// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel_btf.h"

static struct btf *vmlinux;
static bool tried;

static const struct btf *kernel_btf(void)
{
	if (!tried) {
		tried = true;
		vmlinux = btf__load_vmlinux_btf(); /* NULL (errno set) without BTF */
	}
	return vmlinux;
}

bool kernel_btf_available(void)
{
	return kernel_btf();
}

void kernel_btf_free(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
	tried = false;
}

/* Calls fn for each value of the enum until it returns non-zero; returns that */
static int enum_find(const char *enum_name, int (*fn)(const char *name, int64_t value, void *ctx),
		     void *ctx)
{
	const struct btf *btf = kernel_btf();
	const struct btf_type *t;
	int id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM64);
	if (id < 0)
		return 0;
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *name;
		int64_t value;
		int ret;

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;

			name = btf__name_by_offset(btf, e->name_off);
			value = btf_kflag(t) ? (int64_t)(int32_t)e->val : (int64_t)(uint32_t)e->val;
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;

			name = btf__name_by_offset(btf, e->name_off);
			value = (int64_t)btf_enum64_value(e);
		}
		ret = fn(name, value, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

struct enum_query {
	const char *name;
	int64_t value;
};

static int match_value(const char *name, int64_t value, void *ctx)
{
	struct enum_query *q = ctx;

	if (value != q->value)
		return 0;
	q->name = name;
	return 1;
}

static int match_name(const char *name, int64_t value, void *ctx)
{
	struct enum_query *q = ctx;

	if (strcmp(name, q->name))
		return 0;
	q->value = value;
	return 1;
}

const char *kernel_enum_name(const char *enum_name, int64_t value)
{
	struct enum_query q = { .value = value };

	return enum_find(enum_name, match_value, &q) ? q.name : NULL;
}

int kernel_enum_value(const char *enum_name, const char *name, int64_t *value)
{
	struct enum_query q = { .name = name };

	if (!enum_find(enum_name, match_name, &q))
		return -1;
	*value = q.value;
	return 0;
}

int kernel_tracepoint_args(const char *name)
{
	const struct btf *btf = kernel_btf();
	const struct btf_type *t;
	char type_name[128];
	int id;

	if (!btf)
		return -1;
	snprintf(type_name, sizeof(type_name), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, type_name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	/* typedef -> pointer -> function prototype, whose first parameter is the probe's data */
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}
