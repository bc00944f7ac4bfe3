# Build step: writes a C++ source defining `std::string_view VARIABLE` (namespace NAMESPACE) that holds the bytes of
# INPUT, for files the binary carries (the default config and price table, the web dashboard's files). Run as
#   cmake -DINPUT=... -DOUTPUT=... -DNAMESPACE=... -DVARIABLE=... -P embed_text_file.cmake
# Fails when INPUT contains the raw-string delimiter, so the literal can never end early.
file(READ "${INPUT}" text)
set(delimiter "tollway_embedded")
if(text MATCHES "\\)${delimiter}\"")
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.partial"
  "// Generated at build time from ${name} by cmake/embed_text_file.cmake; never edit or commit it.\n"
  "#include <string_view>\n\n"
  "namespace ${NAMESPACE} {\n"
  "extern const std::string_view ${VARIABLE};\n"
  "const std::string_view ${VARIABLE} = R\"${delimiter}(${text})${delimiter}\";\n"
  "}  // namespace ${NAMESPACE}\n")
file(RENAME "${OUTPUT}.partial" "${OUTPUT}")
