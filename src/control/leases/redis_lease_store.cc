#include "control/leases/redis_lease_store.h"

#include <charconv>

namespace tollway::control::leases {
namespace {

using limits::redis::RespType;
using limits::redis::RespValue;

constexpr std::string_view kPrefix = "tollway:leases:";
constexpr std::string_view kHolderField = "holder:";

std::string keys_set() { return std::string(kPrefix) + "keys"; }
std::string seq_hash() { return std::string(kPrefix) + "seq"; }
std::string revision_key() { return std::string(kPrefix) + "revision"; }
std::string key_hash(std::string_view key) { return std::string(kPrefix) + "key:" + std::string(key); }
// Incarnations are [A-Za-z0-9._-] (usage_api.cc checks), so "INCARNATION|NODE" names one pair only.
std::string seq_field(const std::string& node, const std::string& incarnation) { return incarnation + "|" + node; }

// KEYS[1] the keys set, KEYS[2] the seq hash, KEYS[3] the revision, KEYS[3 + i] budget key i's hash. ARGV[1] the
// seq field, ARGV[2] the seq, ARGV[3] the revision the writer's book is at, then per budget key: its name, limit,
// ends_ms, the number of holders n, and n pairs (field, value). Returns the new revision, or -1 (nothing written)
// when the store is at another revision.
constexpr std::string_view kSaveScript = R"lua(
if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[3]) then return -1 end
local a = 4
for i = 4, #KEYS do
  local n = tonumber(ARGV[a + 3])
  redis.call('SADD', KEYS[1], ARGV[a])
  redis.call('HSET', KEYS[i], 'limit', ARGV[a + 1], 'ends_ms', ARGV[a + 2])
  a = a + 4
  for j = 1, n do
    redis.call('HSET', KEYS[i], ARGV[a], ARGV[a + 1])
    a = a + 2
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('INCR', KEYS[3])
)lua";

// KEYS[1] the revision, KEYS[2] the keys set, KEYS[2 + i] a forgotten key's hash; ARGV[1] the revision the writer's
// book is at, ARGV[1 + i] the forgotten key i. Returns the new revision, or -1 (nothing removed) when the store is at
// another revision.
constexpr std::string_view kForgetScript = R"lua(
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -1 end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
for i = 2, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]) end
return redis.call('INCR', KEYS[1])
)lua";

std::optional<int64_t> read_integer(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string holding_text(const Holding& h) {
  return std::to_string(h.used) + " " + std::to_string(h.granted) + " " + std::to_string(h.expires_ms) + " " +
         (h.closed ? "1" : "0");
}

std::optional<Holding> read_holding(std::string_view text) {
  int64_t parts[4];
  for (int i = 0; i < 4; ++i) {
    const std::size_t space = text.find(' ');
    if ((space == std::string_view::npos) != (i == 3)) return std::nullopt;
    const auto value = read_integer(text.substr(0, space));
    if (!value) return std::nullopt;
    parts[i] = *value;
    if (i < 3) text.remove_prefix(space + 1);
  }
  if (parts[3] != 0 && parts[3] != 1) return std::nullopt;
  return Holding{.used = parts[0], .granted = parts[1], .expires_ms = parts[2], .closed = parts[3] == 1};
}

}  // namespace

RedisLeaseStore::RedisLeaseStore(boost::asio::any_io_executor executor, limits::redis::RedisOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

std::string RedisLeaseStore::where() const {
  return "redis://" + options_.host + ":" + std::to_string(options_.port) + "/" + std::to_string(options_.db);
}

boost::asio::awaitable<std::optional<RespValue>> RedisLeaseStore::run(std::string command, std::string& error) {
  auto& connection = limits::redis::RedisConnection::of(executor_, options_);
  limits::redis::RedisReply reply = co_await connection.execute(std::move(command));
  if (!reply.ok) {
    error = "redis " + options_.host + ":" + std::to_string(options_.port) + ": " + reply.error;
    co_return std::nullopt;
  }
  if (reply.reply.is_error()) {
    error = "redis " + options_.host + ":" + std::to_string(options_.port) + " answered " + reply.reply.text;
    co_return std::nullopt;
  }
  co_return std::move(reply.reply);
}

boost::asio::awaitable<std::optional<std::vector<std::string>>> RedisLeaseStore::stored_keys(std::string& error) {
  std::string command;
  limits::redis::append_command(command, {"SMEMBERS", keys_set()});
  auto reply = co_await run(std::move(command), error);
  if (!reply) co_return std::nullopt;
  if (reply->type != RespType::Array) {
    error = "the lease store's " + keys_set() + " is not a set";
    co_return std::nullopt;
  }
  std::vector<std::string> keys;
  for (RespValue& member : reply->elements) keys.push_back(std::move(member.text));
  co_return keys;
}

boost::asio::awaitable<bool> RedisLeaseStore::load(LeaseBook& book, std::string& error) {
  // The revision first: a write between it and the hashes makes the book newer than its revision, so its first save
  // is refused as stale and it is loaded again (never the other way round).
  std::string get;
  limits::redis::append_command(get, {"GET", revision_key()});
  const auto stored_revision = co_await run(std::move(get), error);
  if (!stored_revision) {
    error = "cannot read the lease store: " + error;
    co_return false;
  }
  const auto revision = stored_revision->type == RespType::Null ? std::optional<int64_t>(0)
                        : stored_revision->type == RespType::BulkString ? read_integer(stored_revision->text)
                                                                         : std::nullopt;
  if (!revision) {
    error = "cannot read the lease store: " + revision_key() + " is not an integer";
    co_return false;
  }
  const auto keys = co_await stored_keys(error);
  if (!keys) {
    error = "cannot read the lease store: " + error;
    co_return false;
  }
  for (const std::string& key : *keys) {
    std::string command;
    limits::redis::append_command(command, {"HGETALL", key_hash(key)});
    const auto reply = co_await run(std::move(command), error);
    if (!reply) {
      error = "cannot read the lease store: " + error;
      co_return false;
    }
    if (reply->type != RespType::Array || reply->elements.size() % 2 != 0) {
      error = "cannot read the lease store: " + key_hash(key) + " is not a hash";
      co_return false;
    }
    if (reply->elements.empty()) continue;  // listed, but its hash was removed: nothing to restore
    BudgetKeyState state;
    bool have_limit = false, have_ends = false;
    for (std::size_t i = 0; i < reply->elements.size(); i += 2) {
      const std::string& field = reply->elements[i].text;
      const std::string& value = reply->elements[i + 1].text;
      bool valid = true;
      if (field == "limit") {
        const auto v = read_integer(value);
        valid = v.has_value();
        if (valid) state.limit = *v, have_limit = true;
      } else if (field == "ends_ms") {
        const auto v = read_integer(value);
        valid = v.has_value();
        if (valid) state.ends_ms = *v, have_ends = true;
      } else if (field.starts_with(kHolderField) && field.size() > kHolderField.size()) {
        const auto h = read_holding(value);
        valid = h.has_value();
        if (valid) state.holders[field.substr(kHolderField.size())] = *h;
      } else {
        valid = false;
      }
      if (!valid) {
        error = "cannot read the lease store: " + key_hash(key) + " field \"" + field +
                "\" is not one it writes (limit, ends_ms, holder:ID as \"used granted expires_ms closed\")";
        co_return false;
      }
    }
    if (!have_limit || !have_ends) {
      error = "cannot read the lease store: " + key_hash(key) + " lacks limit or ends_ms";
      co_return false;
    }
    book.restore(key, std::move(state));
  }
  revision_ = *revision;
  co_return true;
}

boost::asio::awaitable<std::optional<int64_t>> RedisLeaseStore::last_seq(const std::string& node,
                                                                       const std::string& incarnation,
                                                                       std::string& error) {
  std::string command;
  limits::redis::append_command(command, {"HGET", seq_hash(), seq_field(node, incarnation)});
  const auto reply = co_await run(std::move(command), error);
  if (!reply) {
    error = "cannot read the lease store: " + error;
    co_return std::nullopt;
  }
  if (reply->type == RespType::Null) co_return std::nullopt;
  const auto seq = reply->type == RespType::BulkString ? read_integer(reply->text) : std::nullopt;
  if (!seq) error = "cannot read the lease store: " + seq_hash() + " holds a sequence number that is no integer";
  co_return seq;
}

boost::asio::awaitable<SaveResult> RedisLeaseStore::save(const LeaseBook& book,
                                                         const std::vector<std::string>& keys,
                                                         const std::string& node, const std::string& incarnation,
                                                         int64_t seq, std::string& error) {
  std::vector<std::string> written_keys{keys_set(), seq_hash(), revision_key()};
  std::vector<std::string> argv{seq_field(node, incarnation), std::to_string(seq), std::to_string(revision_)};
  for (const auto& key : keys) {
    const auto found = book.keys().find(key);
    if (found == book.keys().end()) continue;
    const BudgetKeyState& state = found->second;
    written_keys.push_back(key_hash(key));
    argv.push_back(key);
    argv.push_back(std::to_string(state.limit));
    argv.push_back(std::to_string(state.ends_ms));
    argv.push_back(std::to_string(state.holders.size()));
    for (const auto& [holder, h] : state.holders) {
      argv.push_back(std::string(kHolderField) + holder);
      argv.push_back(holding_text(h));
    }
  }
  const std::string key_count = std::to_string(written_keys.size());
  std::vector<std::string_view> args{"EVAL", kSaveScript, key_count};
  for (const auto& k : written_keys) args.push_back(k);
  for (const auto& v : argv) args.push_back(v);
  std::string command;
  limits::redis::append_command(command, args);
  const auto reply = co_await run(std::move(command), error);
  if (!reply || reply->type != RespType::Integer) {
    if (reply) error = "the save script answered no integer";
    error = "cannot write the lease store: " + error;
    co_return SaveResult::Failed;
  }
  if (reply->integer < 0) co_return SaveResult::Stale;
  revision_ = reply->integer;
  co_return SaveResult::Saved;
}

boost::asio::awaitable<bool> RedisLeaseStore::forget_keys_not_in(const LeaseBook& book, std::string& error) {
  const auto keys = co_await stored_keys(error);
  if (!keys) {
    error = "cannot write the lease store: " + error;
    co_return false;
  }
  std::vector<std::string> hashes, members;
  for (const auto& key : *keys)
    if (!book.keys().contains(key)) {
      hashes.push_back(key_hash(key));
      members.push_back(key);
    }
  if (members.empty()) co_return true;
  const std::string revision = std::to_string(revision_);
  const std::string key_count = std::to_string(2 + hashes.size());
  const std::string revision_name = revision_key(), set = keys_set();
  std::vector<std::string_view> args{"EVAL", kForgetScript, key_count, revision_name, set};
  for (const auto& h : hashes) args.push_back(h);
  args.push_back(revision);
  for (const auto& m : members) args.push_back(m);
  std::string command;
  limits::redis::append_command(command, args);
  const auto reply = co_await run(std::move(command), error);
  if (!reply || reply->type != RespType::Integer) {
    if (reply) error = "the forget script answered no integer";
    error = "cannot write the lease store: " + error;
    co_return false;
  }
  if (reply->integer >= 0) revision_ = reply->integer;  // else another book writes the store; it forgets them
  co_return true;
}

}  // namespace tollway::control::leases
