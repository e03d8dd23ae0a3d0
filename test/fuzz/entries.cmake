# crossmodal_fuzz_entries: the fuzz entry functions and seed writers (fuzz_entries.cc), linked by
# the libFuzzer targets (test/fuzz) and by the C++ unit tests' replay test (test/native). Included
# by both directories' CMakeLists.txt; defined once.
if(NOT TARGET crossmodal_fuzz_entries)
  add_library(crossmodal_fuzz_entries STATIC "${PROJECT_SOURCE_DIR}/test/fuzz/fuzz_entries.cc")
  target_include_directories(crossmodal_fuzz_entries PUBLIC "${PROJECT_SOURCE_DIR}/test/fuzz")
  target_link_libraries(crossmodal_fuzz_entries PUBLIC crossmodal_core)
  target_compile_definitions(crossmodal_fuzz_entries PRIVATE
    CROSSMODAL_FUZZ_FIXTURES="${PROJECT_SOURCE_DIR}/test/fixtures")
  target_compile_options(crossmodal_fuzz_entries PRIVATE ${CROSSMODAL_WARNINGS})
endif()
