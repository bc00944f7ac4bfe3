#include "control/ui_assets.h"

#include "control/api_response.h"

namespace tollway::control {

// Generated from src/control/ui/ by cmake/embed_text_file.cmake (src/control/CMakeLists.txt).
extern const std::string_view kUiIndexHtml;
extern const std::string_view kUiAppCss;
extern const std::string_view kUiAppJs;
extern const std::string_view kUiTracesJs;
extern const std::string_view kUiAdviseJs;
extern const std::string_view kUiFaviconSvg;
extern const std::string_view kUiBudgetsJs;
extern const std::string_view kUiAlertsJs;
extern const std::string_view kUiBudgetsCss;

namespace {

struct UiFile {
  std::string_view path;
  std::string_view content_type;
  const std::string_view& bytes;
};

const UiFile kFiles[] = {
    {"/ui", "text/html; charset=utf-8", kUiIndexHtml},
    {"/ui/", "text/html; charset=utf-8", kUiIndexHtml},
    {"/ui/app.css", "text/css; charset=utf-8", kUiAppCss},
    {"/ui/app.js", "text/javascript; charset=utf-8", kUiAppJs},
    {"/ui/traces.js", "text/javascript; charset=utf-8", kUiTracesJs},
    {"/ui/advise.js", "text/javascript; charset=utf-8", kUiAdviseJs},
    {"/ui/favicon.svg", "image/svg+xml", kUiFaviconSvg},
    {"/ui/budgets.js", "text/javascript; charset=utf-8", kUiBudgetsJs},
    {"/ui/alerts.js", "text/javascript; charset=utf-8", kUiAlertsJs},
    {"/ui/budgets.css", "text/css; charset=utf-8", kUiBudgetsCss},
};

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

bool is_ui_path(std::string_view path) {
  return path == "/ui" || path.starts_with("/ui/");
}

proxy::AdminResponse ui_response(std::string_view path) {
  for (const auto& file : kFiles) {
    if (file.path != path) continue;
    proxy::AdminResponse r{200, std::string(file.content_type), std::string(file.bytes), {}};
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    return r;
  }
  return error_response(404, "not_found", "the dashboard is at /ui; it has no file " + std::string(path));
}

}  // namespace tollway::control
