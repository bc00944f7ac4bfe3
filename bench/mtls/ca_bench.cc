// The control plane's CA issuance rate on one core (issue 16), with its floor measured in the same run:
//   BM_IssueSvid          CertificateAuthority::issue: read and verify a node's CSR (P-256), build and sign an
//                         X.509-SVID (one URI SAN, CA:FALSE, digitalSignature, serverAuth + clientAuth)
//   BM_VerifyCsr          reference: only the CSR intake (tls::read_csr_public_key: PEM parse + signature check)
//   BM_EcdsaP256Sign      reference: one ECDSA P-256 signature over a SHA-256 digest (what signing a certificate
//                         costs at least)
// Items per second = certificates (or signatures) per second on the one thread.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "control/ca/certificate_authority.h"
#include "tls/csr_intake.h"
#include "tls/openssl_handles.h"

namespace {

using tollway::control::CertificateAuthority;

using Pkey = tollway::tls::PkeyPtr;

Pkey p256_key() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

// A node's CSR as tollway's nodes make it: a P-256 key, a subject, signed with SHA-256.
std::string csr_pem(EVP_PKEY* key) {
  tollway::tls::X509ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("SPIFFE"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) throw std::runtime_error("CSR signing failed");
  tollway::tls::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return tollway::tls::bio_text(bio.get());
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<CertificateAuthority> ca;
  Pkey node_key = p256_key();
  std::string csr = csr_pem(node_key.get());
  tollway::tls::SpiffeId identity = *tollway::tls::SpiffeId::parse("spiffe://bench.example.org/ns/prod/sa/agent");
  Fixture() {
    dir = std::filesystem::temp_directory_path() / ("tollway-ca-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string error;
    ca = CertificateAuthority::open_state_dir(dir.string(), "bench.example.org", error);
    if (!ca) throw std::runtime_error(error);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_IssueSvid(benchmark::State& state) {
  Fixture& f = fixture();
  std::string error;
  for (auto _ : state) {
    auto svid = f.ca->issue(f.csr, f.identity, CertificateAuthority::kDefaultSvidLifetime, error);
    if (!svid) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(svid);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IssueSvid);

void BM_VerifyCsr(benchmark::State& state) {
  Fixture& f = fixture();
  std::string error;
  for (auto _ : state) {
    auto key = tollway::tls::read_csr_public_key(f.csr, CertificateAuthority::kMaxCsrBytes, error);
    if (!key) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(key);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyCsr);

void BM_EcdsaP256Sign(benchmark::State& state) {
  Pkey key = p256_key();
  const std::string tbs(400, 'c');  // about a certificate's to-be-signed part
  unsigned char signature[128];
  for (auto _ : state) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t length = sizeof signature;
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
    EVP_DigestSign(ctx.get(), signature, &length, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size());
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EcdsaP256Sign);

}  // namespace

BENCHMARK_MAIN();
