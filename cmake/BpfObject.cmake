# BPF objects and their libbpf skeletons.
#
#   bpf_skeleton(<name> SOURCE <file.bpf.c>)
#
# compiles <file.bpf.c> with clang for the BPF target (CO-RE, against a vmlinux.h generated from
# STALLKIT_BTF), generates <name>.skel.h with bpftool, and provides an INTERFACE target
# <name>_skel whose include directory holds the skeleton.  clang writes a depfile, so editing a
# header that the BPF source includes rebuilds the object and its skeleton.

# clang 14 crashes on some builtins for the BPF target (see docs); prefer a newer one.
find_program(BPF_CLANG NAMES clang-19 clang-18 clang-17 clang-16 clang-15 clang
	     DOC "clang used to compile BPF programs")
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin DOC "bpftool (skeletons, vmlinux.h)")
if(NOT BPF_CLANG)
	message(FATAL_ERROR "clang not found: install clang-16 (scripts/setup does)")
endif()
if(NOT BPFTOOL)
	message(FATAL_ERROR "bpftool not found: install bpftool (scripts/setup does)")
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
	set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
	set(BPF_TARGET_ARCH arm64)
else()
	message(FATAL_ERROR "unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
set(VMLINUX_H ${BPF_GEN_DIR}/vmlinux/vmlinux.h)

add_custom_command(OUTPUT ${VMLINUX_H}
	COMMAND ${CMAKE_COMMAND} -DBPFTOOL=${BPFTOOL} -DINPUT=${STALLKIT_BTF}
		-DOUTPUT=${VMLINUX_H} -DMODE=vmlinux -P ${CMAKE_SOURCE_DIR}/cmake/bpftool-to-file.cmake
	DEPENDS ${STALLKIT_BTF}
	COMMENT "Generating vmlinux.h from ${STALLKIT_BTF}"
	VERBATIM)
add_custom_target(vmlinux_h DEPENDS ${VMLINUX_H})

function(bpf_skeleton name)
	cmake_parse_arguments(ARG "" "SOURCE" "" ${ARGN})
	set(src ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE})
	set(obj ${BPF_GEN_DIR}/${name}.bpf.o)
	set(skel ${BPF_GEN_DIR}/${name}/${name}.skel.h)

	add_custom_command(OUTPUT ${obj}
		COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3
			-D__TARGET_ARCH_${BPF_TARGET_ARCH}
			-Wall -Wextra -Werror -Wno-unused-parameter
			-I${BPF_GEN_DIR}/vmlinux -I${CMAKE_SOURCE_DIR}/bpf
			-I${CMAKE_SOURCE_DIR}/tools
			-MD -MF ${obj}.d
			-c ${src} -o ${obj}
		DEPENDS ${src} ${VMLINUX_H}
		DEPFILE ${obj}.d
		COMMENT "Compiling BPF object ${name}.bpf.o"
		VERBATIM)
	add_custom_command(OUTPUT ${skel}
		COMMAND ${CMAKE_COMMAND} -DBPFTOOL=${BPFTOOL} -DINPUT=${obj} -DOUTPUT=${skel}
			-DMODE=skeleton -DNAME=${name}_bpf
			-P ${CMAKE_SOURCE_DIR}/cmake/bpftool-to-file.cmake
		DEPENDS ${obj}
		COMMENT "Generating skeleton ${name}.skel.h"
		VERBATIM)
	add_custom_target(${name}_skel_gen DEPENDS ${skel})
	# vmlinux.h comes from the top directory: order by target, then the file exists
	add_dependencies(${name}_skel_gen vmlinux_h)
	add_library(${name}_skel INTERFACE)
	add_dependencies(${name}_skel ${name}_skel_gen)
	target_include_directories(${name}_skel INTERFACE ${BPF_GEN_DIR}/${name})
endfunction()
