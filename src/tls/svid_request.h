// SvidRequest: what a node sends to ask for an X.509-SVID — an ECDSA P-256 private key (fresh, from OpenSSL's
// CSPRNG, or the node's own for a renewal) and a PKCS#10 certificate request signed with it. The request names no identity (the control
// plane takes the identity from the join token or the caller's current certificate). The key is only returned to
// the caller, which keeps it on the node; it never leaves this function in any other form and is never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::tls {

struct SvidRequest {
  std::string key_pem;  // PKCS#8 PEM, unencrypted: the caller writes it 0600
  std::string csr_pem;  // PEM certificate request over the key's public half, signed with it
};

// A request over a new key, or over `existing_key_pem` when given. nullopt with `error` when OpenSSL cannot make
// or read the key or sign the request.
std::optional<SvidRequest> make_svid_request(std::string& error, std::string_view existing_key_pem = {});

}  // namespace tollway::tls
