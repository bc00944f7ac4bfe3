// `tollway control history [--json]` and `tollway control diff V1 V2`: read the versions the control plane
// published from STATE_DIR/history.db (its --state-dir) and print them, or the unified diff of two versions'
// policy files. Read only.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "app/control_subcommands.h"
#include "control/history_queries.h"
#include "control/rollout/rollout_log.h"

namespace tollway::app {
namespace {

std::unique_ptr<control::PolicyHistory> open_history(const std::string& state_dir, std::string& error) {
  const auto path = std::filesystem::path(state_dir) / "history.db";
  if (std::error_code ec; !std::filesystem::exists(path, ec)) {
    error = path.string() + " does not exist: give the control plane's --state-dir";
    return nullptr;
  }
  return control::PolicyHistory::open(path.string(), true, error);
}

using Rollouts = std::map<std::string, control::rollout::RolloutRecord>;

// "canary on gw-a (zone=a), holding", "rolled back: canary deny rate …".
std::string rollout_line(const control::rollout::RolloutRecord& r) {
  std::string nodes;
  for (const auto& n : r.canary_nodes) nodes += (nodes.empty() ? "" : ",") + n;
  const std::string head = "canary " + r.spec.canary.text() + " on " + nodes + " beside " + r.stable + ": ";
  switch (r.phase) {
    case control::rollout::Phase::Canary: return head + "in progress";
    case control::rollout::Phase::Promoted: return head + "promoted: " + r.reason;
    case control::rollout::Phase::RolledBack: return head + "ROLLED BACK: " + r.reason;
    case control::rollout::Phase::Superseded: return head + r.reason;
  }
  return head;
}

void print_table(const std::vector<control::VersionRecord>& versions, const Rollouts& rollouts) {
  std::cout << std::left << std::setw(18) << "REVISION" << std::setw(22) << "PUBLISHED" << std::setw(30) << "AUTHOR"
            << "COMMIT\n";
  for (const auto& v : versions) {
    std::cout << std::setw(18) << v.revision << std::setw(22) << v.published_at << std::setw(30)
              << (v.meta.author.empty() ? "unknown" : v.meta.author)
              << (v.meta.commit.empty() ? "-" : v.meta.commit.substr(0, 12)) << "\n";
    if (!v.meta.note.empty()) std::cout << "    note: " << v.meta.note << "\n";
    if (const auto r = rollouts.find(v.revision); r != rollouts.end())
      std::cout << "    rollout: " << rollout_line(r->second) << "\n";
    std::string changes = control::describe_changes(v.changes);
    if (changes.empty()) changes = v.parent.empty() ? "(first version)" : "(no file changed)";
    std::size_t start = 0;
    while (start <= changes.size()) {
      const auto end = changes.find('\n', start);
      std::cout << "    " << changes.substr(start, end - start) << "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
}

}  // namespace

void add_control_history_commands(CLI::App& control, int& exit_code) {
  auto* history = control.add_subcommand("history", "List every policy version the control plane published");
  auto state_dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  history->add_option("--state-dir", *state_dir, "The control plane's state directory (holds history.db)")->required();
  history->add_flag("--json", *as_json, "Print the versions as a JSON array, newest first");
  history->callback([=, &exit_code] {
    std::string error;
    auto store = open_history(*state_dir, error);
    const auto versions = store ? store->list(error) : std::nullopt;
    auto log = versions ? control::rollout::RolloutLog::open(
                              (std::filesystem::path(*state_dir) / "history.db").string(), true, error)
                        : nullptr;
    const auto rollouts = log ? log->all(error) : std::nullopt;
    if (!versions || !rollouts) {
      std::cerr << "tollway control history: " << error << "\n";
      exit_code = 1;
      return;
    }
    if (*as_json) {
      std::string out = "[";
      for (const auto& v : *versions) {
        const auto r = rollouts->find(v.revision);
        out += (out.size() > 1 ? "," : "") +
               control::version_json(v, r == rollouts->end() ? "" : control::rollout::history_json(r->second));
      }
      std::cout << out << "]\n";
    } else {
      print_table(*versions, *rollouts);
    }
    exit_code = 0;
  });

  auto* diff = control.add_subcommand("diff", "Show what changed in the policy files between two versions");
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto diff_state_dir = std::make_shared<std::string>();
  diff->add_option("v1", *from, "The older version (revision, counter, or 6+ hex digits of a hash)")->required();
  diff->add_option("v2", *to, "The newer version")->required();
  diff->add_option("--state-dir", *diff_state_dir, "The control plane's state directory (holds history.db)")
      ->required();
  diff->callback([=, &exit_code] {
    exit_code = 1;
    std::string error;
    auto store = open_history(*diff_state_dir, error);
    const auto diff = store ? control::diff_versions(*store, *from, *to, error) : std::nullopt;
    if (!diff) {
      std::cerr << "tollway control diff: " << error << "\n";
      return;
    }
    for (const auto& file : diff->files) std::cout << file.diff;
    exit_code = 0;
  });
}

}  // namespace tollway::app
