#include "app/node_control.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "app/token_file.h"
#include "core/log.h"
#include "tls/node_identity_files.h"
#include "tls/spiffe_id.h"

namespace tollway::app {
namespace {

// How long each control plane is given to answer at start before the next is tried.
constexpr auto kFirstFetchTimeout = std::chrono::seconds(3);

}  // namespace

CLI::Option* add_control_options(CLI::App& cmd, NodeControlFlags& flags, CLI::Option* config_option,
                                 const std::string& role) {
  auto* control = cmd.add_option("--control", flags.control_urls,
                                 "Take the config from these control planes: URL[,URL…] (needs --node, "
                                 "--state-dir, and --token-file or --identity-dir)")
                      ->excludes(config_option);
  cmd.add_option("--node", flags.node, "This " + role + "'s node ID in the control plane's nodes.yaml");
  cmd.add_option("--token-file", flags.token_file,
                 "File holding this node's bootstrap token (not needed, and never sent, with --identity-dir: the "
                 "node's certificate authenticates it)");
  cmd.add_option("--state-dir", flags.state_dir, "Where the last applied snapshot is persisted")->needs(control);
  return control;
}

void add_identity_options(CLI::App& cmd, NodeControlFlags& flags) {
  auto* identity = cmd.add_option(
      "--identity-dir", flags.identity_dir,
      "Hold a SPIFFE identity from the control plane's CA here (svid.key 0600, generated on this node, a new one "
      "for every certificate; svid.pem; bundle.pem), renewed over mTLS at half its life; the control plane URLs "
      "must be https (needs --control-ca)");
  cmd.add_option("--join-token-file", flags.join_token_file,
                 "File holding the one-time join token (`tollway control token create`) that buys the first "
                 "certificate; not needed while --identity-dir holds a valid one")
      ->needs(identity);
  cmd.add_option("--control-ca", flags.control_ca,
                 "The control plane's trust bundle (PEM, GET /v1/bundle): verifies the control plane")
      ->needs(identity);
  cmd.add_option("--control-spiffe-id", flags.control_spiffe_id,
                 "The SPIFFE ID the control plane must present (default spiffe://TRUST_DOMAIN/tollway/control, the "
                 "trust domain of this node's certificate, or before the first one the one --control-ca's roots name)")
      ->needs(identity);
}

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

std::string node_token_of(const NodeControlFlags& flags) {
  if (flags.identity_dir.empty()) return read_token_file(flags.token_file);
  if (!flags.token_file.empty())
    log::warn("--token-file is not used: with --identity-dir the node authenticates to the control plane with its "
              "certificate alone, and its bootstrap token is never sent",
              json::ObjectWriter().field("token_file", flags.token_file));
  return {};
}

bool control_options_of(const NodeControlFlags& flags, control::ControlClientOptions& out) {
  out.urls = split_urls(flags.control_urls);
  out.node = flags.node;
  out.token = node_token_of(flags);
  out.state_dir = flags.state_dir;
  if (out.urls.empty() || out.node.empty() || (out.token.empty() && flags.identity_dir.empty()) ||
      out.state_dir.empty()) {
    std::cerr << "--control needs a URL, --node ID, --state-dir DIR and --token-file (a readable, non-empty file; "
                 "not with --identity-dir, whose certificate authenticates the node)\n";
    return false;
  }
  return true;
}

bool open_node_identity(const NodeControlFlags& flags, const std::vector<std::string>& control_urls,
                        std::shared_ptr<proxy::NodeIdentity>& identity) {
  tls::declare_node_identity_dir(flags.identity_dir);
  if (flags.identity_dir.empty()) return true;
  proxy::NodeIdentityOptions options;
  options.dir = flags.identity_dir;
  options.control_ca_file = flags.control_ca;
  options.control_urls = control_urls;
  options.control_spiffe_id = flags.control_spiffe_id;
  if (!flags.join_token_file.empty()) options.join_token = read_token_file(flags.join_token_file);
  const bool all_https = std::all_of(options.control_urls.begin(), options.control_urls.end(),
                                     [](const std::string& u) { return u.starts_with("https://"); });
  const bool token_unreadable = !flags.join_token_file.empty() && options.join_token.empty();
  if (options.control_urls.empty() || flags.control_ca.empty() || !all_https || token_unreadable) {
    std::cerr << "--identity-dir needs control plane URLs that are all https://, --control-ca FILE and, when given, "
                 "a readable, non-empty --join-token-file\n";
    return false;
  }
  std::string error;
  if (!flags.control_spiffe_id.empty() && !tls::SpiffeId::parse(flags.control_spiffe_id, &error)) {
    std::cerr << "--control-spiffe-id: " << error << "\n";
    return false;
  }
  auto opened = proxy::NodeIdentity::open(std::move(options), error);
  if (!opened) {
    std::cerr << "--identity-dir: " << error << "\n";
    return false;
  }
  identity = std::move(opened);
  return true;
}

std::unique_ptr<proxy::ConfigSource> make_control_source(boost::asio::io_context& context,
                                                         const control::ControlClientOptions& options,
                                                         const CheckNodeDocument& check) {
  auto persisted = control::read_persisted_snapshot(options.state_dir);
  std::chrono::milliseconds wait(500);
  while (true) {
    std::string error;
    auto first = control::fetch_first_snapshot(options, kFirstFetchTimeout, error);
    if (first) {
      const auto verdict = check(first->document, control::persisted_snapshot_path(options.state_dir));
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

}  // namespace tollway::app
