// The identity store (SQLite): a join token is minted only for a workload ID in the recorded trust domain, is
// stored as its SHA-256 only, pays for exactly one certificate (and only for the identity it was minted for),
// expires, and survives a reopen of the file; every mint and issuance is in the audit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "control/ca/identity_store.h"

namespace tollway::control {
namespace {

using namespace std::chrono_literals;
using Clock = IdentityStore::Clock;

tls::SpiffeId id(std::string_view text) { return *tls::SpiffeId::parse(text); }

class IdentityFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollway-identity-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/identity.db";
    std::string error;
    store_ = IdentityStore::open(path_, false, error);
    ASSERT_TRUE(store_) << error;
    ASSERT_TRUE(store_->set_trust_domain("example.org", error)) << error;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  IdentityStore::MintedToken mint(std::string_view identity, std::chrono::seconds ttl = 3600s) {
    std::string error;
    auto minted = store_->mint(id(identity), ttl, now_, error);
    EXPECT_TRUE(minted) << error;
    return minted.value_or(IdentityStore::MintedToken{});
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<IdentityStore> store_;
  Clock::time_point now_ = Clock::time_point(std::chrono::seconds(1'800'000'000));
};

TEST_F(IdentityFile, MintsRandomTokensStoredOnlyAsTheirHash) {
  const auto a = mint("spiffe://example.org/ns/prod/sa/web");
  const auto b = mint("spiffe://example.org/ns/prod/sa/web");
  EXPECT_NE(a.token, b.token);
  EXPECT_EQ(a.token.rfind("twjoin_", 0), 0u);
  EXPECT_EQ(a.token.size(), 7u + 64u);  // 32 random bytes, hex
  EXPECT_EQ(a.expires_at, now_ + 3600s);
  store_.reset();
  for (const auto& name : {path_, path_ + "-wal"}) {
    std::ifstream file(name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(a.token.substr(7)), std::string::npos) << name;
  }
}

TEST_F(IdentityFile, RefusesToMintOutsideTheTrustDomainOrTheWorkloadShape) {
  std::string error;
  EXPECT_FALSE(store_->mint(id("spiffe://other.org/ns/prod/sa/web"), 3600s, now_, error));
  EXPECT_NE(error.find("not in the control plane's trust domain example.org"), std::string::npos) << error;
  EXPECT_FALSE(store_->mint(id("spiffe://example.org/web"), 3600s, now_, error));
  EXPECT_NE(error.find("/ns/NAMESPACE/sa/AGENT"), std::string::npos) << error;
  EXPECT_FALSE(store_->mint(id("spiffe://example.org/ns/prod/sa/web/extra"), 3600s, now_, error));
  EXPECT_FALSE(store_->mint(id("spiffe://example.org/ns/prod/sa/web"), 0s, now_, error));

  std::string open_error;
  auto no_ca = IdentityStore::open("", false, open_error);
  ASSERT_TRUE(no_ca) << open_error;
  EXPECT_FALSE(no_ca->mint(id("spiffe://example.org/ns/prod/sa/web"), 3600s, now_, error));
  EXPECT_NE(error.find("--trust-domain"), std::string::npos) << error;
}

TEST_F(IdentityFile, ATokenPaysForOneCertificateOnly) {
  const auto minted = mint("spiffe://example.org/ns/prod/sa/web");
  const auto check = store_->check(minted.token, now_ + 10s);
  ASSERT_TRUE(check.identity) << check.refusal;
  EXPECT_EQ(check.identity->text(), "spiffe://example.org/ns/prod/sa/web");
  EXPECT_EQ(check.token_hash.substr(0, 12), minted.hash_prefix);
  // Checking consumes nothing.
  EXPECT_TRUE(store_->check(minted.token, now_ + 10s).identity);

  std::string error;
  const IdentityStore::Issuance issued{check.identity->text(), "0A1B", now_ + 24h};
  ASSERT_TRUE(store_->redeem(check.token_hash, issued, now_ + 10s, error)) << error;
  EXPECT_FALSE(store_->redeem(check.token_hash, issued, now_ + 11s, error));
  const auto again = store_->check(minted.token, now_ + 12s);
  EXPECT_FALSE(again.identity);
  EXPECT_NE(again.refusal.find("already used"), std::string::npos) << again.refusal;
}

// Whether an identity was ever issued (NodeAuth refuses such a node's token alone): a renewal or a join counts, a
// mint does not.
TEST_F(IdentityFile, KnowsWhichIdentitiesWereIssued) {
  const auto minted = mint("spiffe://example.org/ns/prod/sa/web");
  EXPECT_FALSE(store_->has_issued("spiffe://example.org/ns/prod/sa/web"));
  const auto check = store_->check(minted.token, now_);
  std::string error;
  ASSERT_TRUE(store_->redeem(check.token_hash, {check.identity->text(), "01", now_ + 1h}, now_, error)) << error;
  EXPECT_TRUE(store_->has_issued("spiffe://example.org/ns/prod/sa/web"));
  EXPECT_FALSE(store_->has_issued("spiffe://example.org/ns/prod/sa/db"));
  ASSERT_TRUE(store_->record_renewal({"spiffe://example.org/ns/prod/sa/db", "02", now_ + 1h}, now_, error)) << error;
  EXPECT_TRUE(store_->has_issued("spiffe://example.org/ns/prod/sa/db"));
}

// A rotation is recorded with its audit entry in one transaction, survives a reopen, and a second rotation planned
// from the same schedule (another command that raced) is refused without a trace.
TEST_F(IdentityFile, RecordsRotationsWithTheirAuditEntry) {
  std::string error;
  auto schedule = store_->root_schedule(error);
  ASSERT_TRUE(schedule && schedule->empty()) << error;
  const auto plan = plan_rotation(*schedule, now_, 60s, 600s, error);
  ASSERT_TRUE(plan) << error;
  ASSERT_TRUE(store_->record_rotation(*plan, "example.org", "ABCD", now_ + 24h, now_, error)) << error;
  EXPECT_FALSE(store_->record_rotation(*plan, "example.org", "EF01", now_ + 24h, now_, error));
  EXPECT_NE(error.find("another rotation"), std::string::npos) << error;

  store_.reset();
  store_ = IdentityStore::open(path_, true, error);
  ASSERT_TRUE(store_) << error;
  schedule = store_->root_schedule(error);
  ASSERT_TRUE(schedule) << error;
  ASSERT_EQ(schedule->size(), 2u);
  EXPECT_EQ((*schedule)[0].generation, 1);
  EXPECT_EQ((*schedule)[0].retires_at, now_ + 660s);
  EXPECT_EQ((*schedule)[1].generation, 2);
  EXPECT_EQ((*schedule)[1].activates_at, now_ + 60s);
  EXPECT_EQ(root_view(*schedule, now_ + 60s), (RootView{{1, 2}, 2, 1, 2}));
  const auto audit = store_->audit(error);
  ASSERT_TRUE(audit) << error;
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().event, "ca_rotated");
  EXPECT_EQ(audit->front().identity, "spiffe://example.org");
  EXPECT_EQ(audit->front().token, "root-2");
  EXPECT_EQ(audit->front().serial, "ABCD");
}

TEST_F(IdentityFile, ATokenCannotPayForAnotherIdentity) {
  const auto minted = mint("spiffe://example.org/ns/prod/sa/web");
  const auto check = store_->check(minted.token, now_);
  std::string error;
  EXPECT_FALSE(store_->redeem(check.token_hash, {"spiffe://example.org/ns/prod/sa/admin", "01", now_ + 24h}, now_,
                              error));
  // The refused redemption left it usable for its own identity.
  EXPECT_TRUE(store_->redeem(check.token_hash, {check.identity->text(), "02", now_ + 24h}, now_, error)) << error;
}

TEST_F(IdentityFile, UnknownAndExpiredTokensAreRefusedWithTheReason) {
  EXPECT_EQ(store_->check("twjoin_nope", now_).refusal, "unknown join token");
  const auto minted = mint("spiffe://example.org/ns/prod/sa/web", 60s);
  EXPECT_TRUE(store_->check(minted.token, now_ + 59s).identity);
  const auto expired = store_->check(minted.token, now_ + 60s);
  EXPECT_FALSE(expired.identity);
  EXPECT_NE(expired.refusal.find("expired"), std::string::npos) << expired.refusal;
  std::string error;
  EXPECT_FALSE(store_->redeem(expired.token_hash, {"spiffe://example.org/ns/prod/sa/web", "01", now_ + 24h},
                              now_ + 60s, error));
}

TEST_F(IdentityFile, TokensAndTheAuditSurviveAReopen) {
  const auto used = mint("spiffe://example.org/ns/prod/sa/web");
  const auto kept = mint("spiffe://example.org/ns/prod/sa/db");
  std::string error;
  ASSERT_TRUE(store_->redeem(store_->check(used.token, now_).token_hash,
                             {"spiffe://example.org/ns/prod/sa/web", "0A1B", now_ + 24h}, now_, error))
      << error;
  store_.reset();

  auto reopened = IdentityStore::open(path_, true, error);
  ASSERT_TRUE(reopened) << error;
  EXPECT_EQ(reopened->trust_domain(error).value_or(""), "example.org");
  EXPECT_FALSE(reopened->check(used.token, now_).identity);
  const auto check = reopened->check(kept.token, now_);
  ASSERT_TRUE(check.identity) << check.refusal;
  EXPECT_EQ(check.identity->text(), "spiffe://example.org/ns/prod/sa/db");

  const auto audit = reopened->audit(error);
  ASSERT_TRUE(audit) << error;
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].event, "token_minted");
  EXPECT_EQ((*audit)[0].token, used.hash_prefix);
  EXPECT_EQ((*audit)[0].not_after, utc_text(now_ + 3600s));
  EXPECT_EQ((*audit)[2].event, "certificate_issued");
  EXPECT_EQ((*audit)[2].identity, "spiffe://example.org/ns/prod/sa/web");
  EXPECT_EQ((*audit)[2].token, used.hash_prefix);
  EXPECT_EQ((*audit)[2].serial, "0A1B");
  EXPECT_EQ((*audit)[2].not_after, utc_text(now_ + 24h));
  EXPECT_EQ((*audit)[2].at, "2027-01-15T08:00:00Z");
}

TEST_F(IdentityFile, OpeningAMissingFileForTheCliFails) {
  std::string error;
  EXPECT_FALSE(IdentityStore::open(dir_ + "/absent.db", true, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

}  // namespace
}  // namespace tollway::control
