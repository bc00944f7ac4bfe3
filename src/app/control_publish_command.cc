// `tollway control publish DIR --etcd URLS --prefix P`: checks DIR exactly as `tollway validate DIR` does and
// writes it as the whole policy under P in one etcd txn guarded by the revision it read. `tollway control
// rollback V`: publishes a version from the history again (etcd only; a directory store is rolled back in Git).
#include <boost/asio.hpp>

#include <filesystem>
#include <iostream>

#include "app/control_subcommands.h"
#include "app/node_document_check.h"
#include "control/etcd/etcd_policy.h"
#include "control/git_commit.h"
#include "control/policy_check.h"
#include "control/history_queries.h"
#include "control/rollout/rollout_spec.h"

namespace tollway::app {
namespace {

namespace asio = boost::asio;

constexpr int kConflictExitCode = 2;

// The check `tollway validate DIR` makes; prints the warnings and, when invalid, the errors.
bool check_files(const control::PolicyFiles& files, const std::string& what) {
  const auto verdict = control::check_policy(files, check_node_document);
  for (const auto& w : verdict.warnings) std::cerr << "warning: " << w << "\n";
  if (verdict.policy) return true;
  for (const auto& e : verdict.errors) std::cerr << e << "\n";
  std::cerr << verdict.errors.size() << (verdict.errors.size() == 1 ? " error" : " errors") << " in " << what
            << ": nothing published\n";
  return false;
}

int publish(const std::string& urls, const control::etcd::EtcdTlsFiles& tls, const std::string& prefix_option,
            const control::PolicyFiles& files, const control::PublishMeta& meta, int64_t expected_revision) {
  std::string error;
  const auto prefix = control::etcd::normalize_prefix(prefix_option, error);
  auto members = prefix ? control::etcd::parse_member_urls(urls, tls, error) : std::nullopt;
  if (!members) {
    std::cerr << (prefix && !error.starts_with("--") ? "--etcd: " : "") << error << "\n";
    return 1;
  }
  asio::io_context context(1);
  control::etcd::EtcdClient client(context.get_executor(), std::move(*members), std::chrono::seconds(5));
  control::etcd::PublishOutcome outcome;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        outcome = co_await control::etcd::publish_policy(client, *prefix, files, meta, expected_revision);
      },
      asio::detached);
  context.run();
  using Result = control::etcd::PublishOutcome::Result;
  if (outcome.result == Result::Published || outcome.result == Result::Unchanged) {
    std::cout << outcome.message << "\n";
    return 0;
  }
  std::cerr << "tollway control publish: " << outcome.message << "\n";
  return outcome.result == Result::Conflict ? kConflictExitCode : 1;
}

}  // namespace

void add_etcd_tls_options(CLI::App& cmd, control::etcd::EtcdTlsFiles& tls) {
  cmd.add_option("--etcd-ca", tls.ca_file,
                 "With https:// etcd URLs: the PEM CA bundle the members' certificates chain to (default: the system "
                 "store)");
  cmd.add_option("--etcd-cert", tls.cert_file,
                 "With https:// etcd URLs: the PEM client certificate for etcd's --client-cert-auth (with --etcd-key)");
  cmd.add_option("--etcd-key", tls.key_file, "The --etcd-cert certificate's PEM private key (unencrypted)");
}

void add_control_publish_commands(CLI::App& control, int& exit_code) {
  auto* cmd = control.add_subcommand(
      "publish", "Check a policy directory as `tollway validate` does and write it whole to etcd in one transaction");
  cmd->footer(
      "Keys: PREFIX/PATH for every policy file (PREFIX/base.yaml, PREFIX/groups/zone-a.yaml, PREFIX/nodes.yaml)\n"
      "and PREFIX/.publish (author, Git commit and its author, time, --canary). Keys of files no longer in DIR are deleted.\n"
      "The transaction applies only if nothing under PREFIX/ changed since the revision this publish read (or\n"
      "--expect-revision): of two publishers, one wins and the other gets a conflict (exit 2) and writes nothing.\n"
      "Exit 0 published or unchanged, 1 invalid policy or etcd failure, 2 conflict.");
  auto dir = std::make_shared<std::string>();
  auto urls = std::make_shared<std::string>();
  auto prefix = std::make_shared<std::string>();
  auto author = std::make_shared<std::string>();
  auto expected = std::make_shared<int64_t>(0);
  auto canary = std::make_shared<std::string>();
  cmd->add_option("dir", *dir, "The policy directory")->required();
  cmd->add_option("--etcd", *urls, "etcd member URLs, http(s)://HOST:PORT[,...] (v3 JSON gateway)")->required();
  auto tls = std::make_shared<control::etcd::EtcdTlsFiles>();
  add_etcd_tls_options(*cmd, *tls);
  cmd->add_option("--prefix", *prefix, "The key prefix the policy lives under, e.g. /tollway/policy")->required();
  cmd->add_option("--author", *author, "Who publishes (default: the Git commit's author when DIR is in a work tree)");
  cmd->add_option("--expect-revision", *expected,
                  "Write only if nothing under the prefix changed after this etcd revision (default: the one read)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--canary", *canary,
                  "Roll the version out to a canary first: LABEL=VALUE[,LABEL=VALUE…] (nodes with those labels) or "
                  "N% (1 to 99, of the declared nodes, chosen by the hash of their IDs); overrides rollout.yaml's "
                  "canary, takes its hold and thresholds (or the defaults: hold 5m, min_requests 100, error_rate 1%, "
                  "deny_rate 5%)");
  cmd->callback([=, &exit_code] {
    std::vector<std::string> errors;
    const control::PolicyFiles files = control::read_policy_directory(*dir, errors);
    if (!errors.empty()) {
      for (const auto& e : errors) std::cerr << e << "\n";
      exit_code = 1;
      return;
    }
    if (!check_files(files, *dir)) {
      exit_code = 1;
      return;
    }
    control::PublishMeta meta;
    if (!canary->empty()) {
      std::string error;
      const auto selection = control::rollout::parse_canary_option(*canary, error);
      const auto load = selection ? control::load_policy(files) : control::PolicyLoad{};
      if (!selection || !control::rollout::select_canary(*selection, load.policy->nodes, error)) {
        std::cerr << "--canary: " << error << ": nothing published\n";
        exit_code = 1;
        return;
      }
      meta.canary = *canary;
    }
    meta.author = *author;
    meta.published_at = control::utc_now_text();
    if (const auto commit = control::git_commit_of(*dir)) {
      meta.commit = commit->id;
      meta.commit_author = commit->author;
      if (meta.author.empty()) meta.author = commit->author;
      if (commit->uncommitted_changes) meta.note = "published with uncommitted changes in the directory";
    }
    exit_code = publish(*urls, *tls, *prefix, files, meta, *expected);
  });

  auto* rollback = control.add_subcommand("rollback", "Publish a version from the history again, as a new version");
  rollback->footer(
      "Reads STATE_DIR/history.db (the control plane's --state-dir), checks the version's files again and\n"
      "publishes them to etcd as `tollway control publish` does. A directory store is rolled back in Git instead.");
  auto version = std::make_shared<std::string>();
  auto state_dir = std::make_shared<std::string>();
  auto rollback_urls = std::make_shared<std::string>();
  auto rollback_prefix = std::make_shared<std::string>();
  auto rollback_author = std::make_shared<std::string>();
  rollback->add_option("version", *version, "A revision (COUNTER-HASH), a counter, or 6+ hex digits of a hash")
      ->required();
  rollback->add_option("--state-dir", *state_dir, "The control plane's state directory")->required();
  rollback->add_option("--etcd", *rollback_urls, "etcd member URLs (the control plane's --etcd)");
  auto rollback_tls = std::make_shared<control::etcd::EtcdTlsFiles>();
  add_etcd_tls_options(*rollback, *rollback_tls);
  rollback->add_option("--prefix", *rollback_prefix, "The control plane's --prefix");
  rollback->add_option("--author", *rollback_author, "Who rolls back");
  rollback->callback([=, &exit_code] {
    exit_code = 1;
    std::string error;
    auto history =
        control::PolicyHistory::open((std::filesystem::path(*state_dir) / "history.db").string(), true, error);
    const auto plan =
        history ? control::plan_rollback(*history, *version, *rollback_prefix, *rollback_author, error) : std::nullopt;
    if (!plan) {
      std::cerr << "tollway control rollback: " << error << "\n";
      return;
    }
    if (rollback_urls->empty() || rollback_prefix->empty()) {
      std::cerr << "tollway control rollback: no --etcd and --prefix: "
                << control::directory_rollback_refusal(plan->version) << "\n";
      return;
    }
    if (!check_files(plan->files, plan->version.revision)) return;
    exit_code = publish(*rollback_urls, *rollback_tls, *rollback_prefix, plan->files, plan->meta, 0);
  });
}

}  // namespace tollway::app
