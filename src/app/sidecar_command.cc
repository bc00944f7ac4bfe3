// `tollway sidecar`: runs the east-west sidecar beside one agent until SIGTERM, from its document (sidecar/config.h).
#include "app/commands.h"
#include "app/log_level.h"
#include "core/log.h"
#include "proxy/engine.h"
#include "sidecar/role.h"

namespace tollway::app {

void add_sidecar_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("sidecar", "Run the sidecar beside one agent (mTLS between agents, authorization by SPIFFE ID)");
  cmd->footer(
      "The outbound listener (loopback) is an HTTP forward proxy for the agent: HTTP_PROXY=http://127.0.0.1:15001\n"
      "sends http://PEER/... to the peer named in the document's `peers`, over mTLS, checking the SPIFFE ID the\n"
      "directory names for it. The inbound listener accepts mTLS only, authorizes the caller's SPIFFE ID by the\n"
      "document's `authorization` rules, and passes the call to the local agent with the caller's ID in\n"
      "x-tollway-caller-spiffe-id. Signals: SIGHUP reloads the document, SIGTERM or SIGINT drains and exits 0.");
  auto config_path = std::make_shared<std::string>();
  auto admin = std::make_shared<std::string>();
  auto log_level = std::make_shared<std::string>("info");
  cmd->add_option("-c,--config", *config_path, "The sidecar's document (YAML)")->required();
  cmd->add_option("--admin", *admin, "Admin listener HOST:PORT (overrides sidecar.admin)");
  add_log_level_option(*cmd, *log_level);
  cmd->callback([=, &exit_code] {
    proxy::EngineOptions options;
    if (!admin->empty()) options.admin = *admin;
    init_logging(*log_level);
    sidecar::SidecarRole role;
    exit_code = proxy::run_engine(role, options, [config_path](boost::asio::io_context& context) {
      return std::make_unique<proxy::FileConfigSource>(context, *config_path);
    });
  });
}

}  // namespace tollway::app
