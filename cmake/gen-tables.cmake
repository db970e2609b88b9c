# Writes the syscall table (`#define __NR_name nr`) and the errno table (`#define ENAME nr`,
# aliases kept for name lookups) as C arrays.

file(STRINGS ${SYSCALL_HEADER} lines REGEX "^#define __NR_[a-z0-9_]+[ \t]+[0-9]+")
set(body "")
foreach(line IN LISTS lines)
	string(REGEX MATCH "^#define __NR_([a-z0-9_]+)[ \t]+([0-9]+)" _ "${line}")
	string(APPEND body "\t{ \"${CMAKE_MATCH_1}\", ${CMAKE_MATCH_2} },\n")
endforeach()
file(WRITE ${SYSCALL_OUT}.tmp
"/* Generated from ${SYSCALL_HEADER}; do not edit. */
#include \"syscalls.h\"

const struct syscall_name syscall_names[] = {
${body}};
const unsigned int syscall_names_len = sizeof(syscall_names) / sizeof(syscall_names[0]);
")
file(RENAME ${SYSCALL_OUT}.tmp ${SYSCALL_OUT})

set(body "")
foreach(header IN LISTS ERRNO_HEADERS)
	file(STRINGS ${header} lines REGEX "^#define[ \t]+E[A-Z0-9]+[ \t]+[A-Z0-9]+")
	foreach(line IN LISTS lines)
		string(REGEX MATCH "^#define[ \t]+(E[A-Z0-9]+)[ \t]+([A-Z0-9]+)" _ "${line}")
		set(name ${CMAKE_MATCH_1})
		set(value ${CMAKE_MATCH_2})
		if(value MATCHES "^[0-9]+$")
			string(APPEND body "\t{ \"${name}\", ${value}, false },\n")
		else()
			# an alias such as EWOULDBLOCK EAGAIN: its number is the other name's
			string(APPEND body "\t{ \"${name}\", ${value}, true },\n")
		endif()
	endforeach()
endforeach()
file(WRITE ${ERRNO_OUT}.tmp
"/* Generated from the kernel's asm-generic errno headers; do not edit. */
#include <errno.h>
#include \"errnos.h\"

const struct errno_name errno_names[] = {
${body}};
const unsigned int errno_names_len = sizeof(errno_names) / sizeof(errno_names[0]);
")
file(RENAME ${ERRNO_OUT}.tmp ${ERRNO_OUT})
