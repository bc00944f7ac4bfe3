// CsrIntake: how a certificate signing request from a node is read before anything is issued for it — exactly one
// PEM certificate request within a size bound, a public key of an accepted type (EC P-256/P-384, RSA of 2048 bits
// or more), and a signature that verifies with that key. Only the public key comes out: nothing else the CSR asks
// for (subject, SANs, extensions) is ever used. Pure (OpenSSL only, no I/O); it never echoes the CSR's bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tls/openssl_handles.h"

namespace tollway::tls {

using PublicKey = PkeyPtr;

// The CSR's public key, or null with `error` saying why the CSR is refused.
PublicKey read_csr_public_key(std::string_view csr_pem, std::size_t max_bytes, std::string& error);

}  // namespace tollway::tls
