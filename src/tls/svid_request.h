// SvidRequest: what a node sends to ask for an X.509-SVID — a new ECDSA P-256 private key from OpenSSL's CSPRNG
// (one per certificate: a renewal never reuses the previous key) and a PKCS#10 certificate request signed with it.
// The request names no identity (the control plane takes the identity from the join token or the caller's current
// certificate). The key is only returned to the caller, which keeps it on the node; it never leaves this function
// in any other form and is never logged.
#pragma once

#include <optional>
#include <string>

namespace tollway::tls {

struct SvidRequest {
  std::string key_pem;  // PKCS#8 PEM, unencrypted: the caller writes it 0600
  std::string csr_pem;  // PEM certificate request over the key's public half, signed with it
};

// A request over a new key. nullopt with `error` when OpenSSL cannot make the key or sign the request.
std::optional<SvidRequest> make_svid_request(std::string& error);

}  // namespace tollway::tls
