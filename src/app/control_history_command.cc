// `tollway control history [--json]` and `tollway control diff V1 V2`: read the versions the control plane
// published from STATE_DIR/history.db (its --state-dir) and print them, or the unified diff of two versions'
// policy files. Read only.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "app/control_subcommands.h"
#include "control/history_queries.h"

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

void print_table(const std::vector<control::VersionRecord>& versions) {
  std::cout << std::left << std::setw(18) << "REVISION" << std::setw(22) << "PUBLISHED" << std::setw(30) << "AUTHOR"
            << "COMMIT\n";
  for (const auto& v : versions) {
    std::cout << std::setw(18) << v.revision << std::setw(22) << v.published_at << std::setw(30)
              << (v.meta.author.empty() ? "unknown" : v.meta.author)
              << (v.meta.commit.empty() ? "-" : v.meta.commit.substr(0, 12)) << "\n";
    if (!v.meta.note.empty()) std::cout << "    note: " << v.meta.note << "\n";
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
    if (!versions) {
      std::cerr << "tollway control history: " << error << "\n";
      exit_code = 1;
      return;
    }
    if (*as_json) {
      std::string out = "[";
      for (const auto& v : *versions) out += (out.size() > 1 ? "," : "") + control::version_json(v);
      std::cout << out << "]\n";
    } else {
      print_table(*versions);
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
