# Sanitizer and fuzzing build options (issue #16; docs/fuzzing.md). Included by the top-level
# CMakeLists.txt before any target, so the flags reach crossmodal_core, the C++ unit tests and
# the fuzz targets alike (each of those builds lives in its own build directory: tools/fuzz.sh
# and tools/test-sanitized.sh use build-sanitized/).
#
#   CROSSMODAL_SANITIZE=address,undefined   -fsanitize=... on every target, -fno-omit-frame-pointer,
#                                           UBSan findings are fatal (-fno-sanitize-recover)
#   CROSSMODAL_FUZZ=ON                      libFuzzer targets in test/fuzz (clang only): the core
#                                           gets coverage instrumentation (-fsanitize=fuzzer-no-link)
set(CROSSMODAL_SANITIZE "" CACHE STRING "Comma-separated sanitizers for every target, e.g. address,undefined")
option(CROSSMODAL_FUZZ "Build the libFuzzer targets in test/fuzz (clang; combine with CROSSMODAL_SANITIZE)" OFF)

if(CROSSMODAL_SANITIZE)
  set(_crossmodal_san_flags -fsanitize=${CROSSMODAL_SANITIZE} -fno-omit-frame-pointer -g)
  if(CROSSMODAL_SANITIZE MATCHES "undefined")
    list(APPEND _crossmodal_san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_crossmodal_san_flags})
  add_link_options(-fsanitize=${CROSSMODAL_SANITIZE})
  message(STATUS "crossmodal: sanitizers ${CROSSMODAL_SANITIZE}")
endif()

if(CROSSMODAL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CROSSMODAL_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14 "
                        "-DCMAKE_C_COMPILER=clang-14, or run tools/fuzz.sh")
  endif()
  # Coverage feedback for everything compiled here; only the fuzz executables link libFuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
