// CertificateAuthority: the control plane's SPIFFE certificate authority. It holds one signing certificate and
// key — an ECDSA P-256 root it generated on first start (key file 0600 in the state directory) or a supplied
// intermediate — and turns a node's CSR into an X.509-SVID: exactly one URI SAN (the SPIFFE ID), CA:FALSE,
// digitalSignature, serverAuth + clientAuth, a bounded lifetime. The identity is always the caller's argument:
// nothing in the CSR but its public key is used, and a CSR whose signature does not verify with that key is
// refused. A generated root rotates (control/ca/root_schedule.h): the CA is then built for one instant — the bundle
// holds the prepared, active and old roots, the active one signs SVIDs, the oldest one still trusted signs the
// control plane's own listener certificate, and a certificate any of those roots issued counts as issued here.
// It never writes a private key anywhere but its own state files and never returns one.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>  // X509

#include "control/ca/root_schedule.h"
#include "tls/spiffe_id.h"

namespace tollway::control {

class CertificateAuthority {
 public:
  using Clock = std::chrono::system_clock;
  static constexpr std::chrono::seconds kMinSvidLifetime{300};
  static constexpr std::chrono::seconds kDefaultSvidLifetime{24 * 3600};
  static constexpr std::chrono::seconds kRootLifetime{5LL * 365 * 24 * 3600};
  static constexpr std::size_t kMaxCsrBytes = 16 * 1024;

  // The CA of `state_dir`: its ca/root.pem and ca/root.key when present, else a new ECDSA P-256 root for
  // `trust_domain` written there first (key 0600, written to a temporary file, synced, renamed). Null with
  // `error` when the files are unreadable, do not match, or name another trust domain.
  static std::unique_ptr<CertificateAuthority> open_state_dir(const std::string& state_dir,
                                                              std::string_view trust_domain, std::string& error);
  // The generated roots of `state_dir` as `view` says they stand (rotation): each root of the bundle is read from
  // its files (root_certificate_file, root_key_file); generation 1 is generated first when the directory holds no
  // root yet. Null with `error` when a file is unreadable, a key does not match, or a root names another trust
  // domain.
  static std::unique_ptr<CertificateAuthority> open_state_dir(const std::string& state_dir,
                                                              std::string_view trust_domain, const RootView& view,
                                                              std::string& error);
  // A new self-signed ECDSA P-256 root for `trust_domain` (URI SAN spiffe://TD, CA:TRUE, keyCertSign, valid
  // kRootLifetime): the key written first (0600), then the certificate, each to a temporary file, synced, renamed.
  struct GeneratedRoot {
    std::string serial_hex;
    Clock::time_point not_after;
  };
  static std::optional<GeneratedRoot> generate_root(const std::string& cert_file, const std::string& key_file,
                                                    std::string_view trust_domain, std::string& error);
  // A supplied intermediate: `cert_file` holds its certificate (then any chain up to a root), `key_file` its
  // key. It must be a CA certificate whose key matches.
  static std::unique_ptr<CertificateAuthority> from_files(const std::string& cert_file, const std::string& key_file,
                                                          std::string_view trust_domain, std::string& error);
  ~CertificateAuthority();

  struct Svid {
    std::string certificate_pem;  // the leaf
    std::string chain_pem;        // the leaf, then the CA's intermediates, never a root (what a node presents)
    Clock::time_point not_before, not_after;
    std::string serial_hex;
  };
  // An X.509-SVID for `identity` over the CSR's public key, valid from now - 60 s (clock skew) for `lifetime`
  // (at least kMinSvidLifetime, and never past the CA's own expiry). nullopt with `error` for a CSR that is not
  // exactly one PEM certificate request, is oversized, fails its signature check or holds a key that is not
  // EC P-256/P-384 or RSA of 2048 bits or more; or an identity outside the CA's trust domain. `host_names`
  // (the control plane's own listener certificate only) become DNS or IP SANs beside the one URI SAN; a name that
  // is neither an IP address nor a DNS name is refused.
  std::optional<Svid> issue(std::string_view csr_pem, const tls::SpiffeId& identity, std::chrono::seconds lifetime,
                            std::string& error, const std::vector<std::string>& host_names = {}) const;
  // The same, signed by the root that signs the control plane's own listener certificate (RootView's
  // listener_signing: the oldest root still trusted that has signed; the signing one outside a rotation).
  std::optional<Svid> issue_listener(std::string_view csr_pem, const tls::SpiffeId& identity,
                                     std::chrono::seconds lifetime, std::string& error,
                                     const std::vector<std::string>& host_names) const;
  // "" when `certificate` was signed by this CA's signing key (or, for generated roots, by any root of the
  // bundle) and is valid now; else why not.
  std::string check_issued_here(X509* certificate) const;

  const std::string& trust_domain() const { return trust_domain_; }
  // The trust bundle: the CA's root(s), PEM.
  const std::string& bundle_pem() const { return bundle_pem_; }
  // The same as a SPIFFE bundle (JWKS: one "x509-svid" key per root, with its x5c), `sequence` in
  // spiffe_sequence.
  std::string bundle_jwks() const;
  // The bundle's spiffe_sequence: 1, plus one for each root added to or removed from it by a rotation.
  uint64_t sequence() const { return sequence_; }
  Clock::time_point expires_at() const { return not_after_; }

 private:
  struct Keys;
  struct Signer;
  CertificateAuthority(std::unique_ptr<Keys> keys, std::string trust_domain);
  std::optional<Svid> issue_with(const Signer& signer, std::string_view csr_pem, const tls::SpiffeId& identity,
                                 std::chrono::seconds lifetime, std::string& error,
                                 const std::vector<std::string>& host_names) const;
  std::unique_ptr<Keys> keys_;
  std::string trust_domain_;
  std::string bundle_pem_;
  std::string chain_pem_;  // the intermediates from the CA's certificate up, without the root(s)
  Clock::time_point not_after_;
  uint64_t sequence_ = 1;
};

}  // namespace tollway::control
