// `tollway sidecar`: runs the east-west sidecar beside one agent until SIGTERM, from its document (sidecar/config.h)
// or from a control plane (--control).
#include <iostream>

#include "app/commands.h"
#include "app/log_level.h"
#include "app/node_control.h"
#include "app/node_document_check.h"
#include "control/client/usage_client.h"
#include "core/log.h"
#include "proxy/engine.h"
#include "sidecar/role.h"

namespace tollway::app {

void add_sidecar_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("sidecar", "Run the sidecar beside one agent (mTLS between agents, authorization by SPIFFE ID, local limits)");
  cmd->footer(
      "The outbound listener (loopback) is an HTTP forward proxy for the agent: HTTP_PROXY=http://127.0.0.1:15001\n"
      "sends http://PEER/... to the peer named in the document's `peers`, over mTLS, checking the SPIFFE ID the\n"
      "directory names for it. The inbound listener accepts mTLS only, authorizes the caller's SPIFFE ID by the\n"
      "document's `authorization` rules, and passes the call to the local agent with the caller's ID in\n"
      "x-tollway-caller-spiffe-id. With sidecar.gateway, an origin-form request on the outbound listener (the agent's\n"
      "SDK base URL, http://127.0.0.1:15001/v1) is an LLM call, sent to the gateway over mTLS as this agent's SPIFFE ID\n"
      "with its credential headers dropped. The document's `limits` rules (per window) and budgets (per UTC day or\n"
      "month) cap calls by caller and destination (429 rate_limit_exceeded); with `ledger: leased` the budgets are\n"
      "shares of a fleet-wide budget leased from the control plane (needs --control). With --control it takes its document from a control plane (a node declared with\n"
      "role: sidecar), ACKs what it applied and boots from the last applied one in --state-dir when no control\n"
      "plane answers; with --identity-dir its SVID comes from the control plane's CA (sidecar.tls: {identity:\n"
      "node}) and alone authenticates it to the control plane (no --token-file). Each hop is a span (with a `telemetry` section), trace context is continued, orphan calls are\n"
      "logged or repaired (`orphans`), x-tollway-hops stops chains past `max_hops` with 508, and with\n"
      "`fanout.secret` tollway-fanout baggage is verified on every hop. CONNECT HOST:PORT opens a tunnel only to\n"
      "what `egress.allow` lists (else 403 egress_denied); every CONNECT is logged with its bytes and duration.\n"
      "With `mcp.server`, MCP calls to the agent (POST to mcp.paths) are read strictly, authorized per tool,\n"
      "prompt and resource by `mcp.rules` (refusals are JSON-RPC errors), lists filtered to what the caller may\n"
      "use, tools limited by `limits` rules with match.tools, and each operation traced with its context in\n"
      "params._meta; `mcp.endpoint` gives the agent one MCP URL (http://127.0.0.1:15001/mcp) over several peers'\n"
      "MCP servers, their tools named SERVER_TOOL. With `a2a`, A2A agent cards are filtered to the skills the\n"
      "caller may use and message/send and message/stream are authorized by skill and identity.\n"
      "See docs/sidecar.md.\n"
      "Signals: SIGHUP reloads the document, SIGTERM or SIGINT drains and exits 0.");
  auto config_path = std::make_shared<std::string>();
  auto admin = std::make_shared<std::string>();
  auto log_level = std::make_shared<std::string>("info");
  auto flags = std::make_shared<NodeControlFlags>();
  auto* config_option = cmd->add_option("-c,--config", *config_path, "The sidecar's document (YAML)");
  cmd->add_option("--admin", *admin, "Admin listener HOST:PORT (overrides sidecar.admin)");
  add_log_level_option(*cmd, *log_level);
  add_control_options(*cmd, *flags, config_option, "sidecar");
  add_identity_options(*cmd, *flags);
  cmd->callback([=, &exit_code] {
    proxy::EngineOptions options;
    if (!admin->empty()) options.admin = *admin;
    init_logging(*log_level);
    control::ControlClientOptions control;
    if (config_path->empty() == flags->control_urls.empty()) {
      std::cerr << "tollway sidecar needs its document: --config FILE or --control URL\n";
      exit_code = 1;
      return;
    }
    if (!flags->control_urls.empty() && !control_options_of(*flags, control)) {
      exit_code = 1;
      return;
    }
    if (flags->control_urls.empty() && (!flags->node.empty() || !flags->token_file.empty() ||
                                         !flags->identity_dir.empty())) {
      std::cerr << "--node, --token-file and --identity-dir go with --control\n";
      exit_code = 1;
      return;
    }
    if (!open_node_identity(*flags, control.urls, options.identity)) {
      exit_code = 1;
      return;
    }
    control.identity = options.identity;
    sidecar::SidecarRole role;
    if (!control.urls.empty()) role.set_lease_source(std::make_shared<control::UsageClient>(control));
    exit_code = proxy::run_engine(role, options, [config_path, control](boost::asio::io_context& context) {
      std::unique_ptr<proxy::ConfigSource> source;
      if (!control.urls.empty())
        source = make_control_source(context, control, check_sidecar_document);
      else
        source = std::make_unique<proxy::FileConfigSource>(context, *config_path);
      return source;
    });
  });
}

}  // namespace tollway::app
