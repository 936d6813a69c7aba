# cmake -DINPUT=FILE -DOUTPUT=FILE.inc -P EmbedFile.cmake
# Writes FILE's text as a C++ raw string literal, for `#include` inside an
# initializer (kiln-compile embeds include/kiln/aot.h in the headers it
# writes for AOT libraries).
file(READ "${INPUT}" text)
string(FIND "${text}" ")kiln_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )kiln_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp" "R\"kiln_embed(${text})kiln_embed\"\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
