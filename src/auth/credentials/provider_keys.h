// ProviderKeyStore: the provider API keys the gateway injects, from env variables, files (watched: a rewrite or a
// Kubernetes secret symlink swap is picked up within one poll) and HashiCorp Vault KV v2 (refreshed). Several
// weighted keys per provider; a changed key replaces the old one for new requests at once (requests already
// sent keep the header they were built with); a key the provider answers 401/403 for is taken out of rotation
// and counted until its source yields a new value. Workers only read an immutable key set swapped atomically;
// refreshing runs on the control thread. Key values are never logged, counted by value, or put in errors.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/auth_config.h"
#include "core/shared_cell.h"

namespace tollway::auth {

struct ProviderKey {
  std::string provider;
  std::string label;  // the source ("env:NAME", "file:/path", "vault:path#field"), safe to log
  std::string value;  // the secret
  unsigned weight = 1;
  mutable std::atomic<bool> ejected{false};
};

class ProviderKeyStore {
 public:
  explicit ProviderKeyStore(boost::asio::io_context& control) : control_(control) {}
  ~ProviderKeyStore();

  // Control thread: (re)configures the sources of every provider, reads env and files now, starts watching.
  // Sources that did not change keep their current key (and its ejection state).
  void configure(const config::CredentialsConfig& config, const std::string& base_dir);

  // Request path: true when `provider` has a credentials entry (then only its keys are used).
  bool manages(std::string_view provider) const;
  // A weighted random key among those not ejected; null when none is usable.
  std::shared_ptr<const ProviderKey> pick(std::string_view provider) const;
  // The provider answered `status` (401/403) for this key: take it out of rotation.
  void eject(const ProviderKey& key, int status);

  // Prometheus text for the admin /metrics.
  void render_metrics(std::string& out) const;

 private:
  struct Source {
    config::CredentialSourceConfig config;
    std::string path;  // files: resolved path
    std::shared_ptr<ProviderKey> key;
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t inode = 0;
  };
  struct Provider {
    std::string name;
    std::vector<Source> sources;  // control thread only
    core::SharedCell<std::vector<std::shared_ptr<const ProviderKey>>> keys;
    std::atomic<uint64_t> ejections{0};
  };
  using Directory = std::map<std::string, std::shared_ptr<Provider>, std::less<>>;

  void publish(Provider& p);
  bool read_file_source(Source& s, const std::string& provider);
  boost::asio::awaitable<void> watch_files(uint64_t generation);
  boost::asio::awaitable<void> refresh_vault(uint64_t generation);
  boost::asio::awaitable<bool> fetch_vault(Source& s, const std::string& provider);

  boost::asio::io_context& control_;
  config::CredentialsConfig config_;
  core::SharedCell<Directory> directory_;
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  uint64_t generation_ = 0;  // bumped by configure(); old watcher loops stop
  std::atomic<uint64_t> file_reloads_{0};
  std::atomic<uint64_t> file_failures_{0};
  std::atomic<uint64_t> vault_success_{0};
  std::atomic<uint64_t> vault_failures_{0};
};

}  // namespace tollway::auth
