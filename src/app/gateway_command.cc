// `tollway gateway`: runs the north-south gateway until SIGTERM, from a config file, the embedded config, or a
// control plane (--control); run from its own config it may report what it runs to a control plane (--report-to).
#include <algorithm>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "app/log_level.h"
#include "app/gateway_document_check.h"
#include "app/token_file.h"
#include "config/embedded_config.h"
#include "control/client/control_config_source.h"
#include "control/client/reporting_config_source.h"
#include "core/log.h"
#include "gateway/role.h"
#include "proxy/engine.h"
#include "tls/node_identity_files.h"

namespace tollway::app {
namespace {

// How long each control plane is given to answer at start before the next is tried.
constexpr auto kFirstFetchTimeout = std::chrono::seconds(3);

std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> urls;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) urls.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return urls;
}

// The source a gateway under control starts from: the control plane's snapshot when one answers and the
// gateway's check passes it; else the snapshot persisted by the last applied one (static stability), NACKing
// the refused one; else, with nothing persisted, it waits for a control plane to answer.
std::unique_ptr<proxy::ConfigSource> make_control_source(boost::asio::io_context& context,
                                                         const control::ControlClientOptions& options) {
  auto persisted = control::read_persisted_snapshot(options.state_dir);
  std::chrono::milliseconds wait(500);
  while (true) {
    std::string error;
    auto first = control::fetch_first_snapshot(options, kFirstFetchTimeout, error);
    if (first) {
      const auto verdict = check_gateway_document(first->document, control::persisted_snapshot_path(options.state_dir));
      if (verdict.ok || !persisted)  // without a persisted snapshot the engine reports the errors and exits 1
        return std::make_unique<control::ControlConfigSource>(context, options, first->document, first);
      log::warn("the control plane's snapshot fails the config check; booting from the persisted snapshot",
                json::ObjectWriter().field("version", first->version).field("error", verdict.errors.empty() ? "" : verdict.errors.front()));
      return std::make_unique<control::ControlConfigSource>(context, options, *persisted, std::nullopt, first,
                                                            verdict.errors);
    }
    if (persisted) {
      log::warn("no control plane answered; booting from the persisted snapshot",
                json::ObjectWriter().field("error", error).field("path", control::persisted_snapshot_path(options.state_dir)));
      return std::make_unique<control::ControlConfigSource>(context, options, *persisted, std::nullopt);
    }
    log::warn("no control plane answered and no snapshot is persisted yet; retrying",
              json::ObjectWriter().field("error", error).field("retry_ms", static_cast<int64_t>(wait.count())));
    std::this_thread::sleep_for(wait);
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(10));
  }
}

}  // namespace

void add_gateway_command(CLI::App& cli, int& exit_code) {
  auto* cmd =
      cli.add_subcommand("gateway", "Run the AI gateway (OpenAI and Anthropic APIs in front of providers)");
  cmd->footer(
      "Without --config the gateway runs the default config compiled into the binary (config/gateway.yaml\n"
      "and its price table config/pricing.yaml as built). With --control it takes its config from a control\n"
      "plane (tollway control), ACKs what it applied, keeps the last applied snapshot in --state-dir and boots\n"
      "from it when no control plane answers (docs/control-plane.md). With --report-to it runs its own config\n"
      "and reports the version it runs to a control plane, which shows it as UNMANAGED, matching the policy\n"
      "or DRIFTED (nothing is ever pushed to it). With --identity-dir it holds a SPIFFE identity from the\n"
      "control plane's CA (joined once with --join-token-file, renewed over mTLS) and speaks to https control\n"
      "planes (--control or --report-to) with it; the expiry is the gauge tollway_identity_expiry_seconds\n"
      "(docs/operations.md).\n"
      "Signals: SIGHUP reloads the config file (a logged no-op with the embedded config), SIGUSR1 reopens "
      "the\n"
      "access and decision log files, SIGTERM or SIGINT drains and exits 0. See docs/operations.md.");
  auto options = std::make_shared<proxy::EngineOptions>();
  auto config_path = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto admin = std::make_shared<std::string>();
  auto workers = std::make_shared<int>(-1);
  auto log_level = std::make_shared<std::string>("info");
  auto control_urls = std::make_shared<std::string>();
  auto node = std::make_shared<std::string>();
  auto token_file = std::make_shared<std::string>();
  auto state_dir = std::make_shared<std::string>();
  auto report_urls = std::make_shared<std::string>();
  auto identity_dir = std::make_shared<std::string>();
  auto join_token_file = std::make_shared<std::string>();
  auto control_ca = std::make_shared<std::string>();
  auto* config_option = cmd->add_option("-c,--config", *config_path,
                                        "Config file (YAML); see docs/configuration.md. Default: the embedded config");
  cmd->add_option("--listen", *listen,
                  "API listener HOST:PORT (overrides gateway.listen; port 0 = ephemeral)");
  cmd->add_option("--admin", *admin, "Admin listener HOST:PORT (overrides gateway.admin)");
  cmd->add_option("--workers", *workers, "Event-loop threads (overrides gateway.workers; default: cores)")
      ->check(CLI::Range(1, 256));
  add_log_level_option(*cmd, *log_level);
  auto* control_option = cmd->add_option("--control", *control_urls,
                                         "Take the config from these control planes: URL[,URL…] (needs --node, "
                                         "--token-file, --state-dir)")
                             ->excludes(config_option);
  cmd->add_option("--report-to", *report_urls,
                  "Run from --config (or the embedded config) and report the version it runs to these control "
                  "planes: URL[,URL…], after each reload and every 30 s (needs --node, --token-file)")
      ->excludes(control_option);
  cmd->add_option("--node", *node, "This gateway's node ID in the control plane's nodes.yaml (--control, --report-to)");
  cmd->add_option("--token-file", *token_file, "File holding this node's bootstrap token (--control, --report-to)");
  cmd->add_option("--state-dir", *state_dir, "Where the last applied snapshot is persisted")->needs(control_option);
  auto* identity_option =
      cmd->add_option("--identity-dir", *identity_dir,
                      "Hold a SPIFFE identity from the control plane's CA here (svid.key 0600, generated on this node; "
                      "svid.pem; bundle.pem), renewed over mTLS at half its life; the control URLs must be https "
                      "(needs --control or --report-to, and --control-ca)");
  cmd->add_option("--join-token-file", *join_token_file,
                  "File holding the one-time join token (`tollway control token create`) that buys the first "
                  "certificate; not needed while --identity-dir holds a valid one")
      ->needs(identity_option);
  cmd->add_option("--control-ca", *control_ca,
                  "The control plane's trust bundle (PEM, GET /v1/bundle): verifies the control plane")
      ->needs(identity_option);
  cmd->callback([=, &exit_code] {
    if (!listen->empty()) options->listen = *listen;
    if (!admin->empty()) options->admin = *admin;
    if (*workers > 0) options->workers = *workers;
    init_logging(*log_level);
    control::ControlClientOptions control;
    if (!control_urls->empty()) {
      control.urls = split_urls(*control_urls);
      control.node = *node;
      control.token = read_token_file(*token_file);
      control.state_dir = *state_dir;
      if (control.urls.empty() || control.node.empty() || control.token.empty() || control.state_dir.empty()) {
        std::cerr << "--control needs a URL, --node ID, --token-file (a readable, non-empty file) and "
                     "--state-dir DIR\n";
        exit_code = 1;
        return;
      }
    } else if (report_urls->empty() && (!node->empty() || !token_file->empty())) {
      std::cerr << "--node and --token-file go with --control or --report-to\n";
      exit_code = 1;
      return;
    }
    control::ReportOptions report;
    if (!report_urls->empty()) {
      report.urls = split_urls(*report_urls);
      report.node = *node;
      report.token = read_token_file(*token_file);
      if (report.urls.empty() || report.node.empty() || report.token.empty()) {
        std::cerr << "--report-to needs a URL, --node ID and --token-file (a readable, non-empty file)\n";
        exit_code = 1;
        return;
      }
    }
    tls::declare_node_identity_dir(*identity_dir);
    if (!identity_dir->empty()) {
      proxy::NodeIdentityOptions identity_options;
      identity_options.dir = *identity_dir;
      identity_options.control_ca_file = *control_ca;
      identity_options.control_urls = control.urls.empty() ? report.urls : control.urls;
      if (!join_token_file->empty()) identity_options.join_token = read_token_file(*join_token_file);
      const bool all_https = std::all_of(identity_options.control_urls.begin(), identity_options.control_urls.end(),
                                         [](const std::string& u) { return u.starts_with("https://"); });
      const bool token_unreadable = !join_token_file->empty() && identity_options.join_token.empty();
      if (identity_options.control_urls.empty() || control_ca->empty() || !all_https || token_unreadable) {
        std::cerr << "--identity-dir needs --control or --report-to with https:// URLs, --control-ca FILE and, "
                     "when given, a readable, non-empty --join-token-file\n";
        exit_code = 1;
        return;
      }
      std::string error;
      auto identity = proxy::NodeIdentity::open(std::move(identity_options), error);
      if (!identity) {
        std::cerr << "--identity-dir: " << error << "\n";
        exit_code = 1;
        return;
      }
      options->identity = std::move(identity);
      control.identity = options->identity;
      report.identity = options->identity;
    }
    gateway::GatewayRole role;
    exit_code = proxy::run_engine(role, *options, [config_path, control, report](boost::asio::io_context& context) {
      std::unique_ptr<proxy::ConfigSource> source;
      if (!control.urls.empty())
        source = make_control_source(context, control);
      else if (config_path->empty())
        source = std::make_unique<proxy::FixedConfigSource>(proxy::ConfigDocument{
            std::string(config::kEmbeddedGatewayYaml), std::string(config::kEmbeddedConfigName), {}});
      else
        source = std::make_unique<proxy::FileConfigSource>(context, *config_path);
      if (!report.urls.empty())
        source = std::make_unique<control::ReportingConfigSource>(context, std::move(source), report);
      return source;
    });
  });
}

}  // namespace tollway::app
