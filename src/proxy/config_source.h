// ConfigSource: where the engine's configuration comes from — a watched file, the document compiled in, or the
// control plane (src/control/client). A source hands out whole documents and is told what became of each; it
// never parses or validates them (the role's prepare() does) and never applies anything.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/file_stamp.h"

namespace tollway::proxy {

// The bytes of one configuration version and where they came from.
struct ConfigDocument {
  std::string bytes;
  // A file path (relative paths inside resolve against its directory), or a name such as "<embedded>".
  std::string origin;
  // The source's own name for this version (the control plane's, which its ACK reports), shown at /config
  // beside the engine's resolved version; empty for a file.
  std::string version;
};

// The responses the workers answered so far (the request metrics' counts, merged): all, 5xx, and 401/403/429.
struct ResponseCounts {
  uint64_t requests = 0, errors = 0, denials = 0;
};
using CountResponses = std::function<boost::asio::awaitable<ResponseCounts>()>;

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // For logs and /config: "/etc/tollway/gateway.yaml".
  virtual const std::string& origin() const = 0;
  // The current document, or nullopt with `error` set (unreadable).
  virtual std::optional<ConfigDocument> read(std::string& error) = 0;
  // Completes when the document may have changed; false when it never will (or the wait was cancelled).
  virtual boost::asio::awaitable<bool> changed() = 0;
  // Stops waiting in changed().
  virtual void cancel() = 0;
  // A SIGHUP asks for the document now: forget what was seen, so the next change() compares with it afresh.
  virtual void mark_read() = 0;
  // False for a document that never changes (reloading it would do nothing).
  virtual bool reloadable() const { return true; }
  // After each attempt to apply the document read(): `errors` empty when it was applied and `version` is the
  // version now active; otherwise why it was rejected (the active version, unchanged, in `version`).
  virtual void applied(const std::string& /*version*/, const std::vector<std::string>& /*errors*/) {}
  // Names a change reported by changed() in the reload log line.
  virtual const char* change_trigger() const { return "file change"; }
  // The engine hands the source a way to read its response counts (a source under a control plane reports them).
  virtual void count_responses(CountResponses /*count*/) {}
  // Appends the source's own Prometheus series to /metrics.
  virtual void render_metrics(std::string& /*out*/) const {}
};

// A document fixed for the life of the process (the configuration compiled into the binary).
class FixedConfigSource final : public ConfigSource {
 public:
  explicit FixedConfigSource(ConfigDocument document) : document_(std::move(document)) {}
  const std::string& origin() const override { return document_.origin; }
  std::optional<ConfigDocument> read(std::string&) override { return document_; }
  boost::asio::awaitable<bool> changed() override { co_return false; }
  void cancel() override {}
  void mark_read() override {}
  bool reloadable() const override { return false; }

 private:
  ConfigDocument document_;
};

// A YAML file on disk, polled every 500 ms (mtime, size, inode — so an atomic rename or a Kubernetes
// ConfigMap symlink swap counts); a change is reported once two polls in a row agree on it, so an editor's
// truncate-then-write is not read half-written.
class FileConfigSource final : public ConfigSource {
 public:
  FileConfigSource(boost::asio::io_context& context, std::string path);
  const std::string& origin() const override { return path_; }
  std::optional<ConfigDocument> read(std::string& error) override;
  boost::asio::awaitable<bool> changed() override;
  void cancel() override;
  void mark_read() override;

 private:
  std::string path_;
  boost::asio::steady_timer timer_;
  core::FileStamp seen_;
  bool cancelled_ = false;
};

}  // namespace tollway::proxy
