# Runs bpftool and writes its standard output to a file (add_custom_command has no redirection).
if(MODE STREQUAL "vmlinux")
	set(args btf dump file ${INPUT} format c)
elseif(MODE STREQUAL "skeleton")
	set(args gen skeleton ${INPUT} name ${NAME})
else()
	message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
get_filename_component(dir ${OUTPUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${BPFTOOL} ${args}
	OUTPUT_FILE ${OUTPUT}.tmp
	RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	file(REMOVE ${OUTPUT}.tmp)
	message(FATAL_ERROR "bpftool ${args} failed (${rc})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
