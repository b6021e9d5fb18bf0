# Writes OUT: one C string per schema in DIR (office.rng -> tpl_schema_office).
set(code "/* Generated from templates/schema by embed_schemas.cmake: do not edit. */\n#include \"tpl_schemas.h\"\n")
foreach(name office notice)
  file(READ ${DIR}/${name}.rng hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND code "static const char ${name}_bytes[] = {${bytes}0x00};\nconst char *const tpl_schema_${name} = ${name}_bytes;\n")
endforeach()
file(WRITE ${OUT} "${code}")
