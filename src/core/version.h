// The build's version string, from CMake's project() version. Nothing else.
#pragma once

namespace tollway {
inline constexpr const char* kVersion = TOLLWAY_VERSION;
}
