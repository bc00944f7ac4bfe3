// PublishMeta: who published a policy version and from what — the author, the Git commit and its author when
// the policy came from a Git work tree, when, the content hash it describes, a note (a rollback names the
// version it restores) and the canary `publish --canary` asked for (it overrides rollout.yaml's). `tollway control publish` writes it to etcd beside the policy (P/.publish), the control
// plane records it in the history. Pure data and its JSON; it never runs git (git_commit does).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::control {

struct PublishMeta {
  std::string author;         // "" = unknown
  std::string commit;         // "" = not from a Git work tree
  std::string commit_author;  // "NAME <EMAIL>"
  std::string published_at;   // RFC 3339, UTC
  std::string content_hash;   // PolicyFiles::content_hash() of what was published
  std::string note;
  std::string canary;  // "zone=a" or "10%" (--canary); "" = as rollout.yaml says, or no canary

  std::string to_json() const;
  // Unknown fields are refused; nullopt with `error`.
  static std::optional<PublishMeta> from_json(std::string_view text, std::string& error);
};

// Now as RFC 3339 UTC with seconds ("2026-12-05T13:02:01Z").
std::string utc_now_text();

}  // namespace tollway::control
