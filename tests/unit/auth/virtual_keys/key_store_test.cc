#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>

#include "auth/virtual_keys/key_store.h"
#include "auth/virtual_keys/keys_api.h"

namespace tollway::auth {
namespace {

std::string temp_db() {
  auto p = std::filesystem::temp_directory_path() / ("tollway-keys-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(std::rand()) + ".db");
  return p.string();
}

TEST(VirtualKeyStore, CreateAuthenticateRevokePersist) {
  const std::string path = temp_db();
  std::string error;
  std::string secret, id;
  {
    auto store = VirtualKeyStore::open(path, error);
    ASSERT_TRUE(store) << error;
    NewVirtualKey r;
    r.tenant = "acme";
    r.models = {"gpt-*"};
    auto created = store->create(r, 100, error);
    ASSERT_TRUE(created) << error;
    secret = created->second;
    id = created->first.id;
    EXPECT_TRUE(secret.starts_with("tw-"));
    EXPECT_EQ(secret.size(), 46u);
    EXPECT_NE(created->first.secret_sha256, secret);
    KeyCheck why;
    auto k = store->authenticate(secret, 101, why);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->tenant, "acme");
    ASSERT_TRUE(k->policy);
    EXPECT_EQ(k->policy->models, std::vector<std::string>{"gpt-*"});
    EXPECT_FALSE(store->authenticate(secret + "x", 101, why));
    EXPECT_EQ(why, KeyCheck::Unknown);
  }
  {
    auto store = VirtualKeyStore::open(path, error);  // a restart keeps the key
    ASSERT_TRUE(store) << error;
    KeyCheck why;
    EXPECT_TRUE(store->authenticate(secret, 102, why));
    ASSERT_TRUE(store->revoke(id, 103, error));
    EXPECT_FALSE(store->authenticate(secret, 104, why));
    EXPECT_EQ(why, KeyCheck::Revoked);
    EXPECT_FALSE(store->active_key(id, 104, why));
    EXPECT_EQ(why, KeyCheck::Revoked);
    EXPECT_FALSE(store->active_key("vk_0000000000000000", 104, why));
    EXPECT_EQ(why, KeyCheck::Unknown);
  }
  {
    auto store = VirtualKeyStore::open(path, error);
    KeyCheck why;
    EXPECT_FALSE(store->authenticate(secret, 105, why));
    EXPECT_EQ(why, KeyCheck::Revoked);
  }
  std::remove(path.c_str());
}

// A store written before metadata and budget anchors existed opens, migrated in place: metadata {} and the
// anchor at the key's creation. Its limits reach the request path typed; a PATCH that sets a budget re-anchors.
TEST(VirtualKeyStore, MigratesTheFirstSchemaAndUpdatesWithoutANewSecret) {
  const std::string path = temp_db();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE virtual_keys (id TEXT PRIMARY KEY, secret_sha256 BLOB NOT NULL, previous_sha256"
                         " BLOB, previous_valid_until INTEGER NOT NULL DEFAULT 0, display_prefix TEXT NOT NULL, name"
                         " TEXT NOT NULL, tenant TEXT NOT NULL, agent_group TEXT NOT NULL, agent TEXT NOT NULL, routes"
                         " TEXT NOT NULL, models TEXT NOT NULL, max_tokens INTEGER NOT NULL, expires_at INTEGER NOT"
                         " NULL, created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL, limits TEXT NOT NULL);"
                         "INSERT INTO virtual_keys VALUES ('vk_old', x'00', NULL, 0, 'tw-abcd', 'old', 'acme', '', '',"
                         " '[]', '[]', 0, 0, 42, 0, '{\"tpm\":7}');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  auto store = VirtualKeyStore::open(path, error);
  ASSERT_TRUE(store) << error;
  auto old = store->get("vk_old");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->metadata_json, "{}");
  EXPECT_EQ(old->budget_anchor, 42);
  VirtualKeyChange change;
  change.limits_json = R"({"max_budget":2,"budget_duration":"1d"})";
  change.metadata_json = R"({"team":"x"})";
  change.models = std::vector<std::string>{"gpt-4o"};
  auto changed = store->update("vk_old", change, 500, error);
  ASSERT_TRUE(changed) << error;
  EXPECT_EQ(changed->budget_anchor, 500);
  EXPECT_EQ(changed->secret_sha256, old->secret_sha256);
  KeyCheck why;
  auto active = store->active_key("vk_old", 501, why);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->policy->key_limits.max_budget_micro_usd, 2'000'000);
  EXPECT_EQ(active->policy->key_limits.budget_every_s, 86400);
  EXPECT_EQ(active->policy->key_limits.budget_anchor_s, 500);
  EXPECT_EQ(active->policy->key_id, "vk_old");
  EXPECT_EQ(active->policy->models, std::vector<std::string>{"gpt-4o"});
  change = VirtualKeyChange{};
  change.limits_json = R"({"max_budget":5,"budget_duration":"1d"})";  // same periods: the anchor stays
  EXPECT_EQ(store->update("vk_old", change, 900, error)->budget_anchor, 500);
  store.reset();
  store = VirtualKeyStore::open(path, error);  // reopening an already migrated file changes nothing
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->get("vk_old")->metadata_json, R"({"team":"x"})");
  std::remove(path.c_str());
}

TEST(VirtualKeyStore, RotationGraceAndExpiry) {
  std::string error;
  auto store = VirtualKeyStore::open(":memory:", error);
  ASSERT_TRUE(store) << error;
  NewVirtualKey r;
  r.tenant = "t";
  r.expires_at = 1000;
  auto created = store->create(r, 100, error);
  auto rotated = store->rotate(created->first.id, 60, 200, error);
  ASSERT_TRUE(rotated) << error;
  KeyCheck why;
  EXPECT_TRUE(store->authenticate(created->second, 259, why));   // old key inside the grace period
  EXPECT_TRUE(store->authenticate(rotated->second, 259, why));   // new key
  EXPECT_FALSE(store->authenticate(created->second, 260, why));  // grace over
  EXPECT_EQ(why, KeyCheck::RotatedOut);
  EXPECT_FALSE(store->authenticate(rotated->second, 1000, why));
  EXPECT_EQ(why, KeyCheck::Expired);
  EXPECT_TRUE(store->active_key(created->first.id, 999, why));  // what a token minted from the key checks
  EXPECT_EQ(why, KeyCheck::Ok);
  EXPECT_FALSE(store->active_key(created->first.id, 1000, why));
  EXPECT_EQ(why, KeyCheck::Expired);
}

TEST(KeysApi, NeedsTheAdminTokenAndNeverListsSecrets) {
  std::string error;
  auto store = VirtualKeyStore::open(":memory:", error);
  const std::string admin = "admin-token-0123456789";
  KeysApiRequest create{"POST", "/admin/keys", "", std::nullopt, R"({"tenant":"acme","max_tokens":5})"};
  EXPECT_EQ(handle_keys_api(*store, admin, create, 1).status, 401);
  create.authorization = "Bearer wrong-token-0123456789";
  EXPECT_EQ(handle_keys_api(*store, admin, create, 1).status, 401);
  EXPECT_EQ(handle_keys_api(*store, "", create, 1).status, 403);
  create.authorization = "Bearer " + admin;
  std::string bearer = "Bearer " + admin;
  create.authorization = bearer;
  auto created = handle_keys_api(*store, admin, create, 1);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto at = created.body.find("\"key\":\"tw-");
  ASSERT_NE(at, std::string::npos);
  const std::string secret = created.body.substr(at + 7, 46);
  KeysApiRequest list{"GET", "/admin/keys", "", bearer, ""};
  auto listed = handle_keys_api(*store, admin, list, 2);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(secret), std::string::npos);
  EXPECT_NE(listed.body.find("\"tenant\":\"acme\""), std::string::npos);
  KeysApiRequest bad{"POST", "/admin/keys", "", bearer, R"({"tenant":"a","tenant":"b"})"};
  EXPECT_EQ(handle_keys_api(*store, admin, bad, 1).status, 400);
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
}

}  // namespace
}  // namespace tollway::auth
