// Shared steps of loading PEM files into an OpenSSL context (client and server): a readable-file check with a
// clear reason, OpenSSL's queued error as text, and an unencrypted private key. Only src/tls uses it; it never
// prompts for a passphrase and never logs file contents.
#pragma once

#include <string>

#include <openssl/ssl.h>

namespace tollway::tls {

// OpenSSL's reason for the most recent queued error, and the queue cleared.
std::string openssl_reason();

// "" when the file can be opened for reading, else why not (clearer than OpenSSL's "system lib").
std::string unreadable_reason(const std::string& path);

// Makes an encrypted key fail to load instead of OpenSSL asking for a passphrase on the terminal.
void refuse_passphrases(SSL_CTX* ctx);

// Installs the unencrypted PEM key in `path` and checks it against the context's certificate. "" on
// success, else the error message for the key's config setting.
std::string use_private_key(SSL_CTX* ctx, const std::string& path, const std::string& cert_path);

// Fixes the chain sent after the context's certificate once, at load. A certificate file with intermediates is
// sent as it is (as OpenSSL did); a lone certificate gets its issuers from the context's trust store, the
// self-signed root left out. Without it OpenSSL builds and verifies that chain again in every handshake (an ECDSA
// verification each: a third of an mTLS handshake's CPU). Call it after the certificate and the trust store are
// both loaded; a chain that cannot be completed is sent as far as it goes, as before.
void fix_certificate_chain(SSL_CTX* ctx);

}  // namespace tollway::tls
