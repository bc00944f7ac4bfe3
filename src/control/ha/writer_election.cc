#include "control/ha/writer_election.h"

#include "core/log.h"

namespace tollway::control::ha {
namespace {

namespace asio = boost::asio;

}  // namespace

const char* role_name(WriterElection::Role role) {
  switch (role) {
    case WriterElection::Role::Writer: return "writer";
    case WriterElection::Role::Follower: return "follower";
    case WriterElection::Role::Candidate: break;
  }
  return "candidate";
}

WriterElection::WriterElection(asio::any_io_executor executor, etcd::EtcdClient& client, std::string writer_key,
                               std::string identity, std::chrono::seconds ttl, std::function<void()> role_changed,
                               std::function<void(const std::string& error)> lease_call)
    : executor_(executor),
      client_(client),
      key_(std::move(writer_key)),
      identity_(std::move(identity)),
      ttl_(ttl),
      role_changed_(std::move(role_changed)),
      lease_call_(std::move(lease_call)),
      wake_(executor) {}

void WriterElection::poke() { wake_.cancel(); }

void WriterElection::stop() {
  stopping_ = true;
  wake_.cancel();
}

void WriterElection::set_role(Role role, std::string writer, int64_t revision, const char* why) {
  const bool changed = role != role_ || writer != writer_;
  role_ = role;
  writer_ = std::move(writer);
  writer_revision_ = revision;
  if (!changed) return;
  if (role == Role::Writer) ++terms_;
  log::info("control plane role", json::ObjectWriter()
                                      .field("role", role_name(role))
                                      .field("writer", writer_)
                                      .field("why", why)
                                      .field("lease_ttl_s", static_cast<int64_t>(ttl_.count())));
  role_changed_();
}

asio::awaitable<void> WriterElection::claim() {
  etcd::TxnAnswer answer = co_await client_.txn(etcd::claim_txn_request(key_, identity_, lease_));
  if (stopping_ || !answer.result) co_return;  // no answer: the next claim finds out (the key would carry our lease)
  if (answer.result->succeeded) {
    set_role(Role::Writer, identity_, answer.result->revision, "claimed the writer key");
    co_return;
  }
  if (answer.result->kvs.empty()) co_return;  // deleted in between: the next claim takes it
  const etcd::KeyValue& holder = answer.result->kvs.front();
  if (holder.lease == lease_) set_role(Role::Writer, identity_, holder.create_revision, "holds the writer key");
  else set_role(Role::Follower, holder.value, 0, "another control plane holds the writer key");
}

asio::awaitable<void> WriterElection::run() {
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(ttl_) / 3;
  while (!stopping_) {
    if (lease_ == 0) {
      etcd::LeaseCallAnswer granted = co_await client_.lease_grant(ttl_.count());
      if (stopping_) co_return;
      if (granted.result) {
        lease_ = granted.result->id;
        lease_confirmed_ = std::chrono::steady_clock::now();
      }
      lease_call_(granted.result ? "" : granted.error);
    } else {
      etcd::LeaseCallAnswer kept = co_await client_.lease_keepalive(lease_);
      if (stopping_) co_return;
      lease_call_(kept.result ? "" : kept.error);
      if (kept.result && kept.result->ttl > 0) {
        lease_confirmed_ = std::chrono::steady_clock::now();
      } else if (kept.result || std::chrono::steady_clock::now() - lease_confirmed_ >= ttl_) {
        // Gone, or unconfirmed for a whole ttl: etcd may have handed the writer key to another plane by now.
        lease_ = 0;
        if (role_ == Role::Writer)
          set_role(Role::Candidate, "", 0, kept.result ? "the writer lease expired" : "etcd unreachable for a whole lease ttl");
      }
    }
    if (lease_ != 0 && role_ != Role::Writer) co_await claim();
    if (stopping_) co_return;
    wake_.expires_after(lease_ == 0 ? std::min(interval, std::chrono::milliseconds(1000)) : interval);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace tollway::control::ha
