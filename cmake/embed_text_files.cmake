# tollway_embed_text_files(OUT_VAR NAMESPACE NS DIR DIR LABEL LABEL FILES "name;Variable" ...): one generated C++
# source per file of DIR, defining NS::Variable with the file's text (cmake/embed_text_file.cmake), regenerated
# whenever the file changes; the sources are appended to OUT_VAR. Used by src/config (the default config) and
# src/control (the web dashboard).
function(tollway_embed_text_files out_var)
  cmake_parse_arguments(ARG "" "NAMESPACE;DIR;LABEL" "FILES" ${ARGN})
  set(sources)
  foreach(entry ${ARG_FILES})
    string(REPLACE ":" ";" entry "${entry}")
    list(GET entry 0 file)
    list(GET entry 1 variable)
    string(REPLACE "." "_" stem "${file}")
    set(output "${CMAKE_CURRENT_BINARY_DIR}/embedded_${stem}.cc")
    add_custom_command(
      OUTPUT "${output}"
      COMMAND ${CMAKE_COMMAND} -DINPUT=${ARG_DIR}/${file} -DOUTPUT=${output}
              -DNAMESPACE=${ARG_NAMESPACE} -DVARIABLE=${variable} -P ${PROJECT_SOURCE_DIR}/cmake/embed_text_file.cmake
      DEPENDS "${ARG_DIR}/${file}" "${PROJECT_SOURCE_DIR}/cmake/embed_text_file.cmake"
      COMMENT "Embedding ${ARG_LABEL}/${file}"
      VERBATIM)
    list(APPEND sources "${output}")
  endforeach()
  set(${out_var} ${${out_var}} ${sources} PARENT_SCOPE)
endfunction()
