// `tollway gateway`: runs the north-south gateway until SIGTERM.
#include "app/commands.h"
#include "config/embedded_config.h"
#include "core/log.h"
#include "gateway/role.h"
#include "proxy/engine.h"

namespace tollway::app {

void add_gateway_command(CLI::App& cli, int& exit_code) {
  auto* cmd =
      cli.add_subcommand("gateway", "Run the AI gateway (OpenAI and Anthropic APIs in front of providers)");
  cmd->footer(
      "Without --config the gateway runs the default config compiled into the binary (config/gateway.yaml\n"
      "and its price table config/pricing.yaml as built).\n"
      "Signals: SIGHUP reloads the config file (a logged no-op with the embedded config), SIGUSR1 reopens "
      "the\n"
      "access and decision log files, SIGTERM or SIGINT drains and exits 0. See docs/operations.md.");
  auto options = std::make_shared<proxy::EngineOptions>();
  auto config_path = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto admin = std::make_shared<std::string>();
  auto workers = std::make_shared<int>(-1);
  auto log_level = std::make_shared<std::string>("info");
  cmd->add_option("-c,--config", *config_path,
                  "Config file (YAML); see docs/configuration.md. Default: the embedded config");
  cmd->add_option("--listen", *listen,
                  "API listener HOST:PORT (overrides gateway.listen; port 0 = ephemeral)");
  cmd->add_option("--admin", *admin, "Admin listener HOST:PORT (overrides gateway.admin)");
  cmd->add_option("--workers", *workers, "Event-loop threads (overrides gateway.workers; default: cores)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--log-level", *log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->callback([=, &exit_code] {
    if (!listen->empty()) options->listen = *listen;
    if (!admin->empty()) options->admin = *admin;
    if (*workers > 0) options->workers = *workers;
    log::init(*log_level == "debug"   ? log::Level::Debug
              : *log_level == "warn"  ? log::Level::Warn
              : *log_level == "error" ? log::Level::Error
                                      : log::Level::Info);
    gateway::GatewayRole role;
    exit_code = proxy::run_engine(role, *options, [config_path](boost::asio::io_context& context) {
      std::unique_ptr<proxy::ConfigSource> source;
      if (config_path->empty())
        source = std::make_unique<proxy::FixedConfigSource>(proxy::ConfigDocument{
            std::string(config::kEmbeddedGatewayYaml), std::string(config::kEmbeddedConfigName)});
      else
        source = std::make_unique<proxy::FileConfigSource>(context, *config_path);
      return source;
    });
  });
}

}  // namespace tollway::app
