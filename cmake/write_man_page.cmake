# Build step: writes tollway(1) from the built binary's own --help texts, so the manual page says exactly what the
# binary does. Run as  cmake -DTOLLWAY=path/to/tollway -DVERSION=x.y.z -DOUTPUT=tollway.1 -P write_man_page.cmake
function(help_text out)
  execute_process(COMMAND "${TOLLWAY}" ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TOLLWAY} ${ARGN} --help exited with ${rc}")
  endif()
  # CLI11 prints argv[0] in "Usage:"; the page names the command, not where it was built.
  string(REPLACE "${TOLLWAY}" "tollway" text "${text}")
  # troff: a backslash is \e; a line starting with . or ' would be a request.
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

help_text(main)
string(CONCAT page ".TH TOLLWAY 1 \"\" \"tollway ${VERSION}\" \"User Commands\"\n"
         ".SH NAME\ntollway \\- AI gateway: token-aware limits, budgets, routing and telemetry for LLM traffic\n"
         ".SH SYNOPSIS\n.B tollway\n.I command\n[options]\n"
         ".SH DESCRIPTION\n.nf\n${main}.fi\n")
foreach(command gateway validate tokens version)
  help_text(text ${command})
  string(APPEND page ".SH \"TOLLWAY ${command}\"\n.nf\n${text}.fi\n")
endforeach()
string(APPEND page ".SH FILES\n"
                   "The default config and price table compiled into the binary are installed for reference as\n"
                   ".IR share/tollway/gateway.yaml \" and \" share/tollway/pricing.yaml .\n"
                   ".SH SEE ALSO\n"
                   "docs/operations.md and docs/configuration.md in the source tree.\n")
file(WRITE "${OUTPUT}" "${page}")
