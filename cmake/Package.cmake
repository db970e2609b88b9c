# The Debian package, made by `cpack` in a build of its own (README, "Install as a package"):
#
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DSTALLKIT_TESTS=OFF -DSTALLKIT_SANITIZE=OFF
#   cmake --build build-deb && (cd build-deb && cpack)      -> build-deb/stallkit_VERSION_ARCH.deb
#
# cpack refuses any other build (cmake/PackageCheck.cmake).  packaging/ holds the package's own
# files: the maintainer scripts, the prune timer, copyright, changelog, description, the
# example policy, and the tracers' file capabilities (packaging/file-caps, read here).

set(STALLKIT_MAINTAINER "stallkit maintainers <maintainers@users.noreply.r-seed-c57ef9ae.example>"
	CACHE STRING "The package's Maintainer field")
set(STALLKIT_PACKAGE_TRACERS "syslat offcputime profile dnsblock tcpretrans stallcheck stallsym")
set(STALLKIT_PACKAGE_READER stallreport)
set(pkg ${CMAKE_SOURCE_DIR}/packaging)
set(pkg_out ${CMAKE_BINARY_DIR}/packaging)

# One line in setcap's syntax, e.g. "cap_bpf,cap_perfmon=ep"; a change reconfigures.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${pkg}/file-caps ${pkg}/changelog)
file(STRINGS ${pkg}/file-caps caps_lines)
string(STRIP "${caps_lines}" STALLKIT_FILE_CAPS)
if(NOT STALLKIT_FILE_CAPS MATCHES "^[a-z_,]+[-+=][eip]*( [a-z_,]+[-+=][eip]*)*$")
	message(FATAL_ERROR "packaging/file-caps: one line of capabilities in setcap's syntax "
		"(cap_bpf,cap_perfmon=ep), not '${caps_lines}'")
endif()

# The changelog's newest entry is this version: a new version needs its entry.
file(STRINGS ${pkg}/changelog changelog_top LIMIT_COUNT 1)
if(NOT changelog_top MATCHES "^stallkit \\(${PROJECT_VERSION}\\) ")
	message(FATAL_ERROR "packaging/changelog: its first entry is not version ${PROJECT_VERSION}")
endif()

find_program(GZIP gzip REQUIRED)
configure_file(${pkg}/postinst.in ${pkg_out}/postinst @ONLY)
configure_file(${pkg}/postrm.in ${pkg_out}/postrm @ONLY)
configure_file(${pkg}/prerm ${pkg_out}/prerm COPYONLY)
configure_file(${pkg}/stallkit-prune.service.in ${pkg_out}/stallkit-prune.service @ONLY)
add_custom_command(
	OUTPUT ${pkg_out}/changelog.gz
	COMMAND ${CMAKE_COMMAND} -E copy ${pkg}/changelog changelog
	COMMAND ${GZIP} -9nf changelog
	DEPENDS ${pkg}/changelog
	WORKING_DIRECTORY ${pkg_out}
	VERBATIM)
add_custom_target(package-changelog ALL DEPENDS ${pkg_out}/changelog.gz)

install(FILES ${pkg}/copyright ${pkg_out}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${pkg}/policy.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${pkg_out}/stallkit-prune.service ${pkg}/stallkit-prune.timer
	DESTINATION lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
	OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "eBPF tools that find where a live process waits, and why")
set(CPACK_PACKAGE_DESCRIPTION_FILE ${pkg}/description)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${STALLKIT_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser makes the groups, libcap2-bin's setcap gives the capabilities
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libcap2-bin")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${pkg_out}/postinst ${pkg_out}/prerm ${pkg_out}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# What PackageCheck.cmake looks at when cpack starts
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_SOURCE_DIR}/cmake/PackageCheck.cmake)
set(CPACK_STALLKIT_TESTS ${STALLKIT_TESTS})
set(CPACK_STALLKIT_SANITIZE ${STALLKIT_SANITIZE})
set(CPACK_STALLKIT_BUILD_TYPE ${CMAKE_BUILD_TYPE})
include(CPack)
