# cmake -DFUZZER=<bin> -DCORPUS=<seed dir> -DWORK=<scratch dir> -DSECONDS=<n> [-DARGS=<flags>]
#       -P run_fuzzer.cmake
# Runs a libFuzzer binary for SECONDS on a copy of CORPUS (the seeds stay untouched); fails if the
# fuzzer finds a crash, a leak or a sanitizer error (libFuzzer exits non-zero then).
foreach(v FUZZER CORPUS WORK SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzzer.cmake: ${v} not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/artifacts)
file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=25 -rss_limit_mb=4096
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${ARGS} ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); reproducers in ${WORK}/artifacts/")
endif()
