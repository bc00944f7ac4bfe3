// `tollway gateway`: runs the north-south gateway until SIGTERM, from a config file, the embedded config, or a
// control plane (--control); run from its own config it may report what it runs to a control plane (--report-to).
#include <iostream>

#include "app/commands.h"
#include "app/log_level.h"
#include "app/node_control.h"
#include "app/node_document_check.h"
#include "app/token_file.h"
#include "config/embedded_config.h"
#include "control/client/control_config_source.h"
#include "control/client/reporting_config_source.h"
#include "core/log.h"
#include "control/client/usage_client.h"
#include "gateway/role.h"
#include "proxy/engine.h"

namespace tollway::app {

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
      "planes (--control or --report-to) with it: that certificate alone authenticates the node (no\n"
      "--token-file; nodes.yaml names its spiffe_id). The expiry is the gauge tollway_identity_expiry_seconds\n"
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
  auto flags = std::make_shared<NodeControlFlags>();
  auto report_urls = std::make_shared<std::string>();
  auto* config_option = cmd->add_option("-c,--config", *config_path,
                                        "Config file (YAML); see docs/configuration.md. Default: the embedded config");
  cmd->add_option("--listen", *listen,
                  "API listener HOST:PORT (overrides gateway.listen; port 0 = ephemeral)");
  cmd->add_option("--admin", *admin, "Admin listener HOST:PORT (overrides gateway.admin)");
  cmd->add_option("--workers", *workers, "Event-loop threads (overrides gateway.workers; default: cores)")
      ->check(CLI::Range(1, 256));
  add_log_level_option(*cmd, *log_level);
  auto* control_option = add_control_options(*cmd, *flags, config_option, "gateway");
  cmd->add_option("--report-to", *report_urls,
                  "Run from --config (or the embedded config) and report the version it runs to these control "
                  "planes: URL[,URL…], after each reload and every 30 s (needs --node, --token-file)")
      ->excludes(control_option);
  add_identity_options(*cmd, *flags);
  cmd->callback([=, &exit_code] {
    if (!listen->empty()) options->listen = *listen;
    if (!admin->empty()) options->admin = *admin;
    if (*workers > 0) options->workers = *workers;
    init_logging(*log_level);
    control::ControlClientOptions control;
    if (!flags->control_urls.empty()) {
      if (!control_options_of(*flags, control)) {
        exit_code = 1;
        return;
      }
    } else if (report_urls->empty() && (!flags->node.empty() || !flags->token_file.empty())) {
      std::cerr << "--node and --token-file go with --control or --report-to\n";
      exit_code = 1;
      return;
    }
    control::ReportOptions report;
    if (!report_urls->empty()) {
      report.urls = split_urls(*report_urls);
      report.node = flags->node;
      report.token = node_token_of(*flags);
      if (report.urls.empty() || report.node.empty() || (report.token.empty() && flags->identity_dir.empty())) {
        std::cerr << "--report-to needs a URL, --node ID and --token-file (a readable, non-empty file; not with "
                     "--identity-dir, whose certificate authenticates the node)\n";
        exit_code = 1;
        return;
      }
    }
    if (!open_node_identity(*flags, control.urls.empty() ? report.urls : control.urls, options->identity)) {
      exit_code = 1;
      return;
    }
    control.identity = options->identity;
    report.identity = options->identity;
    gateway::GatewayRole role;
    if (!control.urls.empty()) role.set_lease_source(std::make_shared<control::UsageClient>(control));
    exit_code = proxy::run_engine(role, *options, [config_path, control, report](boost::asio::io_context& context) {
      std::unique_ptr<proxy::ConfigSource> source;
      if (!control.urls.empty())
        source = make_control_source(context, control, check_gateway_document);
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
