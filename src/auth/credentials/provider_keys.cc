#include "auth/credentials/provider_keys.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "auth/remote/http_get.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/strict_json.h"

namespace tollway::auth {
namespace {

namespace asio = boost::asio;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

bool usable_value(const std::string& v) {
  return !v.empty() && v.size() <= 4096 && v.find_first_of("\r\n") == std::string::npos &&
         v.find('\0') == std::string::npos;
}

uint64_t next_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

ProviderKeyStore::~ProviderKeyStore() { alive_->store(false); }

void ProviderKeyStore::configure(const config::CredentialsConfig& config, const std::string& base_dir) {
  config_ = config;
  ++generation_;
  const auto old = directory_.load();
  auto next = std::make_shared<Directory>();
  for (const auto& [name, sources] : config.providers) {
    auto provider = std::make_shared<Provider>();
    provider->name = name;
    const auto previous = old->find(name);
    for (const auto& sc : sources) {
      Source s;
      s.config = sc;
      if (sc.kind == config::CredentialSourceConfig::Kind::File)
        s.path = (sc.location.empty() || sc.location[0] == '/' || base_dir.empty()) ? sc.location
                                                                                  : base_dir + "/" + sc.location;
      // Keep the key of an unchanged source (its value and ejection state carry over).
      if (previous != old->end()) {
        for (const auto& ps : previous->second->sources) {
          if (ps.config.label() == sc.label() && ps.key) {
            auto carried = std::make_shared<ProviderKey>();
            carried->provider = name;
            carried->label = sc.label();
            carried->value = ps.key->value;
            carried->weight = sc.weight;
            carried->ejected.store(ps.key->ejected.load());
            s.key = std::move(carried);
            s.mtime_ns = ps.mtime_ns;
            s.size = ps.size;
            s.inode = ps.inode;
          }
        }
      }
      if (sc.kind == config::CredentialSourceConfig::Kind::Env) {
        const char* v = std::getenv(sc.location.c_str());
        if (v != nullptr && usable_value(trim(v))) {
          if (!s.key || s.key->value != trim(v)) {
            s.key = std::make_shared<ProviderKey>();
            s.key->provider = name;
            s.key->label = sc.label();
            s.key->value = trim(v);
            s.key->weight = sc.weight;
          }
        } else {
          s.key.reset();
          log::warn("provider credential source is empty or unset",
                    tollway::json::ObjectWriter().field("provider", name).field("source", sc.label()));
        }
      } else if (sc.kind == config::CredentialSourceConfig::Kind::File) {
        read_file_source(s, name);
      }
      provider->sources.push_back(std::move(s));
    }
    publish(*provider);
    (*next)[name] = provider;
  }
  directory_.store(std::move(next));
  bool any_file = false, any_vault = false;
  for (const auto& [name, sources] : config.providers)
    for (const auto& s : sources) {
      any_file |= s.kind == config::CredentialSourceConfig::Kind::File;
      any_vault |= s.kind == config::CredentialSourceConfig::Kind::Vault;
    }
  if (any_file) asio::co_spawn(control_, watch_files(generation_), asio::detached);
  if (any_vault) asio::co_spawn(control_, refresh_vault(generation_), asio::detached);
}

void ProviderKeyStore::publish(Provider& p) {
  auto keys = std::make_shared<std::vector<std::shared_ptr<const ProviderKey>>>();
  for (const auto& s : p.sources)
    if (s.key) keys->push_back(s.key);
  p.keys.store(std::move(keys));
}

bool ProviderKeyStore::read_file_source(Source& s, const std::string& provider) {
  struct stat st {};
  if (::stat(s.path.c_str(), &st) != 0) {
    if (s.size != -2) {
      ++file_failures_;
      log::warn("provider credential file is missing; keeping the last key read from it",
                tollway::json::ObjectWriter().field("provider", provider).field("source", s.config.label()));
    }
    s.size = -2;
    return false;
  }
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (s.key && mtime == s.mtime_ns && st.st_size == s.size && st.st_ino == s.inode) return false;
  std::ifstream in(s.path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string value = trim(text.str());
  if (!in || !usable_value(value)) {
    ++file_failures_;
    log::warn("provider credential file is unreadable or holds no usable key; keeping the last key",
              tollway::json::ObjectWriter().field("provider", provider).field("source", s.config.label()));
    return false;
  }
  s.mtime_ns = mtime;
  s.size = st.st_size;
  s.inode = st.st_ino;
  if (s.key && s.key->value == value) return false;
  auto key = std::make_shared<ProviderKey>();
  key->provider = provider;
  key->label = s.config.label();
  key->value = value;
  key->weight = s.config.weight;
  const bool replaced = s.key != nullptr;
  s.key = std::move(key);
  if (replaced) {
    ++file_reloads_;
    log::info("provider credential changed; new requests use the new key",
              tollway::json::ObjectWriter().field("provider", provider).field("source", s.config.label()));
  }
  return true;
}

asio::awaitable<void> ProviderKeyStore::watch_files(uint64_t generation) {
  auto alive = alive_;
  asio::steady_timer timer(control_);
  while (alive->load() && generation == generation_) {
    timer.expires_after(config_.file_poll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !alive->load() || generation != generation_) co_return;
    const auto dir = directory_.load();
    for (const auto& [name, provider] : *dir) {
      bool changed = false;
      for (auto& s : provider->sources)
        if (s.config.kind == config::CredentialSourceConfig::Kind::File) changed |= read_file_source(s, name);
      if (changed) publish(*provider);
    }
  }
}

asio::awaitable<bool> ProviderKeyStore::fetch_vault(Source& s, const std::string& provider) {
  const std::string url = config_.vault.address + "/v1/" + config_.vault.mount + "/data/" + s.config.location;
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("X-Vault-Token", config_.vault.token);
  auto result = co_await http_get(url, headers, std::chrono::seconds(5));
  std::string value;
  std::string error = result.error;
  if (result.ok && result.status == 200) {
    std::string json_error;
    auto doc = core::strict_json::parse(result.body, json_error, core::strict_json::ParseLimits{1 << 20, 32});
    const core::strict_json::Value* data = doc ? doc->find("data") : nullptr;
    const core::strict_json::Value* inner = data ? data->find("data") : nullptr;
    if (auto v = inner ? inner->string_member(s.config.vault_field) : std::nullopt) value = trim(std::string(*v));
    if (value.empty()) error = "the secret has no string field \"" + s.config.vault_field + "\"";
  } else if (result.ok) {
    error = "Vault answered HTTP " + std::to_string(result.status);
  }
  if (!usable_value(value)) {
    ++vault_failures_;
    log::warn("Vault credential refresh failed; keeping the last key",
              tollway::json::ObjectWriter().field("provider", provider).field("source", s.config.label()).field("error", error));
    co_return false;
  }
  ++vault_success_;
  if (s.key && s.key->value == value) co_return false;
  auto key = std::make_shared<ProviderKey>();
  key->provider = provider;
  key->label = s.config.label();
  key->value = value;
  key->weight = s.config.weight;
  if (s.key)
    log::info("provider credential changed; new requests use the new key",
              tollway::json::ObjectWriter().field("provider", provider).field("source", s.config.label()));
  s.key = std::move(key);
  co_return true;
}

asio::awaitable<void> ProviderKeyStore::refresh_vault(uint64_t generation) {
  auto alive = alive_;
  asio::steady_timer timer(control_);
  while (alive->load() && generation == generation_) {
    const auto dir = directory_.load();
    for (const auto& [name, provider] : *dir) {
      bool changed = false;
      for (auto& s : provider->sources)
        if (s.config.kind == config::CredentialSourceConfig::Kind::Vault) changed |= co_await fetch_vault(s, name);
      if (!alive->load() || generation != generation_) co_return;
      if (changed) publish(*provider);
    }
    timer.expires_after(config_.vault.refresh);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

bool ProviderKeyStore::manages(std::string_view provider) const {
  const auto& dir = directory_.read();
  return dir->find(provider) != dir->end();
}

std::shared_ptr<const ProviderKey> ProviderKeyStore::pick(std::string_view provider) const {
  const auto& dir = directory_.read();
  const auto it = dir->find(provider);
  if (it == dir->end()) return nullptr;
  const auto& keys = it->second->keys.read();
  uint64_t total = 0;
  for (const auto& k : *keys)
    if (!k->ejected.load(std::memory_order_relaxed)) total += k->weight;
  if (total == 0) return nullptr;
  uint64_t r = next_random() % total;
  for (const auto& k : *keys) {
    if (k->ejected.load(std::memory_order_relaxed)) continue;
    if (r < k->weight) return k;
    r -= k->weight;
  }
  return nullptr;
}

void ProviderKeyStore::eject(const ProviderKey& key, int status) {
  if (key.ejected.exchange(true)) return;
  const auto dir = directory_.load();
  if (const auto it = dir->find(key.provider); it != dir->end()) ++it->second->ejections;
  log::warn("provider rejected a credential; it is out of rotation until its source changes",
            tollway::json::ObjectWriter().field("provider", key.provider).field("source", key.label).field("status", status));
}

void ProviderKeyStore::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  const auto dir = directory_.load();
  prometheus::family(out, "tollway_provider_keys", "gauge",
                     "Provider API keys loaded, by provider and state.");
  for (const auto& [name, p] : *dir) {
    const auto keys = p->keys.load();
    uint64_t active = 0, ejected = 0;
    for (const auto& k : *keys) (k->ejected.load() ? ejected : active)++;
    prometheus::sample(out, "tollway_provider_keys",
                       prometheus::labels({{"provider", name}, {"state", "active"}}), active);
    prometheus::sample(out, "tollway_provider_keys",
                       prometheus::labels({{"provider", name}, {"state", "ejected"}}), ejected);
  }
  prometheus::family(out, "tollway_provider_key_ejections_total", "counter",
                     "Keys taken out of rotation after a provider 401/403.");
  for (const auto& [name, p] : *dir)
    prometheus::sample(out, "tollway_provider_key_ejections_total", prometheus::labels({{"provider", name}}),
                       p->ejections.load());
  prometheus::family(out, "tollway_credential_refreshes_total", "counter",
                     "Credential source reads that changed or failed, by source kind.");
  for (const auto& [kind, result, n] : {std::tuple{"file", "changed", file_reloads_.load()},
                                        std::tuple{"file", "failure", file_failures_.load()},
                                        std::tuple{"vault", "success", vault_success_.load()},
                                        std::tuple{"vault", "failure", vault_failures_.load()}})
    prometheus::sample(out, "tollway_credential_refreshes_total",
                       prometheus::labels({{"kind", kind}, {"result", result}}), n);
}

}  // namespace tollway::auth
