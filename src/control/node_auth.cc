#include "control/node_auth.h"

#include <utility>

#include "control/api_response.h"
#include "core/prometheus_text.h"
#include "tls/server_context.h"

namespace tollway::control {
namespace {

// A verdict that was on its way to a refusal, turned into the acceptance (its method kept).
NodeAuth::Verdict accepted(NodeAuth::Verdict verdict) {
  verdict.ok = true;
  verdict.status = 200;
  verdict.code.clear();
  return verdict;
}

}  // namespace

NodeAuth::Verdict NodeAuth::by_certificate(X509* certificate, std::string_view node,
                                           bool& declared_for_a_node) {
  Verdict verdict;
  verdict.method = "certificate";
  verdict.code = "invalid_certificate";
  const tls::PeerIdentity peer = tls::identity_of(certificate);
  if (peer.spiffe_id.empty()) {
    verdict.message = "the client certificate is not an X.509-SVID (exactly one SPIFFE URI SAN)" +
                      (peer.spiffe_id_error.empty() ? std::string() : ": " + peer.spiffe_id_error);
    return verdict;
  }
  const CertificateAuthority& ca = **ca_;
  const auto id = tls::SpiffeId::parse(peer.spiffe_id);
  if (!id || id->trust_domain() != ca.trust_domain()) {
    verdict.message = "the client certificate's SPIFFE ID " + peer.spiffe_id + " is not in trust domain " +
                      ca.trust_domain();
    return verdict;
  }
  if (const std::string problem = ca.check_issued_here(certificate); !problem.empty()) {
    verdict.message = "the client certificate of " + peer.spiffe_id + ": " + problem;
    return verdict;
  }
  // The node the request names is looked up first (one map lookup per request); the whole fleet is searched
  // only to say whose identity a refused certificate is.
  const NodeRecord* named = fleet_.find(node);
  const DeclaredNode* owner =
      named != nullptr && named->declared.spiffe_id == peer.spiffe_id ? &named->declared : nullptr;
  for (auto it = fleet_.nodes().begin(); owner == nullptr && it != fleet_.nodes().end(); ++it)
    if (it->second.declared.spiffe_id == peer.spiffe_id) owner = &it->second.declared;
  declared_for_a_node = owner != nullptr;
  if (owner == nullptr) {
    verdict.status = 403;
    verdict.code = "unknown_identity";
    verdict.message = "the client certificate " + peer.spiffe_id +
                      " is declared for no node (nodes.yaml: spiffe_id under the node it authenticates)";
    return verdict;
  }
  if (owner->id != node) {
    verdict.status = 403;
    verdict.code = "wrong_node";
    verdict.message = "the client certificate " + peer.spiffe_id + " is node " + owner->id +
                      "'s identity (nodes.yaml): it cannot act as node " + std::string(node);
    return verdict;
  }
  return accepted(std::move(verdict));
}

NodeAuth::Verdict NodeAuth::by_token(const proxy::AdminRequest& request, std::string_view node) {
  Verdict verdict;
  verdict.method = "token";
  verdict.code = "unauthorized";
  const std::string_view token = bearer_token(request);
  if (token.empty()) {
    verdict.method = "none";
    verdict.message =
        "no credential: a client certificate with the node's SPIFFE ID (nodes.yaml spiffe_id), or "
        "its bootstrap token (Authorization: Bearer TOKEN)";
    return verdict;
  }
  if (!fleet_.authenticate(node, token)) {
    verdict.message = "unknown node, or not its bootstrap token (Authorization: Bearer TOKEN)";
    return verdict;
  }
  const NodeRecord* record = fleet_.find(node);
  const std::string& identity = record->declared.spiffe_id;
  if (!identity.empty() && !accept_token_after_join_ && issued_ != nullptr && issued_->has_issued(identity)) {
    verdict.code = "certificate_required";
    verdict.message =
        "node " + std::string(node) + " holds an identity (" + identity +
        ", issued by this CA): it authenticates with that certificate over mTLS, and its bootstrap "
        "token alone is refused (tollway control --accept-node-token-after-join accepts it)";
    return verdict;
  }
  return accepted(std::move(verdict));
}

NodeAuth::Verdict NodeAuth::authenticate(const proxy::AdminRequest& request, std::string_view node) {
  if (request.peer_certificate != nullptr && ca_ != nullptr && *ca_ != nullptr) {
    bool declared_for_a_node = false;
    Verdict by_cert = by_certificate(request.peer_certificate, node, declared_for_a_node);
    // A node's certificate decides (accepted, or refused as another node's); any other certificate (an
    // agent's, one of another issuer under the same root) leaves the decision to the token.
    if (by_cert.ok || declared_for_a_node || bearer_token(request).empty())
      return counted(std::move(by_cert), node);
  }
  return counted(by_token(request, node), node);
}

NodeAuth::Verdict NodeAuth::counted(Verdict verdict, std::string_view node) {
  ++decisions_[{std::string(verdict.method), verdict.ok ? "accepted" : "refused"}];
  if (verdict.ok)
    fleet_.authenticated(node, verdict.method);
  else
    ++refusals_[verdict.code];
  return verdict;
}

proxy::AdminResponse NodeAuth::refusal(const Verdict& verdict) {
  return error_response(verdict.status, verdict.code, verdict.message);
}

void NodeAuth::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_control_node_auth_total", "counter",
                     "Requests of the node APIs (snapshot, ack, report, usage) by how the node authenticated "
                     "(certificate, token, none) and the result.");
  for (const auto& [key, n] : decisions_)
    prometheus::sample(out, "tollway_control_node_auth_total",
                       prometheus::labels({{"method", key.first}, {"result", key.second}}), n);
  prometheus::family(out, "tollway_control_node_auth_refusals_total", "counter",
                     "Node API requests refused, by the error code answered.");
  for (const auto& [code, n] : refusals_)
    prometheus::sample(out, "tollway_control_node_auth_refusals_total", prometheus::labels({{"code", code}}),
                       n);
}

}  // namespace tollway::control
