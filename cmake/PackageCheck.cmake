# Read by cpack when it starts (CPACK_PROJECT_CONFIG_FILE, set in Package.cmake): a package is
# made only from the build that README's "Install as a package" configures.
set(wanted "-DCMAKE_INSTALL_PREFIX=/usr -DSTALLKIT_TESTS=OFF -DSTALLKIT_SANITIZE=OFF")
if(CPACK_STALLKIT_SANITIZE)
	set(why "built with the sanitizers")
elseif(CPACK_STALLKIT_TESTS)
	set(why "built with the tests")
elseif(NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
	set(why "configured for ${CPACK_PACKAGING_INSTALL_PREFIX}, not /usr")
elseif(NOT CPACK_STALLKIT_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
	set(why "not a release build (${CPACK_STALLKIT_BUILD_TYPE})")
endif()
if(why)
	message(FATAL_ERROR "stallkit: no package from this build: it is ${why}.  Configure a "
		"build of its own with ${wanted}, build it, and run cpack there.")
endif()
