# tuban_embed(<target> <generated.c> SYMBOL FILE [SYMBOL FILE ...]): compiles the files' bytes
# into <target> as NUL-terminated strings.
function(tuban_embed target out)
  set(symbols "")
  set(files "")
  set(deps "")
  set(pairs ${ARGN})
  while(pairs)
    list(POP_FRONT pairs symbol file)
    list(APPEND symbols ${symbol})
    list(APPEND files ${file})
  endwhile()
  string(REPLACE ";" "|" symbols_arg "${symbols}")
  string(REPLACE ";" "|" files_arg "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} "-DOUT=${out}" "-DSYMBOLS=${symbols_arg}" "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding ${symbols_arg}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
