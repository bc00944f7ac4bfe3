// A node's key and certificate replaced together: the first install makes svid.key (0600) and svid.pem symlinks
// through `current`; each later install swaps in the new pair and drops the old one; a directory in the flat layout
// (two regular files) is adopted; and a writer killed with SIGKILL at random moments, again and again, never leaves
// a key on disk that does not match the certificate. Pairs are made by the openssl CLI; matching is OpenSSL's
// X509_check_private_key.
#include "tls/node_keypair_files.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace tollway::tls {
namespace {

namespace fs = std::filesystem;

struct Pair {
  std::string key, chain;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class NodeKeypairFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tollway-keypair-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      const std::string name = "pair" + std::to_string(i);
      const std::string command = "cd '" + dir_.string() + "' && openssl req -x509 -newkey ec -pkeyopt "
                                  "ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
                                  ".pem -days 1 -subj /CN=" + name + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
      pairs_[i] = {read_text(dir_ / (name + ".key")), read_text(dir_ / (name + ".pem"))};
    }
    identity_ = (dir_ / "identity").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // "" when DIR/svid.key matches DIR/svid.pem; else why not ("missing" when either is absent).
  std::string mismatch() const {
    const std::string chain = read_text(fs::path(identity_) / "svid.pem");
    const std::string key = read_text(fs::path(identity_) / "svid.key");
    if (chain.empty() || key.empty()) return "missing";
    BIO* cert_bio = BIO_new_mem_buf(chain.data(), static_cast<int>(chain.size()));
    BIO* key_bio = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    const bool matches = cert != nullptr && pkey != nullptr && X509_check_private_key(cert, pkey) == 1;
    X509_free(cert);
    EVP_PKEY_free(pkey);
    BIO_free(cert_bio);
    BIO_free(key_bio);
    ERR_clear_error();
    return matches ? "" : "the key does not match the certificate";
  }
  bool holds(const Pair& pair) const {
    return read_text(fs::path(identity_) / "svid.pem") == pair.chain &&
           read_text(fs::path(identity_) / "svid.key") == pair.key;
  }
  std::size_t pairs_kept() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(fs::path(identity_) / "keypairs"),
                                                  fs::directory_iterator()));
  }

  fs::path dir_;
  std::string identity_;
  std::array<Pair, 3> pairs_;
};

TEST_F(NodeKeypairFilesTest, TheFirstInstallLinksBothFilesThroughCurrent) {
  std::string error;
  ASSERT_TRUE(install_node_keypair(identity_, pairs_[0].key, pairs_[0].chain, error)) << error;
  EXPECT_TRUE(holds(pairs_[0]));
  EXPECT_EQ(fs::read_symlink(fs::path(identity_) / "svid.key"), "current/svid.key");
  EXPECT_EQ(fs::read_symlink(fs::path(identity_) / "svid.pem"), "current/svid.pem");
  struct stat st {};
  ASSERT_EQ(::stat((fs::path(identity_) / "svid.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(pairs_kept(), 1u);
}

TEST_F(NodeKeypairFilesTest, AnotherInstallReplacesBothAndDropsTheOldPair) {
  std::string error;
  ASSERT_TRUE(install_node_keypair(identity_, pairs_[0].key, pairs_[0].chain, error)) << error;
  ASSERT_TRUE(install_node_keypair(identity_, pairs_[1].key, pairs_[1].chain, error)) << error;
  EXPECT_TRUE(holds(pairs_[1]));
  EXPECT_EQ(mismatch(), "");
  EXPECT_EQ(pairs_kept(), 1u);
}

TEST_F(NodeKeypairFilesTest, AFlatLayoutIsAdoptedThenReplaced) {
  fs::create_directories(identity_);
  std::ofstream(fs::path(identity_) / "svid.key") << pairs_[0].key;
  std::ofstream(fs::path(identity_) / "svid.pem") << pairs_[0].chain;
  std::string error;
  ASSERT_TRUE(install_node_keypair(identity_, pairs_[1].key, pairs_[1].chain, error)) << error;
  EXPECT_TRUE(holds(pairs_[1]));
  EXPECT_TRUE(fs::is_symlink(fs::path(identity_) / "svid.pem"));
  EXPECT_EQ(pairs_kept(), 1u);
}

TEST_F(NodeKeypairFilesTest, AWriterKilledAtAnyMomentLeavesAMatchingPair) {
  // The directory starts flat, so the adoption is interrupted too.
  fs::create_directories(identity_);
  std::ofstream(fs::path(identity_) / "svid.key") << pairs_[0].key;
  std::ofstream(fs::path(identity_) / "svid.pem") << pairs_[0].chain;
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, 3000);
  int checked = 0;
  for (int round = 0; round < 60; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (std::size_t i = 1;; ++i) {
        std::string error;
        const Pair& pair = pairs_[i % pairs_.size()];
        if (!install_node_keypair(identity_, pair.key, pair.chain, error)) ::_exit(2);
      }
    }
    ::usleep(static_cast<useconds_t>(delay_us(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed in round " << round;
    const std::string why = mismatch();
    ASSERT_TRUE(why.empty() || why == "missing") << why << " after round " << round;
    ASSERT_NE(why, "missing") << "a pair was lost in round " << round;
    ++checked;
  }
  EXPECT_EQ(checked, 60);
  // What the killed writers left behind (pair directories, half-made symlinks) goes with the next install.
  std::string error;
  ASSERT_TRUE(install_node_keypair(identity_, pairs_[2].key, pairs_[2].chain, error)) << error;
  EXPECT_TRUE(holds(pairs_[2]));
  EXPECT_EQ(pairs_kept(), 1u);
}

}  // namespace
}  // namespace tollway::tls
