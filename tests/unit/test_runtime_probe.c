// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CPython layouts the unwinder and the symbolizer use, against the headers of the CPython
 * the tests run (Debian 12's 3.11), and the probe of its interpreter binary.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "runtime_probe.h"

static void layout_matches_the_headers(void **state)
{
	const struct python_layout *l = python_layout(PY_VERSION_HEX);
	const struct python_objects *o = python_objects(PY_VERSION_HEX);

	(void)state;
	assert_non_null(l);
	assert_non_null(o);
	assert_int_equal(l->runtime_interpreters, offsetof(_PyRuntimeState, interpreters.head));
	assert_int_equal(l->interp_threads, offsetof(PyInterpreterState, threads.head));
	assert_int_equal(l->thread_next, offsetof(PyThreadState, next));
	assert_int_equal(l->thread_tid, offsetof(PyThreadState, native_thread_id));
	assert_int_equal(l->thread_frame, offsetof(PyThreadState, cframe));
	assert_int_equal(l->cframe_frame, offsetof(_PyCFrame, current_frame));
	assert_int_equal(l->frame_code, offsetof(_PyInterpreterFrame, f_code));
	assert_int_equal(l->frame_previous, offsetof(_PyInterpreterFrame, previous));
	assert_int_equal(l->frame_instr, offsetof(_PyInterpreterFrame, prev_instr));
	assert_int_equal(l->frame_is_entry, offsetof(_PyInterpreterFrame, is_entry));
	assert_int_equal(l->frame_owner, PY_NONE);
	assert_int_equal(l->code_bytecode, offsetof(PyCodeObject, co_code_adaptive));
	assert_int_equal(o->object_type, offsetof(PyObject, ob_type));
	assert_int_equal(o->code_filename, offsetof(PyCodeObject, co_filename));
	assert_int_equal(o->code_qualname, offsetof(PyCodeObject, co_qualname));
	assert_int_equal(o->code_firstlineno, offsetof(PyCodeObject, co_firstlineno));
	assert_int_equal(o->code_linetable, offsetof(PyCodeObject, co_linetable));
	assert_int_equal(o->str_length, offsetof(PyASCIIObject, length));
	assert_int_equal(o->str_state, offsetof(PyASCIIObject, state));
	assert_int_equal(o->str_ascii_data, sizeof(PyASCIIObject));
	assert_int_equal(o->str_compact_data, sizeof(PyCompactUnicodeObject));
	assert_int_equal(o->bytes_size, offsetof(PyVarObject, ob_size));
	assert_int_equal(o->bytes_data, offsetof(PyBytesObject, ob_sval));
	/* the walk reads a 64-bit thread ID and a one-byte entry flag */
	assert_int_equal(sizeof(((PyThreadState *)0)->native_thread_id), 8);
	assert_int_equal(sizeof(((_PyInterpreterFrame *)0)->is_entry), 1);
}

static void unsupported_versions(void **state)
{
	char buf[128];
	struct runtime_binary b = { .python = true, .py_version = 0x030e0000, .py_runtime = 1,
				    .py_eval = 1, .py_code_type = 1 };

	(void)state;
	assert_null(python_layout(0x03070000));
	assert_null(python_layout(0x02070000));
	assert_string_equal(python_support(&b, buf, sizeof(buf)),
			    "CPython 3.14: not supported (supported: 3.11 to 3.13)");
}

/* The interpreter the tests run: /usr/bin/python3 -> python3.11, stripped, its symbols
 * exported */
static void probes_the_interpreter(void **state)
{
	int fd = open("/usr/bin/python" Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(
			      PY_MINOR_VERSION),
		      O_RDONLY);
	struct runtime_binary b;
	char buf[128], want[128];
	Elf *elf;

	(void)state;
	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	runtime_probe(elf, "/usr/bin/python3", &b);
	assert_true(b.python);
	assert_false(b.v8);
	assert_int_equal(b.py_version, PY_VERSION_HEX);
	assert_true(b.py_runtime && b.py_eval && b.py_eval_size && b.py_code_type);
	snprintf(want, sizeof(want), "CPython %s: supported", PY_VERSION);
	assert_string_equal(python_support(&b, buf, sizeof(buf)), want);
	elf_end(elf);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_matches_the_headers),
		cmocka_unit_test(unsupported_versions),
		cmocka_unit_test(probes_the_interpreter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
