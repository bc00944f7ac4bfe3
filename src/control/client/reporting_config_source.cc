#include "control/client/reporting_config_source.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/loader.h"
#include "control/client/control_http.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/strict_json.h"
#include "core/version.h"

namespace tollway::control {

namespace asio = boost::asio;

struct ReportingConfigSource::State {
  State(asio::io_context& context, ReportOptions o) : options(std::move(o)), timer(context) {}
  ReportOptions options;
  asio::steady_timer timer;
  std::string version;         // the content version of the document the engine runs, "" until the first
  std::string config_version;  // the engine's resolved version
  bool dirty = false;          // a reload happened since the last report was sent
  bool stopped = false;
  std::size_t url_index = 0;
  bool connected = false;
  std::string match;  // the control plane's last answer: MATCHES or DRIFTED
  uint64_t reports_ok = 0;
  uint64_t reports_failed = 0;
};

namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(1000);
constexpr auto kRequestTimeout = std::chrono::milliseconds(10'000);

std::string base(const std::string& url) {
  std::string b = url;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

// One report to the current URL; true when the control plane recorded it.
asio::awaitable<bool> send_report(std::shared_ptr<ReportingConfigSource::State> state) {
  const std::string url = base(state->options.urls[state->url_index]);
  json::ObjectWriter w;
  w.field("node", state->options.node)
      .field("version", state->version)
      .field("config_version", state->config_version)
      .field("build", kVersion);
  const auto& identity = state->options.identity;
  if (identity) {
    const auto period = identity->certificate_period();
    auto unix_seconds = [](std::chrono::system_clock::time_point t) {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
    };
    w.field("cert_not_before", unix_seconds(period.not_before)).field("cert_not_after", unix_seconds(period.not_after));
  }
  const auto tls = identity ? identity->control_tls() : nullptr;
  const std::string peer_spiffe_id = identity ? identity->control_spiffe_id() : std::string();
  ControlReply reply = co_await control_request("POST", url + "/v1/report", state->options.token,
                                                std::move(w).finish(), kRequestTimeout, 64 << 10, tls, peer_spiffe_id);
  if (state->stopped) co_return false;
  std::string match;
  if (reply.ok && reply.status == 200) {
    std::string error;
    const auto answer = core::strict_json::parse(reply.body, error);
    if (answer && answer->is_object()) match = std::string(answer->string_member("match").value_or(""));
  }
  if (match.empty()) {
    ++state->reports_failed;
    std::string why = !reply.ok ? reply.error : "HTTP " + std::to_string(reply.status);
    if (reply.ok && reply.status == 401) why += " (node ID or token refused)";
    if (reply.ok && reply.status == 200) why += " without a match";
    if (state->connected || state->reports_failed == 1)
      log::warn("cannot report to the control plane; the gateway runs on unchanged",
                json::ObjectWriter().field("url", url).field("error", why));
    state->connected = false;
    state->url_index = (state->url_index + 1) % state->options.urls.size();
    co_return false;
  }
  ++state->reports_ok;
  if (!state->connected || match != state->match) {
    auto fields = json::ObjectWriter()
                      .field("url", url)
                      .field("node", state->options.node)
                      .field("version", state->version)
                      .field("match", match);
    if (match == "MATCHES")
      log::info("reported to the control plane: the config matches the policy", fields);
    else
      log::warn("reported to the control plane: the config DRIFTED from the policy", fields);
  }
  state->connected = true;
  state->match = match;
  co_return true;
}

asio::awaitable<void> report_loop(std::shared_ptr<ReportingConfigSource::State> state) {
  auto retry = kFirstRetry;
  while (!state->stopped) {
    auto wait = state->options.interval;
    if (!state->version.empty()) {
      state->dirty = false;
      const bool delivered =
          co_await send_report(state);  // (GCC 12 miscompiles a co_await inside a condition)
      if (delivered) {
        retry = kFirstRetry;
      } else {
        wait = std::min(retry, state->options.interval);
        retry = std::min(retry * 2, std::chrono::milliseconds(state->options.interval));
      }
    }
    if (state->stopped) break;
    if (state->dirty) continue;
    state->timer.expires_after(wait);
    boost::system::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

ReportingConfigSource::ReportingConfigSource(asio::io_context& context,
                                             std::unique_ptr<proxy::ConfigSource> inner,
                                             ReportOptions options)
    : inner_(std::move(inner)), state_(std::make_shared<State>(context, std::move(options))) {
  asio::co_spawn(context, report_loop(state_), asio::detached);
}

ReportingConfigSource::~ReportingConfigSource() {
  state_->stopped = true;
  state_->timer.cancel();
}

std::optional<proxy::ConfigDocument> ReportingConfigSource::read(std::string& error) {
  auto document = inner_->read(error);
  if (document) last_read_ = document->bytes;
  return document;
}

void ReportingConfigSource::cancel() {
  inner_->cancel();
  state_->stopped = true;
  state_->timer.cancel();
}

void ReportingConfigSource::applied(const std::string& version, const std::vector<std::string>& errors) {
  inner_->applied(version, errors);
  // A rejected reload leaves the running document (and its versions) as they were; it is reported all the
  // same.
  if (errors.empty()) {
    state_->version = config::content_version(last_read_);
    state_->config_version = version;
  }
  state_->dirty = true;
  state_->timer.cancel();
}

void ReportingConfigSource::render_metrics(std::string& out) const {
  inner_->render_metrics(out);
  namespace prometheus = core::prometheus;
  constexpr std::string_view kReports = "tollway_control_reports_total";
  prometheus::family(
      out, kReports, "counter",
      "Reports of the running config to the control plane (--report-to), by result: ok (recorded) "
      "or failed.");
  prometheus::sample(out, kReports, prometheus::labels({{"result", "ok"}}), state_->reports_ok);
  prometheus::sample(out, kReports, prometheus::labels({{"result", "failed"}}), state_->reports_failed);
  prometheus::family(out, "tollway_control_connected", "gauge",
                     "1 while the last exchange with a control plane succeeded.");
  prometheus::sample(out, "tollway_control_connected", "", state_->connected ? 1 : 0);
}

}  // namespace tollway::control
