#include "control/fleet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <ctime>

#include "core/json.h"
#include "core/prometheus_text.h"

namespace tollway::control {
namespace {

constexpr std::size_t kIssuedKept = 8;

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

std::string iso_time(Clock::time_point t) {
  const std::time_t seconds = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string_view state_name(NodeState state) {
  switch (state) {
    case NodeState::Synced: return "SYNCED";
    case NodeState::Stale: return "STALE";
    case NodeState::Error: return "ERROR";
    case NodeState::NotSent: return "NOT_SENT";
    case NodeState::Disconnected: return "DISCONNECTED";
    case NodeState::Unmanaged: return "UNMANAGED";
  }
  return "UNKNOWN";
}

void Fleet::publish(const CheckedPolicy& policy) {
  std::map<std::string, NodeRecord, std::less<>> next;
  for (std::size_t i = 0; i < policy.nodes.size(); ++i) {
    const auto& declared = policy.nodes[i];
    NodeRecord record;
    if (auto it = nodes_.find(declared.id); it != nodes_.end()) record = std::move(it->second);
    record.declared = declared;
    if (record.desired_version != policy.documents[i].version) {
      record.desired_version = policy.documents[i].version;
      record.desired_sent = false;
      record.desired_sent_at.reset();
    }
    record.desired_content_version = policy.documents[i].content_version;
    record.desired_document = policy.documents[i].bytes;
    next.emplace(declared.id, std::move(record));
  }
  nodes_ = std::move(next);
}

const NodeRecord* Fleet::find(std::string_view node) const {
  const auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

NodeRecord* Fleet::find_mutable(std::string_view node) {
  const auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

bool Fleet::authenticate(std::string_view node, std::string_view token) const {
  const NodeRecord* record = find(node);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) != 1) return false;
  const std::string presented = hex(digest, length);
  // Compared even for an unknown node, against a string of the same length, so timing tells nothing.
  const std::string expected = record ? record->declared.token_sha256 : std::string(presented.size(), '-');
  const bool equal = expected.size() == presented.size() &&
                     CRYPTO_memcmp(expected.data(), presented.data(), presented.size()) == 0;
  return record != nullptr && !token.empty() && equal;
}

void Fleet::authenticated(std::string_view node, std::string_view method) {
  if (NodeRecord* record = find_mutable(node)) record->auth = std::string(method);
}

void Fleet::poll_started(std::string_view node, std::string_view have, std::string_view build,
                         Clock::time_point now) {
  NodeRecord* record = find_mutable(node);
  if (!record) return;
  const bool returning =
      !record->connected_since || record->unmanaged || state(*record, now) == NodeState::Disconnected;
  record->unmanaged = false;
  if (returning) record->connected_since = now;
  if (!build.empty()) record->build = std::string(build);
  ++record->polls_waiting;
  record->last_seen = now;
  if (!have.empty()) record->applied_version = have;
}

void Fleet::poll_ended(std::string_view node, Clock::time_point now) {
  NodeRecord* record = find_mutable(node);
  if (!record) return;
  if (record->polls_waiting > 0) --record->polls_waiting;
  record->last_seen = now;
}

bool Fleet::should_send(std::string_view node, std::string_view have) const {
  const NodeRecord* record = find(node);
  if (!record || record->desired_version.empty() || record->desired_version == have) return false;
  return have.empty() || record->nacked_version != record->desired_version;
}

std::string Fleet::issue(std::string_view node, Clock::time_point now) {
  NodeRecord* record = find_mutable(node);
  if (!record) return {};
  if (!record->desired_sent_at) record->desired_sent_at = now;
  unsigned char random[12];
  if (RAND_bytes(random, sizeof random) != 1) return {};
  NodeRecord::Issued issued{hex(random, sizeof random), record->desired_version, false};
  record->issued.push_back(issued);
  while (record->issued.size() > kIssuedKept) record->issued.pop_front();
  record->desired_sent = true;
  return issued.nonce;
}

std::string Fleet::acknowledge(std::string_view node, std::string_view version, std::string_view nonce,
                               const std::optional<std::string>& error, Clock::time_point now) {
  NodeRecord* record = find_mutable(node);
  if (!record) return "unknown node";
  NodeRecord::Issued* issued = nullptr;
  for (auto& i : record->issued)
    if (i.nonce == nonce) issued = &i;
  if (!issued)
    return "nonce \"" + std::string(nonce) + "\" was not issued to node " + std::string(node) +
           " (or is too old): ACK the nonce that came with the snapshot";
  if (issued->version != version)
    return "version \"" + std::string(version) + "\" was not sent with nonce " + std::string(nonce) +
           " (that snapshot's version is " + issued->version + ")";
  if (issued->answered) return "nonce " + std::string(nonce) + " was already used by an ACK or NACK";
  issued->answered = true;
  if (error) {
    record->nacked_version = std::string(version);
    record->nack_reason = error->empty() ? "rejected without a reason" : *error;
  } else {
    record->applied_version = std::string(version);
    record->last_ack = now;
    if (record->nacked_version == version) {
      record->nacked_version.clear();
      record->nack_reason.clear();
    }
  }
  return {};
}

void Fleet::report(std::string_view node, std::string_view version, std::string_view config_version,
                   std::string_view build, Clock::time_point now) {
  NodeRecord* record = find_mutable(node);
  if (!record) return;
  if (!record->unmanaged || state(*record, now) == NodeState::Disconnected) record->connected_since = now;
  record->unmanaged = true;
  record->reported_version = std::string(version);
  record->reported_config_version = std::string(config_version);
  if (!build.empty()) record->build = std::string(build);
  record->last_report = now;
}

void Fleet::certificate(std::string_view node, CertificatePeriod period) {
  if (NodeRecord* record = find_mutable(node)) record->certificate = period;
}

void Fleet::process_usage(std::string_view node, ProcessSample sample) {
  NodeRecord* record = find_mutable(node);
  if (!record) return;
  if (record->process && sample.cpu_seconds < record->process->cpu_seconds) record->process.reset();
  // Keep the older sample until the newer one is at least a second past it: rates over a few ms are noise.
  if (!record->previous_process || !record->process || sample.at - record->process->at >= std::chrono::seconds(1))
    record->previous_process = record->process;
  record->process = sample;
}

std::optional<double> Fleet::cpu_cores(const NodeRecord& record) {
  if (!record.process || !record.previous_process) return std::nullopt;
  const double seconds = std::chrono::duration<double>(record.process->at - record.previous_process->at).count();
  if (seconds < 1.0) return std::nullopt;
  return (record.process->cpu_seconds - record.previous_process->cpu_seconds) / seconds;
}

NodeState Fleet::state(const NodeRecord& record, Clock::time_point now) const {
  if (record.unmanaged)
    return record.last_report && now - *record.last_report > kUnmanagedSilence ? NodeState::Disconnected
                                                                                : NodeState::Unmanaged;
  if (record.last_seen && record.polls_waiting == 0 && now - *record.last_seen > 2 * poll_timeout_)
    return NodeState::Disconnected;
  if (!record.applied_version.empty() && record.applied_version == record.desired_version) return NodeState::Synced;
  if (!record.nacked_version.empty() && record.nacked_version == record.desired_version) return NodeState::Error;
  if (!record.desired_sent) return NodeState::NotSent;
  return NodeState::Stale;
}

bool Fleet::matches_policy(const NodeRecord& record) {
  return !record.reported_version.empty() && record.reported_version == record.desired_content_version;
}

bool Fleet::drifted(const NodeRecord& record, Clock::time_point now) const {
  const NodeState s = state(record, now);
  return (s == NodeState::Stale || s == NodeState::Error) && record.desired_sent_at &&
         now - *record.desired_sent_at > drift_after_;
}

std::vector<Fleet::DriftChange> Fleet::update_drift(Clock::time_point now) {
  std::vector<DriftChange> changes;
  for (auto& [id, record] : nodes_) {
    const bool d = drifted(record, now);
    if (d == record.drifted) continue;
    record.drifted = d;
    DriftChange change{id, d, state(record, now), {}};
    if (d) change.out_of_sync_for = std::chrono::duration_cast<std::chrono::seconds>(now - *record.desired_sent_at);
    changes.push_back(std::move(change));
  }
  return changes;
}

void Fleet::render_metrics(std::string& out, Clock::time_point now) const {
  namespace prometheus = core::prometheus;
  constexpr NodeState kStates[] = {NodeState::Synced,  NodeState::Stale,        NodeState::Error,
                                   NodeState::NotSent, NodeState::Disconnected, NodeState::Unmanaged};
  uint64_t per_state[std::size(kStates)] = {};
  uint64_t drifted_nodes = 0;
  uint64_t unmanaged_matching = 0;
  uint64_t unmanaged_drifted = 0;
  for (const auto& [id, record] : nodes_) {
    const NodeState s = state(record, now);
    ++per_state[static_cast<std::size_t>(s)];
    drifted_nodes += drifted(record, now);
    if (s == NodeState::Unmanaged) ++(matches_policy(record) ? unmanaged_matching : unmanaged_drifted);
  }
  prometheus::family(out, "tollway_control_nodes", "gauge", "Declared nodes by fleet state.");
  for (std::size_t i = 0; i < std::size(kStates); ++i)
    prometheus::sample(out, "tollway_control_nodes", prometheus::labels({{"state", state_name(kStates[i])}}),
                       per_state[i]);
  prometheus::family(out, "tollway_control_nodes_drifted", "gauge",
                     "Nodes STALE or in ERROR for longer than drift_after.");
  prometheus::sample(out, "tollway_control_nodes_drifted", "", drifted_nodes);
  prometheus::family(out, "tollway_control_node_drifted", "gauge",
                     "1 while the node has been STALE or in ERROR for longer than drift_after (one series per "
                     "declared node).");
  for (const auto& [id, record] : nodes_)
    prometheus::sample(out, "tollway_control_node_drifted", prometheus::labels({{"node", id}}),
                       drifted(record, now) ? 1 : 0);
  prometheus::family(out, "tollway_control_unmanaged_nodes", "gauge",
                     "UNMANAGED nodes (running their own file) by whether its content matches the policy's.");
  prometheus::sample(out, "tollway_control_unmanaged_nodes", prometheus::labels({{"match", "MATCHES"}}),
                     unmanaged_matching);
  prometheus::sample(out, "tollway_control_unmanaged_nodes", prometheus::labels({{"match", "DRIFTED"}}),
                     unmanaged_drifted);
  prometheus::family(out, "tollway_control_drift_after_seconds", "gauge",
                     "How long a node may stay STALE or in ERROR before it counts as drifted.");
  prometheus::sample_real(out, "tollway_control_drift_after_seconds", "",
                          std::chrono::duration<double>(drift_after_).count());
}

std::string Fleet::nodes_json(Clock::time_point now) const {
  std::string nodes = "[";
  for (const auto& [id, record] : nodes_) {
    if (nodes.size() > 1) nodes += ",";
    json::ObjectWriter w;
    const NodeState s = state(record, now);
    w.field("id", id).field("state", state_name(s));
    if (s == NodeState::Error || !record.nack_reason.empty()) w.field("error", record.nack_reason);
    w.field("desired_version", record.desired_version);
    if (record.applied_version.empty()) w.null_field("applied_version");
    else w.field("applied_version", record.applied_version);
    if (!record.nacked_version.empty()) w.field("rejected_version", record.nacked_version);
    for (auto [name, t] : {std::pair{"last_ack", &record.last_ack}, std::pair{"connected_since", &record.connected_since},
                           std::pair{"last_seen", &record.last_seen}}) {
      if (*t) w.field(name, iso_time(**t));
      else w.null_field(name);
    }
    w.field("drifted", drifted(record, now));
    if (record.build.empty()) w.null_field("build");
    else w.field("build", record.build);
    if (record.unmanaged) {
      w.field("match", matches_policy(record) ? "MATCHES" : "DRIFTED")
          .field("reported_version", record.reported_version)
          .field("desired_content_version", record.desired_content_version)
          .field("config_version", record.reported_config_version)
          .field("last_report", iso_time(*record.last_report));
    }
    if (record.certificate)
      w.field("cert_not_before", iso_time(record.certificate->not_before))
          .field("cert_not_after", iso_time(record.certificate->not_after));
    else
      w.null_field("cert_not_before").null_field("cert_not_after");
    if (record.process)
      w.field("cpu_seconds", record.process->cpu_seconds).field("rss_bytes", record.process->rss_bytes);
    else
      w.null_field("cpu_seconds").null_field("rss_bytes");
    if (const auto cores = cpu_cores(record)) w.field("cpu_cores", *cores);
    else w.null_field("cpu_cores");
    w.field("role", role_name(record.declared.role));
    if (record.declared.spiffe_id.empty()) w.null_field("spiffe_id");
    else w.field("spiffe_id", record.declared.spiffe_id);
    if (record.auth.empty()) w.null_field("auth");
    else w.field("auth", record.auth);
    json::ObjectWriter labels;
    for (const auto& [k, v] : record.declared.labels) labels.field(k, v);
    w.raw_field("labels", std::move(labels).finish());
    nodes += std::move(w).finish();
  }
  return nodes + "]";
}

}  // namespace tollway::control
