// `tollway control token create --identity ID`, `tollway control certs` and `tollway control ca rotate|status`: mint
// a join token into the control plane's STATE_DIR/identity.db (the control plane reads the same file, so no admin API
// and no running process is needed: whoever can write the state directory can mint or rotate), list every token
// minted, certificate issued and rotation, and rotate the generated root (a new root file in STATE_DIR/ca and its
// schedule in identity.db; the running control plane follows it within a second). The token is printed once, on
// stdout; only its SHA-256 is stored.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "app/control_subcommands.h"
#include "control/ca/certificate_authority.h"
#include "control/ca/identity_store.h"
#include "control/ca/root_schedule.h"
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

constexpr auto kMaxRotationPhase = std::chrono::hours(24 * 30);

// The SVID lifetime the control plane recorded at its last start (the default prepare and overlap).
std::optional<std::chrono::seconds> recorded_svid_lifetime(control::IdentityStore& store, std::string& error) {
  const auto text = store.setting("svid_lifetime_s", error);
  if (!text) return std::nullopt;
  try {
    return std::chrono::seconds(text->empty() ? 24 * 3600 : std::stoll(*text));
  } catch (const std::exception&) {
    error = "identity.db holds an unreadable svid_lifetime_s \"" + *text + "\"";
    return std::nullopt;
  }
}

// 90s, 5m, 24h: the largest unit that divides it.
std::string duration_text(std::chrono::seconds d) {
  const int64_t s = d.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

void add_ca_rotate(CLI::App& ca, int& exit_code) {
  auto* rotate = ca.add_subcommand(
      "rotate", "Rotate the generated root (STATE_DIR/ca): a new P-256 root joins the trust bundle now (prepared), "
                "signs every new certificate after --prepare (active), and the old root leaves the bundle --overlap "
                "after that");
  auto state_dir = std::make_shared<std::string>();
  auto prepare = std::make_shared<std::string>();
  auto overlap = std::make_shared<std::string>();
  rotate->add_option("--state-dir", *state_dir,
                     "The control plane's state directory (ca/ and identity.db; the control plane must have run there "
                     "with --trust-domain and a generated root)")
      ->required();
  rotate->add_option("--prepare", *prepare,
                     "How long the new root is trusted before it signs: every node takes the new bundle with its next "
                     "certificate, so from one --svid-lifetime on every node trusts it before any peer presents a "
                     "certificate of it (0s to 720h; default the control plane's --svid-lifetime)");
  rotate->add_option("--overlap", *overlap,
                     "How long the old root stays in the bundle once the new one signs: certificates it issued verify "
                     "until they expire, so at least one --svid-lifetime (1s to 720h; default the control plane's "
                     "--svid-lifetime)");
  rotate->callback([=, &exit_code] {
    exit_code = 1;
    std::string error;
    auto store = open_identity_store(*state_dir, error);
    const auto trust_domain = store ? store->trust_domain(error) : std::nullopt;
    const auto source = trust_domain ? store->setting("ca_source", error) : std::nullopt;
    const auto lifetime = source ? recorded_svid_lifetime(*store, error) : std::nullopt;
    if (!lifetime) {
      std::cerr << "tollway control ca rotate: " << error << "\n";
      return;
    }
    if (trust_domain->empty()) {
      std::cerr << "tollway control ca rotate: the control plane has not run with --trust-domain on " << *state_dir << "\n";
      return;
    }
    if (*source == "supplied") {
      std::cerr << "tollway control ca rotate: the control plane signs with a supplied intermediate (--ca-cert); "
                   "rotate it by restarting with the new --ca-cert file (its chain followed by the old root)\n";
      return;
    }
    const auto phase = [&](const std::string& text, const char* flag, std::chrono::seconds min) -> std::optional<std::chrono::seconds> {
      if (text.empty()) return *lifetime;
      const auto d = units::parse_duration(text);
      if (!d || *d < min || *d > kMaxRotationPhase) {
        std::cerr << flag << ": \"" << text << "\" is not a duration from " << duration_text(min) << " to 720h\n";
        return std::nullopt;
      }
      return std::chrono::duration_cast<std::chrono::seconds>(*d);
    };
    const auto prepare_for = phase(*prepare, "--prepare", std::chrono::seconds(0));
    const auto overlap_for = prepare_for ? phase(*overlap, "--overlap", std::chrono::seconds(1)) : std::nullopt;
    if (!overlap_for) return;
    const auto schedule = store->root_schedule(error);
    const auto now = control::IdentityStore::Clock::now();
    const auto plan = schedule ? control::plan_rotation(*schedule, now, *prepare_for, *overlap_for, error) : std::nullopt;
    if (!plan) {
      std::cerr << "tollway control ca rotate: " << error << "\n";
      return;
    }
    const int64_t generation = plan->next.generation;
    const auto root = control::CertificateAuthority::generate_root(control::root_certificate_file(*state_dir, generation),
                                                                   control::root_key_file(*state_dir, generation),
                                                                   *trust_domain, error);
    if (!root || !store->record_rotation(*plan, *trust_domain, root->serial_hex, root->not_after, now, error)) {
      std::cerr << "tollway control ca rotate: " << error << "\n";
      return;
    }
    std::cout << "root generation " << generation << " (serial " << root->serial_hex << ", "
              << control::root_certificate_file(*state_dir, generation) << ") is in the trust bundle now; it signs from "
              << control::utc_text(plan->next.activates_at) << "; root generation " << plan->active.generation
              << " leaves the bundle at " << control::utc_text(*plan->active.retires_at) << "\n";
    if (*prepare_for < *lifetime)
      std::cerr << "warning: --prepare " << duration_text(*prepare_for) << " is shorter than the SVID lifetime "
                << duration_text(*lifetime) << ": a node that takes no certificate before the new root signs does not "
                << "trust its peers' new certificates until it renews\n";
    if (*overlap_for < *lifetime)
      std::cerr << "warning: --overlap " << duration_text(*overlap_for) << " is shorter than the SVID lifetime "
                << duration_text(*lifetime) << ": certificates of the old root stop verifying before they expire (a "
                << "node that has not renewed by then needs a new join token)\n";
    exit_code = 0;
  });
}

void add_ca_status(CLI::App& ca, int& exit_code) {
  auto* status = ca.add_subcommand("status", "Print each generated root: its state (prepared, active, old, retired) "
                                              "and when it was made, signs from and leaves the bundle");
  auto state_dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  status->add_option("--state-dir", *state_dir, "The control plane's state directory (holds identity.db)")->required();
  status->add_flag("--json", *as_json, "Print the roots as a JSON array, oldest first");
  status->callback([=, &exit_code] {
    std::string error;
    auto store = open_identity_store(*state_dir, error);
    auto schedule = store ? store->root_schedule(error) : std::nullopt;
    if (!schedule) {
      std::cerr << "tollway control ca status: " << error << "\n";
      exit_code = 1;
      return;
    }
    if (schedule->empty()) schedule->push_back(control::RootGeneration{});
    const auto now = control::IdentityStore::Clock::now();
    const auto when = [](control::RootGeneration::Clock::time_point t) {
      return t.time_since_epoch().count() == 0 ? std::string("-") : control::utc_text(t);
    };
    std::string out = "[";
    if (!*as_json)
      std::cout << std::left << std::setw(12) << "GENERATION" << std::setw(10) << "STATE" << std::setw(22) << "CREATED"
                << std::setw(22) << "SIGNS_FROM" << std::setw(22) << "LEAVES_BUNDLE" << "FILE\n";
    for (const auto& root : *schedule) {
      const std::string state(control::root_state_name(control::root_state(*schedule, root, now)));
      const std::string retires = root.retires_at ? control::utc_text(*root.retires_at) : "-";
      const std::string file = control::root_certificate_file(*state_dir, root.generation);
      if (*as_json) {
        json::ObjectWriter w;
        w.field("generation", root.generation).field("state", state).field("created_at", when(root.created_at))
            .field("activates_at", when(root.activates_at)).field("retires_at", retires).field("file", file);
        out += (out.size() > 1 ? "," : "") + std::move(w).finish();
      } else {
        std::cout << std::setw(12) << root.generation << std::setw(10) << state << std::setw(22) << when(root.created_at)
                  << std::setw(22) << when(root.activates_at) << std::setw(22) << retires << file << "\n";
      }
    }
    if (*as_json) std::cout << out << "]\n";
    exit_code = 0;
  });
}

}  // namespace

void add_control_identity_commands(CLI::App& control, int& exit_code) {
  add_token_create(control, exit_code);
  add_certs(control, exit_code);
  auto* ca = control.add_subcommand("ca", "The generated root: rotate it, print its generations");
  ca->require_subcommand(1);
  add_ca_rotate(*ca, exit_code);
  add_ca_status(*ca, exit_code);
}

}  // namespace tollway::app
