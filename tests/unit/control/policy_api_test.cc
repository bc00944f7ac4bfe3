// The policy API and the dashboard's files as the WatchApi serves them: /v1/history, /v1/history/diff and
// /v1/rollback only with the admin token; the history newest first with who published each version; the diff
// per file as `tollway control diff` prints it; a rollback on a directory store refused with 409 (rolled back
// in Git), an unknown version 404, a bad body 400; /ui and its files with their content types, CSP and
// nosniff.
#include <gtest/gtest.h>

#include "control/history_queries.h"
#include "control/policy_api.h"
#include "control/unified_diff.h"
#include "control/watch_api.h"
#include "core/strict_json.h"
#include "http/message.h"

namespace tollway::control {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kAdminToken = "admin-secret";

class PolicyApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    history_ = PolicyHistory::open("", false, error);
    ASSERT_TRUE(history_) << error;
    PublishMeta ana;
    ana.author = "Ana";
    v1_ = *history_->record(PolicyFiles{"/p", {{"base.yaml", "version: 1\n"}, {"models.yaml", "a: 1\n"}}},
                            "directory /p", ana, error);
    PublishMeta bo;
    bo.author = "Bo";
    bo.commit = "0123456789abcdef0123456789abcdef01234567";
    v2_ = *history_->record(
        PolicyFiles{"/p",
                    {{"base.yaml", "version: 1\n"}, {"models.yaml", "a: 2\n"}, {"extra.yaml", "b: 1\n"}}},
        "directory /p", bo, error);
    policy_ = std::make_unique<PolicyApi>(*history_, nullptr, "", "directory /p", nullptr);
    api_.set_policy_api(policy_.get());
  }

  proxy::AdminResponse call(std::string_view method, std::string_view path, std::string_view query = "",
                            std::string body = "", std::string_view token = kAdminToken) {
    const std::string authorization = "Bearer " + std::string(token);
    http::RequestHead head;
    if (!token.empty()) head.headers.push_back({"Authorization", authorization});
    proxy::AdminRequest request;
    request.method = method;
    request.path = path;
    request.query = query;
    request.head = &head;
    request.body = std::move(body);
    proxy::AdminResponse response;
    asio::co_spawn(
        context_, [&]() -> asio::awaitable<void> { response = co_await api_.handle(request); },
        asio::detached);
    context_.restart();
    context_.run();
    return response;
  }

  static core::strict_json::Value parse(const proxy::AdminResponse& r) {
    std::string error;
    auto value = core::strict_json::parse(r.body, error);
    EXPECT_TRUE(value) << error << ": " << r.body;
    return value ? std::move(*value) : core::strict_json::Value();
  }
  static std::string error_code(const proxy::AdminResponse& r) {
    const auto body = parse(r);
    const auto* error = body.find("error");
    return error ? std::string(error->string_member("code").value_or("")) : "";
  }
  static std::optional<std::string> header(const proxy::AdminResponse& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return std::nullopt;
  }

  asio::io_context context_;
  std::unique_ptr<PolicyHistory> history_;
  VersionRecord v1_, v2_;
  std::unique_ptr<PolicyApi> policy_;
  WatchApi api_{context_, std::string(kAdminToken), std::chrono::seconds(1), std::chrono::seconds(60)};
};

TEST_F(PolicyApiTest, EveryPolicyEndpointNeedsTheAdminToken) {
  for (const auto& [method, path] : {std::pair{"GET", "/v1/history"}, std::pair{"GET", "/v1/history/diff"},
                                     std::pair{"POST", "/v1/rollback"}}) {
    for (std::string_view token : {"", "wrong-token!", "admin-secreT"}) {
      const auto r = call(method, path, "", "{}", token);
      EXPECT_EQ(r.status, 401) << path << " " << token;
      EXPECT_EQ(error_code(r), "unauthorized");
      EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
    }
  }
}

TEST_F(PolicyApiTest, HistoryListsEveryVersionNewestFirstWithItsAuthor) {
  const auto r = call("GET", "/v1/history");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = parse(r);
  EXPECT_EQ(body.string_member("store"), "directory /p");
  EXPECT_FALSE(body.find("rollback")->as_bool());
  const auto& versions = body.find("versions")->items();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].string_member("revision"), v2_.revision);
  EXPECT_EQ(versions[0].string_member("author"), "Bo");
  EXPECT_EQ(versions[0].string_member("commit"), v2_.meta.commit);
  EXPECT_EQ(versions[0].string_member("parent"), v1_.revision);
  EXPECT_EQ(versions[1].string_member("revision"), v1_.revision);
  EXPECT_EQ(versions[1].string_member("author"), "Ana");
  EXPECT_EQ(r.body, "{\"store\":\"directory /p\",\"rollback\":false,\"versions\":[" + version_json(v2_) +
                        "," + version_json(v1_) + "]}\n");
  EXPECT_EQ(call("POST", "/v1/history").status, 405);
}

TEST_F(PolicyApiTest, DiffGivesEachChangedFileAsTheCliPrintsIt) {
  const auto r = call("GET", "/v1/history/diff", "from=" + v1_.revision + "&to=2");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = parse(r);
  EXPECT_EQ(body.string_member("from"), v1_.revision);
  EXPECT_EQ(body.string_member("to"), v2_.revision);
  const auto& files = body.find("files")->items();
  ASSERT_EQ(files.size(), 2u);  // base.yaml did not change
  EXPECT_EQ(files[0].string_member("file"), "extra.yaml");
  EXPECT_EQ(files[0].string_member("change"), "added");
  EXPECT_EQ(files[0].string_member("diff"),
            unified_diff("/dev/null", "", v2_.revision + "/extra.yaml", "b: 1\n"));
  EXPECT_EQ(files[1].string_member("file"), "models.yaml");
  EXPECT_EQ(files[1].string_member("change"), "changed");
  EXPECT_EQ(files[1].string_member("diff"),
            unified_diff(v1_.revision + "/models.yaml", "a: 1\n", v2_.revision + "/models.yaml", "a: 2\n"));

  EXPECT_EQ(error_code(call("GET", "/v1/history/diff", "from=1")), "missing_version");
  const auto unknown = call("GET", "/v1/history/diff", "from=1&to=9");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_code(unknown), "unknown_version");
}

TEST_F(PolicyApiTest, RollbackOfADirectoryStoreIsRefusedWith409AndSaysToUseGit) {
  const auto r = call("POST", "/v1/rollback", "", R"({"version":")" + v2_.revision + R"("})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_code(r), "directory_store");
  EXPECT_NE(r.body.find("roll back in Git"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("came from commit " + v2_.meta.commit), std::string::npos) << r.body;

  EXPECT_EQ(call("POST", "/v1/rollback", "", R"({"version":"7"})").status, 404);
  EXPECT_EQ(error_code(call("POST", "/v1/rollback", "", "not json")), "invalid_json");
  EXPECT_EQ(error_code(call("POST", "/v1/rollback", "", R"({"version":"1","force":"yes"})")),
            "unknown_field");
  EXPECT_EQ(error_code(call("POST", "/v1/rollback", "", R"({"version":1})")), "invalid_field");
  EXPECT_EQ(error_code(call("POST", "/v1/rollback", "", "{}")), "missing_field");
  EXPECT_EQ(call("GET", "/v1/rollback").status, 405);
}

TEST_F(PolicyApiTest, RollbackPlanRestoresTheVersionsFilesWithANoteNamingIt) {
  std::string error;
  const auto plan = plan_rollback(*history_, v1_.revision, "/tollway/policy", "Cy", error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(plan->version.revision, v1_.revision);
  EXPECT_EQ(plan->files.root, "/tollway/policy");
  EXPECT_EQ(plan->files.content_hash(),
            PolicyFiles({"/x", *history_->files_of(v1_.counter, error)}).content_hash());
  EXPECT_EQ(plan->meta.author, "Cy");
  EXPECT_EQ(plan->meta.note, "rollback to " + v1_.revision);
  EXPECT_FALSE(plan_rollback(*history_, "no-such", "/p", "", error));
  EXPECT_NE(error.find("no version"), std::string::npos) << error;
}

TEST_F(PolicyApiTest, TheDashboardIsServedWithoutATokenWithStrictHeaders) {
  for (const auto& [path, type] :
       {std::pair{"/ui", "text/html; charset=utf-8"}, std::pair{"/ui/", "text/html; charset=utf-8"},
        std::pair{"/ui/app.js", "text/javascript; charset=utf-8"},
        std::pair{"/ui/app.css", "text/css; charset=utf-8"}, std::pair{"/ui/favicon.svg", "image/svg+xml"}}) {
    const auto r = call("GET", path, "", "", "");
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, type) << path;
    EXPECT_FALSE(r.body.empty()) << path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    const auto csp = header(r, "Content-Security-Policy");
    ASSERT_TRUE(csp);
    EXPECT_EQ(csp->rfind("default-src 'self';", 0), 0u) << *csp;
    EXPECT_EQ(csp->find("unsafe"), std::string::npos) << *csp;
  }
  EXPECT_NE(call("GET", "/ui", "", "", "").body.find("<script src=\"/ui/app.js\""), std::string::npos);
  EXPECT_EQ(call("GET", "/ui/../v1/fleet", "", "", "").status, 404);
  EXPECT_EQ(call("GET", "/ui/secrets", "", "", "").status, 404);
  EXPECT_EQ(call("POST", "/ui", "", "", "").status, 405);
}

}  // namespace
}  // namespace tollway::control
