// Spend queries: what the spend log says was spent, grouped by any of tenant, agent group, agent, key, model,
// provider and session, per hour / day / month over a time range — for GET /admin/spend, GET /admin/keys/{id},
// key budgets restored at start and `tollway spend`. Parameters are parsed strictly (an error names the
// parameter); the query runs on its own read-only SQLite connection, so it never blocks the spend log's writer
// and never writes to the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::limits {

enum class SpendDimension { Tenant, AgentGroup, Agent, Key, Model, Provider, Session };
enum class SpendBucket { None, Hour, Day, Month };

struct SpendQuery {
  std::vector<SpendDimension> group_by;  // in the order given; empty = one group
  SpendBucket bucket = SpendBucket::None;
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive
};

// Why a query string was refused: the parameter at fault and a sentence for the caller.
struct SpendQueryError {
  std::string parameter;
  std::string message;
};

// Parses `group_by=tenant,model&bucket=day&from=…&to=…` (percent-encoding decoded). from/to: RFC 3339
// (`2026-12-04T10:00:00Z`, offsets and fractions allowed) or unix seconds; defaults: to = now, from = to - 30
// days. Unknown, repeated or empty parameters are refused.
std::optional<SpendQuery> parse_spend_query(std::string_view query_string, int64_t now_ms, SpendQueryError& error);

// Sums of one group (and bucket).
struct SpendTotals {
  int64_t requests = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t cost_micro_usd = 0;
  int64_t estimated_requests = 0;  // charged from an estimate: the provider reported no usage
};

struct SpendRow {
  std::vector<std::string> group;  // one value per SpendQuery::group_by entry
  std::string bucket;              // RFC 3339 start of the bucket; "" with SpendBucket::None
  SpendTotals totals;
};

// Runs the query on the spend log file, read-only. Rows are ordered by bucket, then group values.
// Throws std::runtime_error naming the file when it cannot be opened or read.
std::vector<SpendRow> query_spend_file(const std::string& path, const SpendQuery& query);

// What one key spent at or after since_ms (uses the (key_id, at_ms) index).
SpendTotals key_spend_since(const std::string& path, std::string_view key_id, int64_t since_ms);

// The JSON answer of GET /admin/spend (and `tollway spend --json`).
std::string spend_report_json(const SpendQuery& query, const std::vector<SpendRow>& rows);
// The fields of one SpendTotals as a JSON object (cost both exact in micro-USD and as a USD decimal string).
std::string spend_totals_json(const SpendTotals& totals);

std::string_view spend_dimension_name(SpendDimension d);
std::string_view spend_bucket_name(SpendBucket b);
// "2026-12-04T10:00:00Z" (".123" milliseconds when not whole seconds).
std::string rfc3339_ms(int64_t ms);
// "12.345678" from micro-USD.
std::string usd_decimal(int64_t micro_usd);

}  // namespace tollway::limits
