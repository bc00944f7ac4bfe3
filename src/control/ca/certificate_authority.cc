#include "control/ca/certificate_authority.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "auth/jwt/base64url.h"
#include "core/atomic_file.h"
#include "tls/csr_intake.h"
#include "tls/openssl_handles.h"
#include "tls/pem_loading.h"

namespace tollway::control {
namespace {

using Clock = std::chrono::system_clock;

using Bio = tls::BioPtr;
using Pkey = tls::PkeyPtr;
using Cert = tls::X509Ptr;
using Bn = tls::BignumPtr;
using tls::bio_text;

std::string pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_text(bio.get());
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every certificate of a PEM text, in order.
std::vector<Cert> read_certificates(std::string_view pem) {
  std::vector<Cert> certs;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();  // the read that ended the loop
  return certs;
}

Clock::time_point time_of(const ASN1_TIME* t) {
  struct tm parts {};
  ASN1_TIME_to_tm(t, &parts);
  return Clock::from_time_t(timegm(&parts));
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool added = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return added;
}

// A positive random 128-bit serial number (RFC 5280: at most 20 octets, unique per CA).
bool set_random_serial(X509* cert) {
  Bn serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) return false;
  return BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool set_validity(X509* cert, Clock::time_point from, Clock::time_point to) {
  return ASN1_TIME_set(X509_getm_notBefore(cert), Clock::to_time_t(from)) != nullptr &&
         ASN1_TIME_set(X509_getm_notAfter(cert), Clock::to_time_t(to)) != nullptr;
}

// The SPIFFE ID of a CA certificate (its only URI SAN), "" when it has none.
std::string uri_san(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  std::string uri;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* s = name->d.uniformResourceIdentifier;
      uri.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
      break;
    }
  }
  GENERAL_NAMES_free(names);
  return uri;
}

bool is_ip_address(const std::string& text) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), address) == 1 || inet_pton(AF_INET6, text.c_str(), address) == 1;
}

// Letters, digits, '-' and '.', labels of 1 to 63 characters, at most 253 in all (RFC 1035 preferred syntax).
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

}  // namespace

struct CertificateAuthority::Signer {
  Pkey key;
  Cert cert;
};

struct CertificateAuthority::Keys {
  Signer signing;            // signs SVIDs
  Signer listener;           // signs the control plane's own listener certificate
  std::vector<Cert> roots;   // the trust bundle's roots
  std::vector<Cert> issuers;  // a certificate one of these signed was issued here
};

namespace {

CertificateAuthority::Clock::time_point not_after_of(X509* cert) { return time_of(X509_get0_notAfter(cert)); }

// A copy of a reference to `cert` (and `key`).
Cert shared(X509* cert) {
  X509_up_ref(cert);
  return Cert(cert);
}

Pkey shared(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return Pkey(key);
}

}  // namespace

CertificateAuthority::CertificateAuthority(std::unique_ptr<Keys> keys, std::string trust_domain)
    : keys_(std::move(keys)), trust_domain_(std::move(trust_domain)) {
  for (const auto& root : keys_->roots) bundle_pem_ += pem_of(root.get());
  not_after_ = not_after_of(keys_->signing.cert.get());
}

CertificateAuthority::~CertificateAuthority() = default;

std::unique_ptr<CertificateAuthority> CertificateAuthority::from_files(const std::string& cert_file,
                                                                       const std::string& key_file,
                                                                       std::string_view trust_domain,
                                                                       std::string& error) {
  if (std::string problem = tls::SpiffeId::check_trust_domain(trust_domain); !problem.empty()) {
    error = problem;
    return nullptr;
  }
  const auto cert_text = read_file(cert_file);
  if (!cert_text) {
    error = tls::unreadable_reason(cert_file);
    return nullptr;
  }
  const auto key_text = read_file(key_file);
  if (!key_text) {
    error = tls::unreadable_reason(key_file);
    return nullptr;
  }
  auto certs = read_certificates(*cert_text);
  if (certs.empty()) {
    error = cert_file + ": no PEM certificate";
    return nullptr;
  }
  Bio key_bio(BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())));
  Pkey key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) {
    ERR_clear_error();
    error = key_file + ": no unencrypted PEM private key";
    return nullptr;
  }
  X509* signing = certs.front().get();
  if (X509_check_private_key(signing, key.get()) != 1) {
    ERR_clear_error();
    error = key_file + ": the key does not match " + cert_file;
    return nullptr;
  }
  if (X509_check_ca(signing) == 0) {
    error = cert_file + ": not a CA certificate (basicConstraints CA:TRUE and keyCertSign required)";
    return nullptr;
  }
  const std::string id = uri_san(signing);
  if (!id.empty()) {
    const auto spiffe = tls::SpiffeId::parse(id);
    if (!spiffe || spiffe->trust_domain() != trust_domain) {
      error = cert_file + ": its URI SAN " + id + " is not in trust domain " + std::string(trust_domain);
      return nullptr;
    }
  }
  auto keys = std::make_unique<Keys>();
  keys->signing.key = std::move(key);
  // The bundle holds the self-signed certificates of the file (the root of a supplied chain, or the CA itself).
  std::string chain;
  for (auto& cert : certs) {
    if (X509_check_issued(cert.get(), cert.get()) == X509_V_OK) {
      X509_up_ref(cert.get());
      keys->roots.emplace_back(cert.get());
    } else {
      chain += pem_of(cert.get());  // peers hold the roots in their bundle: a chain never carries them
    }
  }
  if (keys->roots.empty()) {
    error = cert_file + ": the chain does not end in a self-signed root (append the root to the file)";
    return nullptr;
  }
  keys->signing.cert = std::move(certs.front());
  keys->listener = Signer{shared(keys->signing.key.get()), shared(keys->signing.cert.get())};
  keys->issuers.push_back(shared(keys->signing.cert.get()));
  auto ca = std::unique_ptr<CertificateAuthority>(new CertificateAuthority(std::move(keys), std::string(trust_domain)));
  ca->chain_pem_ = chain;
  if (ca->not_after_ <= Clock::now()) {
    error = cert_file + ": the CA certificate has expired";
    return nullptr;
  }
  return ca;
}

std::unique_ptr<CertificateAuthority> CertificateAuthority::open_state_dir(const std::string& state_dir,
                                                                           std::string_view trust_domain,
                                                                           std::string& error) {
  return open_state_dir(state_dir, trust_domain, root_view({}, Clock::now()), error);
}

std::unique_ptr<CertificateAuthority> CertificateAuthority::open_state_dir(const std::string& state_dir,
                                                                           std::string_view trust_domain,
                                                                           const RootView& view, std::string& error) {
  if (std::string problem = tls::SpiffeId::check_trust_domain(trust_domain); !problem.empty()) {
    error = problem;
    return nullptr;
  }
  const std::string first_cert = root_certificate_file(state_dir, 1);
  const std::string first_key = root_key_file(state_dir, 1);
  std::error_code ec;
  if (view.bundle == std::vector<int64_t>{1} && !std::filesystem::exists(first_cert, ec) &&
      !std::filesystem::exists(first_key, ec) && !generate_root(first_cert, first_key, trust_domain, error))
    return nullptr;
  auto ca = from_files(root_certificate_file(state_dir, view.signing), root_key_file(state_dir, view.signing),
                       trust_domain, error);
  if (!ca) return nullptr;
  Keys& keys = *ca->keys_;
  // The bundle in generation order, each root a self-signed CA of the trust domain; every root of it may have
  // issued a certificate that is still valid.
  keys.roots.clear();
  keys.issuers.clear();
  for (const int64_t generation : view.bundle) {
    const std::string cert_file = root_certificate_file(state_dir, generation);
    if (generation == view.signing) {
      keys.roots.push_back(shared(keys.signing.cert.get()));
      keys.issuers.push_back(shared(keys.signing.cert.get()));
      continue;
    }
    if (generation == view.listener_signing) {
      // The listener's signer: its key too, checked to match.
      auto root = from_files(cert_file, root_key_file(state_dir, generation), trust_domain, error);
      if (!root) return nullptr;
      keys.listener = Signer{shared(root->keys_->signing.key.get()), shared(root->keys_->signing.cert.get())};
      keys.roots.push_back(shared(root->keys_->signing.cert.get()));
      keys.issuers.push_back(shared(root->keys_->signing.cert.get()));
      continue;
    }
    // A prepared or old root: only its certificate is needed.
    const auto text = read_file(cert_file);
    auto certs = text ? read_certificates(*text) : std::vector<Cert>{};
    if (certs.size() != 1 || X509_check_issued(certs.front().get(), certs.front().get()) != X509_V_OK ||
        X509_check_ca(certs.front().get()) == 0) {
      error = cert_file + ": not one self-signed CA certificate (root generation " + std::to_string(generation) + ")";
      return nullptr;
    }
    const auto id = tls::SpiffeId::parse(uri_san(certs.front().get()));
    if (!id || id->trust_domain() != trust_domain) {
      error = cert_file + ": the root does not name trust domain " + std::string(trust_domain);
      return nullptr;
    }
    keys.roots.push_back(shared(certs.front().get()));
    keys.issuers.push_back(std::move(certs.front()));
  }
  ca->bundle_pem_.clear();
  for (const auto& root : keys.roots) ca->bundle_pem_ += pem_of(root.get());
  ca->sequence_ = view.sequence;
  return ca;
}

std::optional<CertificateAuthority::GeneratedRoot> CertificateAuthority::generate_root(const std::string& cert_file,
                                                                                      const std::string& key_file,
                                                                                      std::string_view trust_domain,
                                                                                      std::string& error) {
  if (std::string problem = tls::SpiffeId::check_trust_domain(trust_domain); !problem.empty()) {
    error = problem;
    return std::nullopt;
  }
  const std::filesystem::path dir = std::filesystem::path(cert_file).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  Pkey key(EVP_EC_gen("P-256"));
  Cert cert(X509_new());
  if (!key || !cert) {
    error = "cannot generate the CA key: " + tls::openssl_reason();
    return std::nullopt;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tollway"), -1, -1, 0);
  const std::string common_name = "tollway CA " + std::string(trust_domain);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  const auto now = Clock::now();
  const bool built = X509_set_version(cert.get(), 2) == 1 && set_random_serial(cert.get()) &&
                     X509_set_issuer_name(cert.get(), name) == 1 &&
                     set_validity(cert.get(), now - std::chrono::seconds(60), now + kRootLifetime) &&
                     X509_set_pubkey(cert.get(), key.get()) == 1 &&
                     add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
                     add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") &&
                     add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") &&
                     add_extension(cert.get(), cert.get(), NID_subject_alt_name,
                                   "URI:spiffe://" + std::string(trust_domain)) &&
                     X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!built) {
    error = "cannot build the CA certificate: " + tls::openssl_reason();
    return std::nullopt;
  }
  Bio key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  // The key first: a root.pem without its key would make every later start fail.
  if (!core::write_file_atomically(key_file, bio_text(key_bio.get()), 0600, error) ||
      !core::write_file_atomically(cert_file, pem_of(cert.get()), 0644, error))
    return std::nullopt;
  GeneratedRoot generated;
  generated.not_after = not_after_of(cert.get());
  Bn serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  char* hex = BN_bn2hex(serial.get());
  generated.serial_hex = hex;
  OPENSSL_free(hex);
  return generated;
}

std::optional<CertificateAuthority::Svid> CertificateAuthority::issue(std::string_view csr_pem,
                                                                      const tls::SpiffeId& identity,
                                                                      std::chrono::seconds lifetime,
                                                                      std::string& error,
                                                                      const std::vector<std::string>& host_names) const {
  return issue_with(keys_->signing, csr_pem, identity, lifetime, error, host_names);
}

std::optional<CertificateAuthority::Svid> CertificateAuthority::issue_listener(
    std::string_view csr_pem, const tls::SpiffeId& identity, std::chrono::seconds lifetime, std::string& error,
    const std::vector<std::string>& host_names) const {
  return issue_with(keys_->listener, csr_pem, identity, lifetime, error, host_names);
}

std::optional<CertificateAuthority::Svid> CertificateAuthority::issue_with(
    const Signer& signer, std::string_view csr_pem, const tls::SpiffeId& identity, std::chrono::seconds lifetime,
    std::string& error, const std::vector<std::string>& host_names) const {
  if (identity.trust_domain() != trust_domain_) {
    error = "identity " + identity.text() + " is not in trust domain " + trust_domain_;
    return std::nullopt;
  }
  const tls::PublicKey csr_key = tls::read_csr_public_key(csr_pem, kMaxCsrBytes, error);
  if (!csr_key) return std::nullopt;
  EVP_PKEY* public_key = csr_key.get();

  std::string subject_alt_names = "URI:" + identity.text();
  for (const auto& host : host_names) {
    if (is_ip_address(host)) subject_alt_names += ",IP:" + host;
    else if (is_dns_name(host)) subject_alt_names += ",DNS:" + host;
    else {
      error = "\"" + host + "\" is neither an IP address nor a DNS name";
      return std::nullopt;
    }
  }

  lifetime = std::max(lifetime, kMinSvidLifetime);
  const auto now = Clock::now();
  const auto not_before = now - std::chrono::seconds(60);
  const auto not_after = std::min(now + lifetime, not_after_of(signer.cert.get()));
  Cert cert(X509_new());
  X509* issuer = signer.cert.get();
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tollway"), -1, -1,
                             0);
  const bool built =
      X509_set_version(cert.get(), 2) == 1 && set_random_serial(cert.get()) &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) == 1 &&
      set_validity(cert.get(), not_before, not_after) && X509_set_pubkey(cert.get(), public_key) == 1 &&
      add_extension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE") &&
      add_extension(cert.get(), issuer, NID_key_usage,
                    EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA ? "critical,digitalSignature,keyEncipherment"
                                                                     : "critical,digitalSignature") &&
      add_extension(cert.get(), issuer, NID_ext_key_usage, "serverAuth,clientAuth") &&
      add_extension(cert.get(), issuer, NID_subject_key_identifier, "hash") &&
      add_extension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always") &&
      add_extension(cert.get(), issuer, NID_subject_alt_name, subject_alt_names) &&
      X509_sign(cert.get(), signer.key.get(), EVP_sha256()) > 0;
  if (!built) {
    error = "cannot build the certificate: " + tls::openssl_reason();
    return std::nullopt;
  }
  Svid svid;
  svid.certificate_pem = pem_of(cert.get());
  svid.chain_pem = svid.certificate_pem + chain_pem_;
  svid.not_before = time_of(X509_get0_notBefore(cert.get()));
  svid.not_after = time_of(X509_get0_notAfter(cert.get()));
  Bn serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  char* hex = BN_bn2hex(serial.get());
  svid.serial_hex = hex;
  OPENSSL_free(hex);
  return svid;
}

std::string CertificateAuthority::check_issued_here(X509* certificate) const {
  const bool issued_here = std::any_of(keys_->issuers.begin(), keys_->issuers.end(), [&](const Cert& issuer) {
    return X509_check_issued(issuer.get(), certificate) == X509_V_OK &&
           X509_verify(certificate, X509_get0_pubkey(issuer.get())) == 1;
  });
  ERR_clear_error();
  if (!issued_here) return "the certificate was not issued by this certificate authority";
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) <= 0) return "the certificate has expired";
  if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0) return "the certificate is not valid yet";
  return "";
}

std::string CertificateAuthority::bundle_jwks() const {
  std::string keys;
  for (const auto& root : keys_->roots) {
    EVP_PKEY* key = X509_get0_pubkey(root.get());
    if (key == nullptr) continue;
    const std::string der = der_of(root.get());
    // x5c is standard base64 (RFC 7517 §4.7), not base64url.
    std::string x5c(4 * ((der.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(x5c.data()),
                    reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
    if (!keys.empty()) keys += ",";
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
      BIGNUM* x = nullptr;
      BIGNUM* y = nullptr;
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
      const int bytes = (EVP_PKEY_get_bits(key) + 7) / 8;
      std::string xs(static_cast<std::size_t>(bytes), '\0'), ys(static_cast<std::size_t>(bytes), '\0');
      BN_bn2binpad(x, reinterpret_cast<unsigned char*>(xs.data()), bytes);
      BN_bn2binpad(y, reinterpret_cast<unsigned char*>(ys.data()), bytes);
      BN_free(x);
      BN_free(y);
      keys += R"({"use":"x509-svid","kty":"EC","crv":")" + std::string(bytes == 32 ? "P-256" : "P-384") +
              R"(","x":")" + auth::base64url_encode(xs) + R"(","y":")" + auth::base64url_encode(ys) +
              R"(","x5c":[")" + x5c + R"("]})";
    } else {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
      std::string ns(static_cast<std::size_t>(BN_num_bytes(n)), '\0'), es(static_cast<std::size_t>(BN_num_bytes(e)), '\0');
      BN_bn2bin(n, reinterpret_cast<unsigned char*>(ns.data()));
      BN_bn2bin(e, reinterpret_cast<unsigned char*>(es.data()));
      BN_free(n);
      BN_free(e);
      keys += R"({"use":"x509-svid","kty":"RSA","n":")" + auth::base64url_encode(ns) + R"(","e":")" +
              auth::base64url_encode(es) + R"(","x5c":[")" + x5c + R"("]})";
    }
  }
  return R"({"keys":[)" + keys + R"(],"spiffe_sequence":)" + std::to_string(sequence_) + "}";
}

}  // namespace tollway::control
