// `tollway control history [--json]` and `tollway control diff V1 V2`: read the versions the control plane
// published from STATE_DIR/history.db (its --state-dir) and print them, or the unified diff of two versions'
// policy files. Read only.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>

#include "app/control_subcommands.h"
#include "control/policy_history.h"
#include "control/unified_diff.h"
#include "core/json.h"

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

std::string version_json(const control::VersionRecord& v) {
  std::string changes = "[";
  for (const auto& c : v.changes) {
    std::string keys = "[";
    for (const auto& k : c.keys) keys += (keys.size() > 1 ? "," : "") + json::quoted(k);
    json::ObjectWriter w;
    w.field("file", c.path).field("change", c.change).raw_field("keys", keys + "]");
    changes += (changes.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter w;
  w.field("revision", v.revision)
      .field("counter", v.counter)
      .field("content_hash", v.content_hash)
      .field("parent", v.parent)
      .field("published_at", v.published_at)
      .field("store", v.store)
      .field("author", v.meta.author)
      .field("commit", v.meta.commit)
      .field("commit_author", v.meta.commit_author)
      .field("note", v.meta.note)
      .raw_field("changes", changes + "]");
  return std::move(w).finish();
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
      for (const auto& v : *versions) out += (out.size() > 1 ? "," : "") + version_json(v);
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
    const auto a = store ? store->find(*from, error) : std::nullopt;
    const auto b = a ? store->find(*to, error) : std::nullopt;
    const auto a_files = b ? store->files_of(a->counter, error) : std::nullopt;
    const auto b_files = a_files ? store->files_of(b->counter, error) : std::nullopt;
    if (!b_files) {
      std::cerr << "tollway control diff: " << error << "\n";
      return;
    }
    std::set<std::string> paths;
    for (const auto& [path, bytes] : *a_files) paths.insert(path);
    for (const auto& [path, bytes] : *b_files) paths.insert(path);
    for (const auto& path : paths) {
      const auto old_file = a_files->find(path);
      const auto new_file = b_files->find(path);
      const bool had = old_file != a_files->end(), has = new_file != b_files->end();
      std::cout << control::unified_diff(had ? a->revision + "/" + path : "/dev/null",
                                         had ? std::string_view(old_file->second) : std::string_view(),
                                         has ? b->revision + "/" + path : "/dev/null",
                                         has ? std::string_view(new_file->second) : std::string_view());
    }
    exit_code = 0;
  });
}

}  // namespace tollway::app
