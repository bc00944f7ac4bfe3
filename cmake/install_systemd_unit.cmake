# Install step: copies deploy/systemd/tollway-gateway.service into <prefix>/lib/systemd/system with ExecStart naming
# <prefix>/<bindir>/tollway, where <prefix> is the one this install runs with (`cmake --install --prefix` included).
# TOLLWAY_UNIT_SOURCE and TOLLWAY_BINDIR are set by the install(CODE) just before it.
file(READ "${TOLLWAY_UNIT_SOURCE}" unit)
string(REPLACE "ExecStart=/usr/local/bin/tollway" "ExecStart=${CMAKE_INSTALL_PREFIX}/${TOLLWAY_BINDIR}/tollway" unit
       "${unit}")
set(destination "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
message(STATUS "Installing: ${destination}/tollway-gateway.service")
file(MAKE_DIRECTORY "${destination}")
file(WRITE "${destination}/tollway-gateway.service" "${unit}")
