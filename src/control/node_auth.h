// NodeAuth: who may act as a declared node on the control plane's node APIs (GET /v1/snapshot, POST /v1/ack,
// POST /v1/report, POST /v1/usage). A node with an identity is authenticated by its client certificate alone: the
// certificate verified in the TLS handshake (chains to the bundle), an X.509-SVID (exactly one SPIFFE URI SAN) of the
// CA's trust domain, issued by a root of the CA's bundle, valid now, whose SPIFFE ID is the `spiffe_id` nodes.yaml
// declares for that node — so a certificate acts as the one node it was declared for, and as another node is refused
// (403). A node without one uses its bootstrap token (sha256 in nodes.yaml). Once the CA has issued a certificate for
// a node's declared SPIFFE ID, that node's token alone is refused (401 certificate_required) unless the control plane
// runs with --accept-node-token-after-join. Each decision is counted by method and result, and the method of a
// node's latest accepted request shows in the fleet. It never logs or echoes a token.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "control/ca/certificate_authority.h"
#include "control/ca/identity_store.h"
#include "control/fleet.h"
#include "proxy/admin_listener.h"

namespace tollway::control {

class NodeAuth {
 public:
  explicit NodeAuth(Fleet& fleet) : fleet_(fleet) {}

  // The CA the certificates are checked against (`ca` is re-read on every request: a rotation replaces the object
  // it holds) and the store that says which identities were issued. Without them (the CA is off) every node uses
  // its token. Both must outlive this NodeAuth.
  void use_ca(const std::shared_ptr<const CertificateAuthority>& ca, IdentityStore& issued) {
    ca_ = &ca;
    issued_ = &issued;
  }
  // --accept-node-token-after-join: a node whose identity was issued may still use its token alone.
  void accept_token_after_join(bool accept) { accept_token_after_join_ = accept; }

  struct Verdict {
    bool ok = false;
    std::string_view method;  // "certificate" or "token" (accepted); what was tried (refused)
    int status = 401;
    std::string code;
    std::string message;
  };
  // May this request act as `node`? An accepted one is recorded in the fleet (NodeRecord::auth).
  Verdict authenticate(const proxy::AdminRequest& request, std::string_view node);
  // The refusal as the answer to send.
  static proxy::AdminResponse refusal(const Verdict& verdict);

  // tollway_control_node_auth_total{method, result} and tollway_control_node_auth_refusals_total{code}.
  void render_metrics(std::string& out) const;

 private:
  Verdict by_certificate(X509* certificate, std::string_view node, bool& declared_for_a_node);
  Verdict by_token(const proxy::AdminRequest& request, std::string_view node);
  Verdict counted(Verdict verdict, std::string_view node);

  Fleet& fleet_;
  const std::shared_ptr<const CertificateAuthority>* ca_ = nullptr;
  IdentityStore* issued_ = nullptr;
  bool accept_token_after_join_ = false;
  std::map<std::pair<std::string, std::string>, uint64_t> decisions_;  // (method, result)
  std::map<std::string, uint64_t> refusals_;                            // by code
};

}  // namespace tollway::control
