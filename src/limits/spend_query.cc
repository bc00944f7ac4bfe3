#include "limits/spend_query.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "core/json.h"

namespace tollway::limits {
namespace {

constexpr int64_t kDefaultRangeMs = 30LL * 24 * 3600 * 1000;

constexpr SpendDimension kDimensions[] = {SpendDimension::Tenant, SpendDimension::AgentGroup,
                                          SpendDimension::Agent,  SpendDimension::Key,
                                          SpendDimension::Model,  SpendDimension::Provider,
                                          SpendDimension::Session};

const char* column_of(SpendDimension d) {
  switch (d) {
    case SpendDimension::Tenant: return "tenant";
    case SpendDimension::AgentGroup: return "agent_group";
    case SpendDimension::Agent: return "agent";
    case SpendDimension::Key: return "key_id";
    case SpendDimension::Model: return "model";
    case SpendDimension::Provider: return "provider";
    case SpendDimension::Session: return "session";
  }
  return "tenant";
}

// SQLite expression for the RFC 3339 start of the bucket a record falls in.
const char* bucket_expression(SpendBucket b) {
  switch (b) {
    case SpendBucket::Hour: return "strftime('%Y-%m-%dT%H:00:00Z', at_ms / 1000, 'unixepoch')";
    case SpendBucket::Day: return "strftime('%Y-%m-%dT00:00:00Z', at_ms / 1000, 'unixepoch')";
    case SpendBucket::Month: return "strftime('%Y-%m-01T00:00:00Z', at_ms / 1000, 'unixepoch')";
    case SpendBucket::None: return "''";
  }
  return "''";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool digits(std::string_view text, std::size_t at, std::size_t n, int& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// RFC 3339 date-time (section 5.6), or whole unix seconds.
std::optional<int64_t> parse_time_ms(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || p != text.data() + text.size() || seconds > 253402300799) return std::nullopt;
    return seconds * 1000;
  }
  int y, mo, d, h, mi, s;
  if (text.size() < 20 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, mo) || text[7] != '-' ||
      !digits(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') || !digits(text, 11, 2, h) ||
      text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s))
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t at = 19;
  int64_t fraction_ms = 0;
  if (at < text.size() && text[at] == '.') {
    const std::size_t start = ++at;
    int scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      fraction_ms += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh, om;
    if (!digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (text[at] == '+' ? 1 : -1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const int64_t day_s = duration_cast<seconds>(sys_days(ymd).time_since_epoch()).count();
  return (day_s + h * 3600 + mi * 60 + std::min(s, 59) - offset_s) * 1000 + fraction_ms;
}

struct Connection {
  sqlite3* db = nullptr;
  explicit Connection(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string message = "cannot open the spend log \"" + path + "\" read-only: " +
                                  (db ? sqlite3_errmsg(db) : "out of memory");
      sqlite3_close(db);
      throw std::runtime_error(message);
    }
    sqlite3_busy_timeout(db, 5000);
  }
  ~Connection() { sqlite3_close(db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(const Connection& c, const std::string& sql, const std::string& path) {
    if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot query the spend log \"" + path + "\": " + sqlite3_errmsg(c.db));
  }
  ~Statement() { sqlite3_finalize(stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

// A file written before schema version 1 has no cached_input_tokens column; it reads as 0 there.
std::string cached_column(const Connection& c, const std::string& path) {
  Statement q(c, "PRAGMA user_version", path);
  const bool has = sqlite3_step(q.stmt) == SQLITE_ROW && sqlite3_column_int64(q.stmt, 0) >= 1;
  return has ? "cached_input_tokens" : "0";
}

SpendTotals read_totals(sqlite3_stmt* s, int first) {
  SpendTotals t;
  t.requests = sqlite3_column_int64(s, first);
  t.input_tokens = sqlite3_column_int64(s, first + 1);
  t.output_tokens = sqlite3_column_int64(s, first + 2);
  t.cached_input_tokens = sqlite3_column_int64(s, first + 3);
  t.cost_micro_usd = sqlite3_column_int64(s, first + 4);
  t.estimated_requests = sqlite3_column_int64(s, first + 5);
  return t;
}

std::string sums(const std::string& cached) {
  return "TOTAL(requests), TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(" + cached +
         "), TOTAL(cost_micro_usd), TOTAL(estimated)";
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

void add(SpendTotals& into, const SpendTotals& t) {
  into.requests += t.requests;
  into.input_tokens += t.input_tokens;
  into.output_tokens += t.output_tokens;
  into.cached_input_tokens += t.cached_input_tokens;
  into.cost_micro_usd += t.cost_micro_usd;
  into.estimated_requests += t.estimated_requests;
}

}  // namespace

std::string_view spend_dimension_name(SpendDimension d) {
  switch (d) {
    case SpendDimension::Tenant: return "tenant";
    case SpendDimension::AgentGroup: return "agent_group";
    case SpendDimension::Agent: return "agent";
    case SpendDimension::Key: return "key";
    case SpendDimension::Model: return "model";
    case SpendDimension::Provider: return "provider";
    case SpendDimension::Session: return "session";
  }
  return "tenant";
}

std::string_view spend_bucket_name(SpendBucket b) {
  switch (b) {
    case SpendBucket::None: return "none";
    case SpendBucket::Hour: return "hour";
    case SpendBucket::Day: return "day";
    case SpendBucket::Month: return "month";
  }
  return "none";
}

std::optional<SpendQuery> parse_spend_query(std::string_view query_string, int64_t now_ms, SpendQueryError& error) {
  SpendQuery q;
  std::optional<int64_t> from, to;
  bool seen_group_by = false, seen_bucket = false;
  auto fail = [&](std::string parameter, std::string message) -> std::optional<SpendQuery> {
    error = {std::move(parameter), std::move(message)};
    return std::nullopt;
  };
  while (!query_string.empty()) {
    const auto amp = query_string.find('&');
    const std::string_view pair = query_string.substr(0, amp);
    query_string = amp == std::string_view::npos ? std::string_view() : query_string.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string name(pair.substr(0, eq));
    const auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value) return fail(name, "\"" + name + "\" is not valid percent-encoding");
    if (name == "group_by") {
      if (seen_group_by) return fail(name, "\"group_by\" is given more than once");
      seen_group_by = true;
      std::string_view rest = *value;
      while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const auto* known = std::find_if(std::begin(kDimensions), std::end(kDimensions),
                                         [&](SpendDimension d) { return spend_dimension_name(d) == item; });
        if (known == std::end(kDimensions))
          return fail(name, "\"group_by\" takes a comma-separated list of tenant, agent_group, agent, key, model, "
                            "provider, session; \"" + std::string(item) + "\" is none of them");
        if (std::find(q.group_by.begin(), q.group_by.end(), *known) != q.group_by.end())
          return fail(name, "\"group_by\" names \"" + std::string(item) + "\" twice");
        q.group_by.push_back(*known);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == "bucket") {
      if (seen_bucket) return fail(name, "\"bucket\" is given more than once");
      seen_bucket = true;
      if (*value == "hour") q.bucket = SpendBucket::Hour;
      else if (*value == "day") q.bucket = SpendBucket::Day;
      else if (*value == "month") q.bucket = SpendBucket::Month;
      else return fail(name, "\"bucket\" must be hour, day or month");
    } else if (name == "from" || name == "to") {
      std::optional<int64_t>& slot = name == "from" ? from : to;
      if (slot) return fail(name, "\"" + name + "\" is given more than once");
      slot = parse_time_ms(*value);
      if (!slot)
        return fail(name, "\"" + name + "\" must be an RFC 3339 time such as 2026-12-04T10:00:00Z or unix seconds");
    } else {
      return fail(name, "unknown parameter \"" + name + "\" (group_by, bucket, from, to)");
    }
  }
  q.to_ms = to.value_or(now_ms);
  q.from_ms = from.value_or(q.to_ms - kDefaultRangeMs);
  if (q.from_ms >= q.to_ms) return fail(from ? "from" : "to", "\"from\" must be earlier than \"to\"");
  return q;
}

std::vector<SpendRow> query_spend_file(const std::string& path, const SpendQuery& query) {
  const Connection c(path);
  std::string select = "SELECT ";
  std::string group = " GROUP BY ";
  std::string order = " ORDER BY bucket";
  for (SpendDimension d : query.group_by) {
    select += std::string(column_of(d)) + ", ";
    group += std::string(column_of(d)) + ", ";
    order += std::string(", ") + column_of(d);
  }
  select += std::string(bucket_expression(query.bucket)) + " AS bucket, " + sums(cached_column(c, path)) +
            " FROM spend WHERE at_ms >= ? AND at_ms < ?";
  Statement q(c, select + group + "bucket" + order, path);
  sqlite3_bind_int64(q.stmt, 1, query.from_ms);
  sqlite3_bind_int64(q.stmt, 2, query.to_ms);
  std::vector<SpendRow> rows;
  const int n = static_cast<int>(query.group_by.size());
  int rc;
  while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
    SpendRow row;
    for (int i = 0; i < n; ++i) row.group.push_back(column_text(q.stmt, i));
    row.bucket = column_text(q.stmt, n);
    row.totals = read_totals(q.stmt, n + 1);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) throw std::runtime_error("reading the spend log \"" + path + "\" failed: " + sqlite3_errmsg(c.db));
  return rows;
}

SpendTotals key_spend_since(const std::string& path, std::string_view key_id, int64_t since_ms) {
  const Connection c(path);
  Statement q(c, "SELECT " + sums(cached_column(c, path)) + " FROM spend WHERE key_id = ? AND at_ms >= ?", path);
  sqlite3_bind_text(q.stmt, 1, key_id.data(), static_cast<int>(key_id.size()), SQLITE_STATIC);
  sqlite3_bind_int64(q.stmt, 2, since_ms);
  if (sqlite3_step(q.stmt) != SQLITE_ROW)
    throw std::runtime_error("reading the spend log \"" + path + "\" failed: " + sqlite3_errmsg(c.db));
  return read_totals(q.stmt, 0);
}

std::string usd_decimal(int64_t micro_usd) {
  char buf[48];
  const char* sign = micro_usd < 0 ? "-" : "";
  const uint64_t magnitude = micro_usd < 0 ? 0 - static_cast<uint64_t>(micro_usd) : static_cast<uint64_t>(micro_usd);
  std::snprintf(buf, sizeof buf, "%s%llu.%06llu", sign, static_cast<unsigned long long>(magnitude / 1'000'000),
                static_cast<unsigned long long>(magnitude % 1'000'000));
  return buf;
}

std::string rfc3339_ms(int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> clock(t - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(clock.hours().count()), static_cast<long long>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()));
  std::string out = buf;
  if (clock.subseconds().count() != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(clock.subseconds().count()));
    out += buf;
  }
  return out + "Z";
}

std::string spend_totals_json(const SpendTotals& t) {
  json::ObjectWriter w;
  w.field("requests", t.requests)
      .field("input_tokens", t.input_tokens)
      .field("output_tokens", t.output_tokens)
      .field("total_tokens", t.input_tokens + t.output_tokens)
      .field("cached_input_tokens", t.cached_input_tokens)
      .field("cost_micro_usd", t.cost_micro_usd)
      .field("cost_usd", usd_decimal(t.cost_micro_usd))
      .field("estimated_requests", t.estimated_requests);
  return std::move(w).finish();
}

std::string spend_report_json(const SpendQuery& query, const std::vector<SpendRow>& rows) {
  std::string group_by = "[";
  for (std::size_t i = 0; i < query.group_by.size(); ++i) {
    if (i) group_by += ",";
    json::append_quoted(group_by, spend_dimension_name(query.group_by[i]));
  }
  group_by += "]";
  std::string groups = "[";
  SpendTotals total;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const SpendRow& row = rows[r];
    json::ObjectWriter w;
    for (std::size_t i = 0; i < query.group_by.size(); ++i) w.field(spend_dimension_name(query.group_by[i]), row.group[i]);
    if (query.bucket != SpendBucket::None) w.field("bucket", row.bucket);
    std::string fields(w.fields());
    const std::string totals = spend_totals_json(row.totals);
    if (r) groups += ",";
    groups += "{" + fields + (fields.empty() ? "" : ",") + totals.substr(1);
    add(total, row.totals);
  }
  groups += "]";
  json::ObjectWriter out;
  out.field("from", rfc3339_ms(query.from_ms))
      .field("to", rfc3339_ms(query.to_ms))
      .field("bucket", spend_bucket_name(query.bucket))
      .raw_field("group_by", group_by)
      .raw_field("groups", groups)
      .raw_field("total", spend_totals_json(total));
  return std::move(out).finish() + "\n";
}

}  // namespace tollway::limits
