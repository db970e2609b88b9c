# Writes every errno and syscall name that the C library's headers define (<errno.h>,
# <sys/syscall.h>), each with the macro itself as its value: compiled into the unit tests, the
# values are the compiler's, a ground truth independent of the tables cmake/gen-tables.cmake
# parses out of the kernel's headers.
#   cmake -DCC=compiler -DOUTPUT=libc_names.h -P libc-names.cmake
execute_process(COMMAND ${CC} -dM -E -include errno.h -include sys/syscall.h -x c /dev/null
		OUTPUT_VARIABLE macros COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "#define E[A-Z0-9]+ " errnos "${macros}")
string(REGEX MATCHALL "#define SYS_[a-z0-9_]+ " syscalls "${macros}")
set(body "static const struct libc_name libc_errnos[] = {\n")
foreach(m IN LISTS errnos)
	string(REGEX REPLACE "#define (E[A-Z0-9]+) " "\\1" name "${m}")
	string(APPEND body "\t{ \"${name}\", ${name} },\n")
endforeach()
string(APPEND body "};\nstatic const struct libc_name libc_syscalls[] = {\n")
foreach(m IN LISTS syscalls)
	string(REGEX REPLACE "#define SYS_([a-z0-9_]+) " "\\1" name "${m}")
	string(APPEND body "\t{ \"${name}\", SYS_${name} },\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "/* Generated from the C library's headers; do not edit. */
#include <errno.h>
#include <sys/syscall.h>
struct libc_name {
	const char *name;
	long value;
};
${body}};
")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
