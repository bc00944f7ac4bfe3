// bench/spend: the spend log's two costs, measured through the gateway's own SpendLog (src/limits/spend_log.h),
// so every file and every append is exactly what the gateway writes.
//   spend_bench generate FILE RECORDS END_UNIX_S   writes RECORDS realistic records (50 tenants, 500 keys, 10
//       models, 30 days ending at END_UNIX_S with a daily and weekly rhythm) into a new spend log FILE; the
//       query side of the benchmark (bench/spend/run.sh) times `tollway spend` against sqlite3 on it.
//   spend_bench append APPENDS                     the request path's part of the write: building the SpendRecord
//       from the request's strings (as the limits filter's settle does) and SpendLog::append, with the gateway's
//       default options (flush every 100 ms or 512 records, fsync per batch). Prints one JSON line: the appending
//       thread's CPU ns per record (median of rounds) and, separately, the writer thread's CPU ns per record
//       (off the request path: SQLite inserts and commits).
// Never used by the gateway or the tests; the data is generated from a fixed seed.
#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "limits/spend_log.h"

namespace tollway::limits {
namespace {

constexpr int kTenants = 50;
constexpr int kKeys = 500;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int kDays = 30;

struct Model {
  const char* name;
  const char* provider;
  double weight;              // share of traffic
  int64_t input_micro_per_m;  // micro-USD per million input tokens
  int64_t output_micro_per_m;
};

constexpr std::array<Model, 10> kModels = {{
    {"gpt-4o-mini", "openai", 30, 150'000, 600'000},
    {"gpt-4o", "openai", 12, 2'500'000, 10'000'000},
    {"gpt-4.1", "openai", 6, 2'000'000, 8'000'000},
    {"o3-mini", "openai", 4, 1'100'000, 4'400'000},
    {"claude-3-5-haiku", "anthropic", 14, 800'000, 4'000'000},
    {"claude-sonnet-4", "anthropic", 10, 3'000'000, 15'000'000},
    {"claude-opus-4", "anthropic", 2, 15'000'000, 75'000'000},
    {"gemini-2.0-flash", "gemini", 12, 100'000, 400'000},
    {"gemini-2.5-pro", "gemini", 5, 1'250'000, 10'000'000},
    {"llama-3.1-70b", "vllm", 5, 0, 0},
}};

double cpu_seconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string hex_id(std::mt19937_64& rng, int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(static_cast<std::size_t>(length), '0');
  uint64_t bits = rng();
  for (int i = 0; i < length; ++i) {
    if (i % 16 == 0 && i) bits = rng();
    id[static_cast<std::size_t>(i)] = kHex[(bits >> ((i % 16) * 4)) & 0xF];
  }
  return id;
}

// Zipf-like weights 1/(rank+1)^s: a few big tenants and keys, a long tail.
std::discrete_distribution<int> zipf(int n, double s) {
  std::vector<double> w(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] = 1.0 / std::pow(i + 1, s);
  return {w.begin(), w.end()};
}

// The identity behind one virtual key: its tenant, agent group and agent never change.
struct KeyOwner {
  std::string key_id, tenant, agent_group, agent;
};

std::vector<KeyOwner> make_keys(std::mt19937_64& rng) {
  static constexpr const char* kGroups[] = {"support", "search", "batch", "coding", "research"};
  auto tenant_of_key = zipf(kTenants, 0.9);
  std::vector<KeyOwner> keys;
  for (int k = 0; k < kKeys; ++k) {
    // Every tenant owns at least one key; the rest go to tenants by size.
    const int tenant = k < kTenants ? k : tenant_of_key(rng);
    const int group = static_cast<int>(rng() % 5);
    keys.push_back({"key-" + hex_id(rng, 12), "tenant-" + std::to_string(tenant), kGroups[group],
                    std::string(kGroups[group]) + "-agent-" + std::to_string(k % 7)});
  }
  return keys;
}

// Cumulative request rate per minute over the 30 days: busy working hours (UTC), quieter weekends.
std::vector<double> cumulative_rate(int64_t start_ms) {
  std::vector<double> cumulative;
  double sum = 0;
  for (int minute = 0; minute < kDays * 24 * 60; ++minute) {
    const int64_t t = start_ms / 1000 + minute * 60;
    const double hour = static_cast<double>((t / 60) % (24 * 60)) / 60.0;
    const int weekday = static_cast<int>((t / 86400 + 4) % 7);  // 0 = Sunday (1970-01-01 was a Thursday)
    double rate = 1.0 + 0.8 * std::sin((hour - 8.0) / 24.0 * 2 * M_PI);
    if (weekday == 0 || weekday == 6) rate *= 0.5;
    sum += rate;
    cumulative.push_back(sum);
  }
  for (double& c : cumulative) c /= sum;
  return cumulative;
}

int generate(const std::string& path, int64_t records, int64_t end_s) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  SpendLogOptions options;
  options.path = path;
  options.flush_interval_ms = 1000;
  options.max_batch = 20'000;
  options.fsync_each_batch = false;
  options.max_queue = 200'000;
  auto log = SpendLog::open(options);

  std::mt19937_64 rng(14);
  const auto keys = make_keys(rng);
  auto pick_key = zipf(kKeys, 1.0);
  std::vector<double> model_weights;
  for (const auto& m : kModels) model_weights.push_back(m.weight);
  std::discrete_distribution<int> pick_model(model_weights.begin(), model_weights.end());
  std::lognormal_distribution<double> input_tokens(std::log(900.0), 1.1), output_tokens(std::log(250.0), 0.9);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::string> sessions;
  for (int i = 0; i < 20'000; ++i) sessions.push_back("sess-" + hex_id(rng, 16));

  const int64_t start_ms = end_s * 1000 - kDays * kDayMs;
  const auto cumulative = cumulative_rate(start_ms);
  const double started = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  for (int64_t i = 0; i < records; ++i) {
    // Strictly increasing times: the (i + jitter)/records quantile of the daily rhythm.
    const double u = (static_cast<double>(i) + unit(rng)) / static_cast<double>(records);
    const auto at = std::lower_bound(cumulative.begin(), cumulative.end(), u);
    const auto minute = std::min<std::ptrdiff_t>(at - cumulative.begin(), static_cast<std::ptrdiff_t>(cumulative.size()) - 1);
    const double below = minute ? cumulative[static_cast<std::size_t>(minute - 1)] : 0.0;
    const double within = (u - below) / (cumulative[static_cast<std::size_t>(minute)] - below);

    const KeyOwner& owner = keys[static_cast<std::size_t>(pick_key(rng))];
    const Model& model = kModels[static_cast<std::size_t>(pick_model(rng))];
    SpendRecord r;
    r.at_ms = start_ms + minute * 60'000 + static_cast<int64_t>(std::clamp(within, 0.0, 0.999) * 60'000);
    r.request_id = hex_id(rng, 32);
    r.tenant = owner.tenant;
    r.agent_group = owner.agent_group;
    r.agent = owner.agent;
    r.key_id = owner.key_id;
    r.model = model.name;
    r.provider = model.provider;
    if (unit(rng) < 0.02) {  // a fallback answered with another model
      const Model& other = kModels[static_cast<std::size_t>(pick_model(rng))];
      r.served_model = other.name;
      r.provider = other.provider;
    }
    if (unit(rng) < 0.3) r.session = sessions[rng() % sessions.size()];
    if (unit(rng) < 0.01) r.fanout_root = hex_id(rng, 32);
    r.input_tokens = std::min<int64_t>(200'000, 1 + static_cast<int64_t>(input_tokens(rng)));
    r.output_tokens = std::min<int64_t>(16'000, 1 + static_cast<int64_t>(output_tokens(rng)));
    if (unit(rng) < 0.3) r.cached_input_tokens = static_cast<int64_t>(static_cast<double>(r.input_tokens) * unit(rng));
    r.cost_micro_usd = (r.input_tokens * model.input_micro_per_m + r.output_tokens * model.output_micro_per_m) /
                       1'000'000;
    r.estimated = unit(rng) < 0.005;
    log->append(std::move(r));
    if ((i + 1) % 100'000 == 0) log->flush();  // stay below max_queue: nothing may be dropped
  }
  log->flush();
  const uint64_t written = log->appended(), dropped = log->dropped();
  log.reset();
  std::printf("{\"records\":%llu,\"dropped\":%llu,\"from_s\":%lld,\"to_s\":%lld,\"cpu_s\":%.1f,\"bytes\":%llu}\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(dropped),
              static_cast<long long>(start_ms / 1000), static_cast<long long>(end_s),
              cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - started,
              static_cast<unsigned long long>(std::filesystem::file_size(path)));
  return dropped == 0 && static_cast<int64_t>(written) == records ? 0 : 1;
}

// The request path's share: what settle does with the request's strings, then append. Rounds of 50,000 (below the
// gateway's max_queue of 100,000, so nothing is dropped), each followed by an untimed flush.
int append_bench(int64_t appends) {
  const std::string path = (std::filesystem::temp_directory_path() / "tollway-spend-append-bench.sqlite").string();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  SpendLogOptions options;  // the gateway's defaults: 100 ms or 512 records per batch, fsync per batch
  options.path = path;
  auto log = SpendLog::open(options);

  std::mt19937_64 rng(14);
  const auto keys = make_keys(rng);
  std::vector<std::string> request_ids;
  for (int i = 0; i < 4096; ++i) request_ids.push_back(hex_id(rng, 32));
  const std::string session = "sess-" + hex_id(rng, 16), empty;

  constexpr int64_t kRound = 50'000;
  std::vector<double> ns_per_append;
  double appender_cpu = 0;
  const double process_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), thread_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  for (int64_t done = 0; done < appends; done += kRound) {
    const double round_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (int64_t i = 0; i < kRound; ++i) {
      const KeyOwner& owner = keys[static_cast<std::size_t>((done + i) % kKeys)];
      const Model& model = kModels[static_cast<std::size_t>((done + i) % kModels.size())];
      SpendRecord rec;
      rec.at_ms = 1'796'083'200'000 + done + i;
      rec.request_id = request_ids[static_cast<std::size_t>(i & 4095)];
      rec.tenant = owner.tenant;
      rec.agent_group = owner.agent_group;
      rec.agent = owner.agent;
      rec.key_id = owner.key_id;
      rec.model = model.name;
      rec.served_model = model.name;
      rec.session = (i & 3) == 0 ? session : empty;
      rec.provider = model.provider;
      rec.fanout_root = empty;
      rec.requests = 1;
      rec.input_tokens = 900 + (i & 255);
      rec.output_tokens = 250 + (i & 127);
      rec.cached_input_tokens = 0;
      rec.cost_micro_usd = 1234;
      rec.estimated = false;
      log->append(std::move(rec));
    }
    const double round_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - round_start;
    appender_cpu += round_cpu;
    ns_per_append.push_back(round_cpu * 1e9 / static_cast<double>(kRound));
    log->flush();
  }
  // The writer thread's CPU: the whole process minus this thread (waiting in flush is a sleep, not CPU).
  const double writer_cpu = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_start) -
                            (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread_start);
  const uint64_t written = log->appended(), dropped = log->dropped();
  log.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  std::sort(ns_per_append.begin(), ns_per_append.end());
  const double n = static_cast<double>(written);
  std::printf("{\"appends\":%llu,\"dropped\":%llu,\"rounds\":%zu,\"append_ns_median\":%.1f,\"append_ns_min\":%.1f,"
              "\"append_ns_max\":%.1f,\"append_ns_mean\":%.1f,\"writer_ns_per_record\":%.1f}\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(dropped), ns_per_append.size(),
              ns_per_append[ns_per_append.size() / 2], ns_per_append.front(), ns_per_append.back(),
              appender_cpu * 1e9 / n, writer_cpu * 1e9 / n);
  return dropped == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tollway::limits

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "generate" && argc == 5)
    return tollway::limits::generate(argv[2], std::atoll(argv[3]), std::atoll(argv[4]));
  if (mode == "append" && argc == 3) return tollway::limits::append_bench(std::atoll(argv[2]));
  std::fprintf(stderr, "usage: spend_bench generate FILE RECORDS END_UNIX_S | spend_bench append APPENDS\n");
  return 2;
}
