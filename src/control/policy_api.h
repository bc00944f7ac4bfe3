// PolicyApi: the control plane's policy history over HTTP, for the dashboard and scripts — GET /v1/history
// (every published version, newest first), GET /v1/history/diff?from=V1&to=V2 (the unified diff per file, as
// `tollway control diff` prints it) and POST /v1/rollback {version, author?} (publishes a recorded version
// again to etcd, as `tollway control rollback` does; a directory store answers 409: it is rolled back in
// Git), GET /v1/history/nacks[?limit=N] (the NACKs nodes sent, newest first). The WatchApi routes here only
// requests that carry the admin token, and hands it each NACK to record. It never records a version (the
// control plane records what etcd then holds), never writes a policy that fails the check and never writes
// anywhere but under its prefix.
#pragma once

#include <boost/asio.hpp>

#include <string>

#include "control/etcd/etcd_client.h"
#include "control/policy_check.h"
#include "control/policy_history.h"
#include "control/rollout/rollout_log.h"
#include "proxy/admin_listener.h"

namespace tollway::control {

class PolicyApi {
 public:
  // `etcd` null: the store is the directory `store` names. `history` and `etcd` must outlive this PolicyApi.
  PolicyApi(PolicyHistory& history, etcd::EtcdClient* etcd, std::string prefix, std::string store,
            CheckDocument check);

  // Whether `path` is one of this API's.
  static bool serves(std::string_view path);
  boost::asio::awaitable<proxy::AdminResponse> handle(const proxy::AdminRequest& request);
  // GET /v1/history's answer (also read in process by GET /v1/advice).
  proxy::AdminResponse history() const;
  // GET /v1/history/nacks's answer: {total, nodes, nacks: [{at, node, version, reason}]}, the newest `limit`.
  proxy::AdminResponse nacks(int64_t limit) const;
  // GET /v1/history shows each version's staged rollout from `log` (it must outlive this PolicyApi).
  void set_rollout_log(rollout::RolloutLog* log) { rollouts_ = log; }
  // Keeps a node's NACK on record; false with `error` when the history cannot be written.
  bool record_nack(const NackRecord& nack, std::string& error) { return history_.record_nack(nack, error); }

 private:
  proxy::AdminResponse diff(const proxy::AdminRequest& request) const;
  boost::asio::awaitable<proxy::AdminResponse> rollback(const proxy::AdminRequest& request);

  PolicyHistory& history_;
  etcd::EtcdClient* etcd_;
  std::string prefix_;
  std::string store_;
  CheckDocument check_;
  rollout::RolloutLog* rollouts_ = nullptr;
};

}  // namespace tollway::control
