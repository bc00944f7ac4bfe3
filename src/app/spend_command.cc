// `tollway spend`: what was spent, grouped and bucketed like GET /admin/spend — asked of a running gateway
// (--admin URL, admin token) or read straight from a spend log file (--spend-log, opened read-only, never
// written). Prints a table (default), the API's JSON (--json, byte for byte what the API answers) or CSV.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/strict_json.h"
#include "http/client.h"
#include "limits/spend_query.h"

namespace tollway::app {
namespace {

struct SpendOptions {
  std::string admin_url, token, spend_log;
  std::string group_by, bucket, from, to;
  bool json = false, csv = false;
};

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string query_string(const SpendOptions& o) {
  std::string q;
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    q += (q.empty() ? "" : "&") + std::string(name) + "=" + percent_encode(value);
  };
  add("group_by", o.group_by);
  add("bucket", o.bucket);
  add("from", o.from);
  add("to", o.to);
  return q;
}

// GET <admin>/admin/spend?<query> over plain HTTP/1.1; the body of a 200, else an error sentence.
bool fetch_report(const SpendOptions& o, std::string& body, std::string& error) {
  std::string_view url = o.admin_url;
  if (url.substr(0, 7) != "http://") {
    error = "--admin must be an http:// URL such as http://127.0.0.1:9901";
    return false;
  }
  url.remove_prefix(7);
  url = url.substr(0, url.find('/'));
  const auto colon = url.rfind(':');
  http::UpstreamEndpoint endpoint;
  endpoint.host = std::string(url.substr(0, colon));
  endpoint.port = 80;
  if (colon != std::string_view::npos) {
    const std::string_view port = url.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "--admin has no valid port: " + o.admin_url;
      return false;
    }
    endpoint.port = static_cast<uint16_t>(value);
  }
  boost::asio::io_context io;
  http::Client client(io.get_executor(), std::move(endpoint),
                      http::ClientOptions{std::chrono::seconds(30), 64 << 20, /*keep_alive=*/false});
  const std::string target = "/admin/spend?" + query_string(o);
  const http::HeaderPairs headers{{"Authorization", "Bearer " + o.token}};
  http::ClientResponse response;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { response = co_await client.request("GET", target, headers); },
      boost::asio::detached);
  io.run();
  if (!response.complete) {
    error = "cannot reach the gateway at " + o.admin_url + ": " + response.error;
    return false;
  }
  body = std::move(response.body);
  if (response.status != 200) {
    error = "the gateway answered " + std::to_string(response.status) + ": " + body;
    return false;
  }
  return true;
}

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\n\r") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string cell_text(const core::strict_json::Value* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return v->as_string();
  if (v->is_integer()) return std::to_string(v->as_int());
  return "";
}

// Prints the report's groups as CSV or as an aligned table (with a total line).
bool print_rows(const std::string& report, bool csv, std::string& error) {
  // The report is this program's own JSON or the gateway's: as many groups as it has (no 64 KiB cap as for tokens).
  core::strict_json::ParseLimits whole_report;
  whole_report.max_bytes = report.size();
  auto doc = core::strict_json::parse(report, error, whole_report);
  if (!doc || !doc->is_object() || !doc->find("groups") || !doc->find("group_by")) {
    if (error.empty()) error = "the report is not the expected JSON object";
    return false;
  }
  std::vector<std::string> columns;
  for (const auto& d : doc->find("group_by")->items()) columns.push_back(d.as_string());
  const bool bucketed = cell_text(doc->find("bucket")) != "none";
  if (bucketed) columns.push_back("bucket");
  for (const char* c : {"requests", "input_tokens", "output_tokens", "cached_input_tokens", "cost_usd"})
    columns.push_back(c);
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : doc->find("groups")->items()) {
    auto& row = rows.emplace_back();
    for (const auto& c : columns) row.push_back(cell_text(g.find(c)));
  }
  if (csv) {
    for (std::size_t i = 0; i < columns.size(); ++i) std::cout << (i ? "," : "") << columns[i];
    std::cout << "\n";
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) std::cout << (i ? "," : "") << csv_field(row[i]);
      std::cout << "\n";
    }
    return true;
  }
  const core::strict_json::Value* total = doc->find("total");
  auto& total_row = rows.emplace_back(columns.size());
  total_row[0] = "TOTAL";
  for (std::size_t i = columns.size() - 5; i < columns.size(); ++i) total_row[i] = cell_text(total->find(columns[i]));
  std::vector<std::size_t> width(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    width[i] = columns[i].size();
    for (const auto& row : rows) width[i] = std::max(width[i], row[i].size());
  }
  const std::size_t numbers_from = columns.size() - 5;
  auto print = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::cout << (i ? "  " : "") << (i >= numbers_from ? std::right : std::left) << std::setw(static_cast<int>(width[i]))
                << row[i];
    }
    std::cout << "\n";
  };
  std::cout << "spend from " << cell_text(doc->find("from")) << " to " << cell_text(doc->find("to")) << "\n";
  print(columns);
  for (const auto& row : rows) print(row);
  return true;
}

int run_spend(const SpendOptions& o) {
  std::string report, error;
  if (!o.spend_log.empty()) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    limits::SpendQueryError why;
    const auto query = limits::parse_spend_query(query_string(o), now_ms, why);
    if (!query) {
      std::cerr << "tollway spend: --" << (why.parameter == "group_by" ? "group-by" : why.parameter) << ": "
                << why.message << "\n";
      return 2;
    }
    try {
      report = limits::spend_report_json(*query, limits::query_spend_file(o.spend_log, *query));
    } catch (const std::exception& e) {
      std::cerr << "tollway spend: " << e.what() << "\n";
      return 1;
    }
  } else if (!fetch_report(o, report, error)) {
    std::cerr << "tollway spend: " << error << "\n";
    return 1;
  }
  if (o.json) {
    std::cout << report;
    return 0;
  }
  if (!print_rows(report, o.csv, error)) {
    std::cerr << "tollway spend: " << error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_spend_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand(
      "spend", "Show spend (tokens, cost, requests) grouped by tenant/agent/key/model/..., from a running gateway's "
               "admin API or a spend log file");
  auto o = std::make_shared<SpendOptions>();
  auto* admin = cmd->add_option("--admin", o->admin_url, "Admin URL of a running gateway, e.g. http://127.0.0.1:9901");
  cmd->add_option("--token", o->token, "The gateway's auth.admin_token (with --admin)")
      ->envname("TOLLWAY_ADMIN_TOKEN")
      ->needs(admin);
  auto* file = cmd->add_option("--spend-log", o->spend_log, "Read this spend log file (SQLite) directly, read-only")
                   ->check(CLI::ExistingFile);
  admin->excludes(file);
  cmd->add_option("--group-by", o->group_by,
                  "Comma-separated: tenant, agent_group, agent, key, model, provider, session (default: one total)");
  cmd->add_option("--bucket", o->bucket, "hour, day or month (default: the whole range)");
  cmd->add_option("--from", o->from, "Start, RFC 3339 or unix seconds (default: 30 days before --to)");
  cmd->add_option("--to", o->to, "End (exclusive), RFC 3339 or unix seconds (default: now)");
  auto* json = cmd->add_flag("--json", o->json, "Print the JSON report (the same as GET /admin/spend)");
  cmd->add_flag("--csv", o->csv, "Print CSV")->excludes(json);
  cmd->callback([o, admin, file, &exit_code] {
    if (admin->count() == 0 && file->count() == 0) {
      std::cerr << "tollway spend: give --admin URL (with --token) or --spend-log FILE\n";
      exit_code = 2;
      return;
    }
    exit_code = run_spend(*o);
  });
}

}  // namespace tollway::app
