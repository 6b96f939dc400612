# relay_add_test(name KIND unit|fuzz|bench SOURCES ... [LIBS ...] [ARGS ...])
#   unit:  a GoogleTest binary registered with CTest under the label "unit".
#   fuzz:  a libFuzzer target; CTest replays
#          tests/fuzz/corpus/<name>/ under the label "fuzz". DICT names a dictionary
#          in tests/fuzz/ (default ws.dict).
#   bench: a Google Benchmark program; CTest runs it briefly (label "bench")
#          to prove it works, never to judge speed.
# Fuzz and bench targets are options, not holes: with RELAY_FUZZ=OFF (the default) or
# RELAY_BENCH=OFF the call adds nothing. Every other missing part is a configure error.
function(relay_add_test name)
  cmake_parse_arguments(T "" "KIND;DICT" "SOURCES;LIBS;ARGS" ${ARGN})
  if(T_KIND STREQUAL "unit")
    find_package(GTest REQUIRED)
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
    add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
    set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
  elseif(T_KIND STREQUAL "fuzz")
    if(NOT RELAY_FUZZ)
      return()  # option switch: fuzz targets only with -DRELAY_FUZZ=ON (clang, checked on top)
    endif()
    add_executable(${name} ${T_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${T_LIBS})
    set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    if(NOT T_DICT)
      set(T_DICT ws.dict)
    endif()
    # Replay the committed corpus (every file once), then fuzz briefly.
    add_test(NAME ${name} COMMAND ${name} -runs=0 ${corpus})
    set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 300)
    # New inputs go to a scratch directory in the build tree (libFuzzer writes into the
    # first corpus directory), so a test run never adds files to the committed corpus.
    set(scratch ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
    file(MAKE_DIRECTORY ${scratch})
    add_test(NAME ${name}_short COMMAND ${name} -max_total_time=30
             -dict=${PROJECT_SOURCE_DIR}/tests/fuzz/${T_DICT} ${scratch} ${corpus})
    set_tests_properties(${name}_short PROPERTIES LABELS fuzz TIMEOUT 120)
  elseif(T_KIND STREQUAL "bench")
    if(NOT RELAY_BENCH)
      return()  # option switch: benchmarks only with -DRELAY_BENCH=ON (the default)
    endif()
    find_package(benchmark REQUIRED)
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE ${T_LIBS} benchmark::benchmark Threads::Threads)
    add_test(NAME ${name} COMMAND ${name} --benchmark_min_time=0.01 ${T_ARGS})
    set_tests_properties(${name} PROPERTIES LABELS bench TIMEOUT 300)
  else()
    message(FATAL_ERROR "relay_add_test: unknown KIND '${T_KIND}'")
  endif()
endfunction()
