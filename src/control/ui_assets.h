// UiAssets: the web dashboard's files (src/control/ui/: index.html, app.css, app.js, favicon.svg, the Budgets
// page's budgets.js and budgets.css, the alerts banner's alerts.js and the Traces page's traces.js), compiled
// into the binary at build time, answered for GET /ui, /ui/ and /ui/FILE with their content type,
// `Cache-Control: no-cache`, a strict Content-Security-Policy (everything from the control plane's own
// origin, nothing inline) and nosniff. The shell carries no data and needs no token: the page asks for the
// admin token and sends it on each API call. It never reads a file at run time and never serves anything
// outside the embedded set.
#pragma once

#include <string_view>

#include "proxy/admin_listener.h"

namespace tollway::control {

// Whether `path` is the dashboard's (/ui or under /ui/).
bool is_ui_path(std::string_view path);
// The embedded file `path` names, or a 404.
proxy::AdminResponse ui_response(std::string_view path);

}  // namespace tollway::control
