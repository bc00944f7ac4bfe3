// `tollway control token create --identity ID` and `tollway control certs`: mint a join token into the control
// plane's STATE_DIR/identity.db (the control plane reads the same file, so no admin API and no running process
// is needed: whoever can write the state directory can mint), and list every token minted and certificate
// issued. The token is printed once, on stdout; only its SHA-256 is stored.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "app/control_subcommands.h"
#include "control/ca/identity_store.h"
#include "core/json.h"
#include "core/units.h"

namespace tollway::app {
namespace {

constexpr auto kMaxTokenTtl = std::chrono::hours(24 * 30);

std::unique_ptr<control::IdentityStore> open_identity_store(const std::string& state_dir, std::string& error) {
  const auto path = std::filesystem::path(state_dir) / "identity.db";
  if (std::error_code ec; !std::filesystem::exists(path, ec)) {
    error = path.string() + " does not exist: give the --state-dir of a control plane started with --trust-domain";
    return nullptr;
  }
  return control::IdentityStore::open(path.string(), true, error);
}

void add_token_create(CLI::App& control, int& exit_code) {
  auto* token =
      control.add_subcommand("token", "Join tokens: one-time credentials a node trades for its first certificate");
  token->require_subcommand(1);
  auto* create = token->add_subcommand(
      "create", "Mint a join token bound to one SPIFFE ID; prints the token once (only its SHA-256 is kept)");
  auto identity = std::make_shared<std::string>();
  auto ttl = std::make_shared<std::string>("1h");
  auto state_dir = std::make_shared<std::string>();
  create->add_option("--identity", *identity, "The SPIFFE ID the certificate will carry: spiffe://TD/ns/NS/sa/AGENT")
      ->required();
  create->add_option("--ttl", *ttl, "How long the token may be used (1s to 720h; default 1h)");
  create->add_option("--state-dir", *state_dir,
                     "The control plane's state directory (holds identity.db; the control plane must have run "
                     "there with --trust-domain)")
      ->required();
  create->callback([=, &exit_code] {
    exit_code = 1;
    const auto lifetime = units::parse_duration(*ttl);
    if (!lifetime || *lifetime < std::chrono::seconds(1) || *lifetime > kMaxTokenTtl) {
      std::cerr << "--ttl: \"" << *ttl << "\" is not a duration from 1s to 720h\n";
      return;
    }
    std::string error;
    const auto id = tls::SpiffeId::parse(*identity, &error);
    if (!id) {
      std::cerr << "--identity: " << error << "\n";
      return;
    }
    auto store = open_identity_store(*state_dir, error);
    const auto minted = store ? store->mint(*id, std::chrono::duration_cast<std::chrono::seconds>(*lifetime),
                                            control::IdentityStore::Clock::now(), error)
                              : std::nullopt;
    if (!minted) {
      std::cerr << "tollway control token create: " << error << "\n";
      return;
    }
    std::cout << minted->token << "\n";
    std::cerr << "join token for " << id->text() << ", sha256 " << minted->hash_prefix << "…, one use, expires "
              << control::utc_text(minted->expires_at) << "\n";
    exit_code = 0;
  });
}

void add_certs(CLI::App& control, int& exit_code) {
  auto* certs = control.add_subcommand("certs", "List every join token minted and certificate issued (the audit)");
  auto state_dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  certs->add_option("--state-dir", *state_dir, "The control plane's state directory (holds identity.db)")->required();
  certs->add_flag("--json", *as_json, "Print the entries as a JSON array, oldest first");
  certs->callback([=, &exit_code] {
    std::string error;
    auto store = open_identity_store(*state_dir, error);
    const auto entries = store ? store->audit(error) : std::nullopt;
    if (!entries) {
      std::cerr << "tollway control certs: " << error << "\n";
      exit_code = 1;
      return;
    }
    if (*as_json) {
      std::string out = "[";
      for (const auto& e : *entries) {
        json::ObjectWriter w;
        w.field("at", e.at).field("event", e.event).field("identity", e.identity).field("token", e.token);
        if (!e.serial.empty()) w.field("serial", e.serial);
        w.field(e.event == "token_minted" ? "expires_at" : "not_after", e.not_after);
        out += (out.size() > 1 ? "," : "") + std::move(w).finish();
      }
      std::cout << out << "]\n";
    } else {
      std::cout << std::left << std::setw(22) << "AT" << std::setw(20) << "EVENT" << std::setw(14) << "TOKEN"
                << std::setw(34) << "SERIAL" << std::setw(22) << "EXPIRES" << "IDENTITY\n";
      for (const auto& e : *entries)
        std::cout << std::setw(22) << e.at << std::setw(20) << e.event << std::setw(14) << e.token << std::setw(34)
                  << (e.serial.empty() ? "-" : e.serial) << std::setw(22) << e.not_after << e.identity << "\n";
    }
    exit_code = 0;
  });
}

}  // namespace

void add_control_identity_commands(CLI::App& control, int& exit_code) {
  add_token_create(control, exit_code);
  add_certs(control, exit_code);
}

}  // namespace tollway::app
