# Syscall and errno name tables, generated at build time from the system's kernel headers
# (linux-libc-dev) for the build architecture.

find_file(SYSCALL_HEADER NAMES asm/unistd_64.h
	  PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE} /usr/include NO_DEFAULT_PATH)
find_file(ERRNO_BASE_HEADER NAMES asm-generic/errno-base.h PATHS /usr/include NO_DEFAULT_PATH)
find_file(ERRNO_HEADER NAMES asm-generic/errno.h PATHS /usr/include NO_DEFAULT_PATH)
if(NOT SYSCALL_HEADER OR NOT ERRNO_HEADER OR NOT ERRNO_BASE_HEADER)
	message(FATAL_ERROR "kernel headers not found: install linux-libc-dev")
endif()

set(TABLES_DIR ${CMAKE_BINARY_DIR}/tables)
set(SYSCALL_TABLE_C ${TABLES_DIR}/syscall_names.c)
set(ERRNO_TABLE_C ${TABLES_DIR}/errno_names.c)

add_custom_command(OUTPUT ${SYSCALL_TABLE_C} ${ERRNO_TABLE_C}
	COMMAND ${CMAKE_COMMAND} -DSYSCALL_HEADER=${SYSCALL_HEADER}
		-DERRNO_HEADERS=${ERRNO_BASE_HEADER}$<SEMICOLON>${ERRNO_HEADER}
		-DSYSCALL_OUT=${SYSCALL_TABLE_C} -DERRNO_OUT=${ERRNO_TABLE_C}
		-P ${CMAKE_SOURCE_DIR}/cmake/gen-tables.cmake
	DEPENDS ${SYSCALL_HEADER} ${ERRNO_BASE_HEADER} ${ERRNO_HEADER}
		${CMAKE_SOURCE_DIR}/cmake/gen-tables.cmake
	COMMENT "Generating syscall and errno name tables"
	VERBATIM)
