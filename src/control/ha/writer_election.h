// WriterElection: which of the control planes on one etcd cluster is the writer — the one that records the
// history (and owns the leased budgets' aggregation). Each plane holds an etcd lease of `ttl` (granted, then kept
// alive every ttl/3) and tries to create the writer key with it in one txn that succeeds only while the key is
// absent; the key names the writer (its advertised URL). The writer's key goes away with its lease (the plane
// killed, or cut off from etcd for ttl), and another plane's next claim (every ttl/3, or at once when poke()d on
// the key's deletion) takes over. A writer whose keep-alives fail for a whole ttl stops calling itself the writer
// before etcd can hand the key to another. It never writes any key but the writer key, and fences nothing itself:
// the writer's writes compare the key's create revision (writer_revision()).
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "control/etcd/etcd_client.h"

namespace tollway::control::ha {

class WriterElection {
 public:
  enum class Role { Candidate, Writer, Follower };  // Candidate: no answer from etcd yet

  // `role_changed` after each change of role or writer; `lease_call` after each grant or keep-alive, with "" when
  // etcd answered it or why no member did.
  WriterElection(boost::asio::any_io_executor executor, etcd::EtcdClient& client, std::string writer_key,
                 std::string identity, std::chrono::seconds ttl, std::function<void()> role_changed,
                 std::function<void(const std::string& error)> lease_call);

  boost::asio::awaitable<void> run();
  void poke();  // try to claim now (the writer key was deleted)
  void stop();

  Role role() const { return role_; }
  const std::string& writer() const { return writer_; }        // the writer's identity ("" when unknown)
  int64_t writer_revision() const { return writer_revision_; }  // while Writer: the writer key's create revision
  int64_t lease() const { return lease_; }
  uint64_t terms() const { return terms_; }  // times this plane became the writer

 private:
  boost::asio::awaitable<void> claim();
  void set_role(Role role, std::string writer, int64_t revision, const char* why);

  boost::asio::any_io_executor executor_;
  etcd::EtcdClient& client_;
  std::string key_, identity_;
  std::chrono::seconds ttl_;
  std::function<void()> role_changed_;
  std::function<void(const std::string&)> lease_call_;
  boost::asio::steady_timer wake_;
  Role role_ = Role::Candidate;
  std::string writer_;
  int64_t writer_revision_ = 0;
  int64_t lease_ = 0;
  std::chrono::steady_clock::time_point lease_confirmed_{};  // the last grant or keep-alive etcd answered
  uint64_t terms_ = 0;
  bool stopping_ = false;
};

const char* role_name(WriterElection::Role role);

}  // namespace tollway::control::ha
