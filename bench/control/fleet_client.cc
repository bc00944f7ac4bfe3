// The bench client of bench/control: N simulated proxies against a real `tollway control`, and N watchers on a
// real etcd, in one single-threaded Asio process (so that the client's own work per event stays far below the
// servers'; it reports its CPU time per round so that this can be checked).
// - Control plane: each simulated node holds one keep-alive connection on which it long-polls
//   GET /v1/snapshot?node=ID&have=VERSION with its bootstrap token and, on a new document, POSTs /v1/ack
//   {node, version, nonce} and polls again with the new version. A round rewrites the policy file (write + rename;
//   `upstream_total: Ns` → a new value, held by every node's document) and waits for every node to ACK; per node:
//   publish -> document received and publish -> ACK answered, where "publish" is both the rename (end to end) and the
//   control plane's own `policy published` log line (fan-out only).
// - etcd: N watchers, each its own connection streaming POST /v3/watch (the v3 JSON gateway) on one key; a round puts
//   the key and measures put sent -> each watcher's event (found by the put's base64 value in the stream).
// - Memory: VmRSS of the control plane with no poll and with N polls waiting (and etcd's with 0 and N watchers); CPU:
//   utime+stime of each server over each round (/proc/PID/stat).
// It never reports a round it did not see whole: a round ends only when every node (watcher) has reported, and any
// answer but 200/304 ends the run with an error.
// Usage: control_fleet_client --control HOST:PORT --nodes FILE ("ID TOKEN" per line) --policy-file FILE
//        --cp-log FILE --cp-pid PID --etcd HOST:PORT --etcd-pid PID [--reps 3] [--settle-ms 2000]  -> JSON on stdout
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

namespace {

// Set once a phase closes its own connections: the errors that follow are not failures.
bool control_stopped = false;
bool etcd_stopped = false;

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double process_cpu_ms(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 0; i <= 12 && fields >> f; ++i) {
    if (i == 11) utime = std::stod(f);
    if (i == 12) stime = std::stod(f);
  }
  return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

double self_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto ms = [](timeval t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += k[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = uint8_t(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

struct Summary {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const auto at = [&](double p) {
    const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.n = v.size();
  s.p50 = at(50);
  s.p99 = at(99);
  s.max = v.back();
  return s;
}
std::string json(const Summary& s) {
  char b[160];
  std::snprintf(b, sizeof b, "{\"n\": %zu, \"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f}", s.n, s.p50, s.p99, s.max);
  return b;
}
std::vector<double> minus(const std::vector<double>& v, double base) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) out.push_back(x - base);
  return out;
}

tcp::endpoint endpoint_of(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  return {asio::ip::make_address(host_port.substr(0, colon)), static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1)))};
}

struct Response {
  int status = 0;
  std::string body;
};

// One request on a keep-alive connection; the answer is read whole (Content-Length framing).
awaitable<Response> exchange(tcp::socket& socket, std::string& buffer, const std::string& request) {
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  const std::size_t head_end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::use_awaitable);
  Response r;
  r.status = std::stoi(buffer.substr(9, 3));
  std::size_t length = 0;
  std::string head = buffer.substr(0, head_end);
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  if (const auto p = head.find("\r\ncontent-length:"); p != std::string::npos) length = std::stoul(head.substr(p + 17));
  else throw std::runtime_error("an answer without Content-Length: " + head);
  if (buffer.size() < head_end + length)
    co_await asio::async_read(socket, asio::dynamic_buffer(buffer), asio::transfer_exactly(head_end + length - buffer.size()),
                              asio::use_awaitable);
  r.body = buffer.substr(head_end, length);
  buffer.erase(0, head_end + length);
  co_return r;
}

std::string member(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const auto p = body.find(key);
  if (p == std::string::npos) return {};
  const auto end = body.find('"', p + key.size());
  return body.substr(p + key.size(), end - p - key.size());
}

// A round: what each node (watcher) reported, and the waiter the last report wakes.
struct Round {
  std::vector<double> received, acked;
  std::size_t expected = 0;
  asio::steady_timer* waiter = nullptr;
  std::string etcd_value;  // etcd rounds: the put's value, base64
  void report_done(std::size_t count) {
    if (count == expected && waiter) waiter->cancel();
  }
};

struct Node {
  std::string id, token, version;
};

struct Options {
  std::string control, etcd, nodes_file, policy_file, cp_log;
  int cp_pid = 0, etcd_pid = 0, reps = 3, settle_ms = 2000;
};

awaitable<void> wait_for(Round& round, std::size_t have) {
  if (have == round.expected) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  round.waiter = &timer;
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  round.waiter = nullptr;
}

awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
}

// The `policy published` line the control plane logged after `offset`: its time (epoch ms) and revision.
std::pair<double, std::string> published_after(const std::string& log, std::uintmax_t offset) {
  std::ifstream in(log);
  in.seekg(static_cast<std::streamoff>(offset));
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"msg\":\"policy published\"") == std::string::npos) continue;
    const std::string ts = member(line, "ts");  // 2026-12-07T20:54:09.370Z
    std::tm tm{};
    if (!strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) break;
    const double ms = std::stod(ts.substr(ts.find('.') + 1, 3));
    return {static_cast<double>(timegm(&tm)) * 1000.0 + ms, member(line, "revision")};
  }
  throw std::runtime_error("no \"policy published\" line in " + log + " for this round");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

awaitable<std::string> control_plane(const Options& o, std::vector<Node>& nodes) {
  auto ex = co_await asio::this_coro::executor;
  const tcp::endpoint cp = endpoint_of(o.control);
  const long rss0 = rss_kb(o.cp_pid);
  Round initial;
  initial.expected = nodes.size();
  Round* round = &initial;
  std::vector<std::unique_ptr<tcp::socket>> sockets;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    sockets.push_back(std::make_unique<tcp::socket>(ex));
    co_await sockets.back()->async_connect(cp, asio::use_awaitable);
    sockets.back()->set_option(tcp::no_delay(true));
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    asio::co_spawn(ex, [&, i]() -> awaitable<void> {
      Node& n = nodes[i];
      tcp::socket& socket = *sockets[i];
      std::string buffer;
      const std::string auth = "Authorization: Bearer " + n.token + "\r\n";
      for (;;) {
        const std::string poll = "GET /v1/snapshot?node=" + n.id + "&have=" + n.version + " HTTP/1.1\r\nHost: cp\r\n" + auth + "\r\n";
        const Response r = co_await exchange(socket, buffer, poll);
        if (r.status == 304) continue;
        if (r.status != 200) throw std::runtime_error(n.id + ": snapshot " + std::to_string(r.status) + " " + r.body);
        Round& current = *round;
        current.received.push_back(now_ms());
        const std::string version = member(r.body, "version"), nonce = member(r.body, "nonce");
        if (version.empty() || nonce.empty()) throw std::runtime_error(n.id + ": no version or nonce: " + r.body.substr(0, 200));
        const std::string ack = "{\"node\":\"" + n.id + "\",\"version\":\"" + version + "\",\"nonce\":\"" + nonce + "\"}";
        const std::string ack_request = "POST /v1/ack HTTP/1.1\r\nHost: cp\r\n" + auth +
                                        "Content-Type: application/json\r\nContent-Length: " + std::to_string(ack.size()) +
                                        "\r\n\r\n" + ack;
        const Response a = co_await exchange(socket, buffer, ack_request);
        if (a.status != 200) throw std::runtime_error(n.id + ": ack " + std::to_string(a.status) + " " + a.body);
        current.acked.push_back(now_ms());
        n.version = version;
        current.report_done(current.acked.size());
      }
    }, [&](std::exception_ptr e) {
      if (!e || control_stopped) return;
      try { std::rethrow_exception(e); } catch (const std::exception& x) { std::cerr << "control: " << x.what() << "\n"; }
      std::exit(1);
    });
  }
  co_await wait_for(initial, initial.acked.size());
  std::cerr << "control: " << nodes.size() << " nodes synced\n";
  co_await sleep_ms(o.settle_ms);  // every node's next poll is waiting at the control plane
  const long rssN = rss_kb(o.cp_pid);
  const std::string original = read_file(o.policy_file);
  const auto at = original.find("upstream_total: ");
  if (at == std::string::npos) throw std::runtime_error(o.policy_file + " has no upstream_total: nothing to change");
  const auto value_end = original.find('\n', at);
  std::ostringstream rounds;
  for (int rep = 1; rep <= o.reps; ++rep) {
    Round r;
    r.expected = nodes.size();
    r.received.reserve(nodes.size());
    r.acked.reserve(nodes.size());
    const double cpu0 = process_cpu_ms(o.cp_pid), self0 = self_cpu_ms();
    const auto log_size = std::filesystem::file_size(o.cp_log);
    round = &r;
    // A value every node's document holds (a comment after the last key would belong to no key: no change).
    const std::string text = original.substr(0, at) + "upstream_total: " + std::to_string(10 + rep) + "s" + original.substr(value_end);
    { std::ofstream(o.policy_file + ".tmp", std::ios::binary | std::ios::trunc) << text; }
    const double written = now_ms();
    std::filesystem::rename(o.policy_file + ".tmp", o.policy_file);
    co_await wait_for(r, r.acked.size());
    const double end = now_ms();
    const double cpu1 = process_cpu_ms(o.cp_pid), self1 = self_cpu_ms();
    const auto [published, revision] = published_after(o.cp_log, log_size);
    char b[512];
    std::snprintf(b, sizeof b,
                  "%s\n  {\"rep\": %d, \"revision\": \"%s\", \"detect_ms\": %.3f, \"last_ack_from_write_ms\": %.3f, "
                  "\"wall_ms\": %.3f, \"cp_cpu_ms\": %.1f, \"client_cpu_ms\": %.3f,",
                  rep == 1 ? "" : ",", rep, revision.c_str(), published - written,
                  *std::max_element(r.acked.begin(), r.acked.end()) - written, end - written, cpu1 - cpu0, self1 - self0);
    rounds << b << "\n   \"received_from_publish\": " << json(summarize(minus(r.received, published)))
           << ",\n   \"acked_from_publish\": " << json(summarize(minus(r.acked, published)))
           << ",\n   \"acked_from_write\": " << json(summarize(minus(r.acked, written))) << "}";
    std::cerr << "control round " << rep << ": done\n";
    round = &initial;  // nothing more is expected
    initial.expected = 0;
    co_await sleep_ms(o.settle_ms);
  }
  { std::ofstream(o.policy_file + ".tmp", std::ios::binary | std::ios::trunc) << original; }
  std::filesystem::rename(o.policy_file + ".tmp", o.policy_file);
  control_stopped = true;
  for (auto& s : sockets) s->close();
  std::ostringstream out;
  out << "{\"nodes\": " << nodes.size() << ", \"rss0_kb\": " << rss0 << ", \"rssN_kb\": " << rssN
      << ", \"failures\": 0, \"rounds\": [" << rounds.str() << "]}";
  co_return out.str();
}

awaitable<std::string> etcd(const Options& o, std::size_t count) {
  auto ex = co_await asio::this_coro::executor;
  const tcp::endpoint server = endpoint_of(o.etcd);
  const std::string key = base64("/bench/control/key");
  const auto put = [&](const std::string& value) -> awaitable<void> {
    tcp::socket socket(ex);
    co_await socket.async_connect(server, asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    std::string buffer;
    const std::string body = "{\"key\":\"" + key + "\",\"value\":\"" + base64(value) + "\"}";
    const std::string request = "POST /v3/kv/put HTTP/1.1\r\nHost: etcd\r\nContent-Type: application/json\r\n"
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    const Response r = co_await exchange(socket, buffer, request);
    if (r.status != 200) throw std::runtime_error("etcd put: " + std::to_string(r.status) + " " + r.body);
  };
  co_await put("initial");
  const long rss0 = rss_kb(o.etcd_pid);
  Round created;
  created.expected = count;
  std::size_t created_count = 0;
  Round* round = nullptr;
  std::size_t notified = 0;
  std::vector<std::unique_ptr<tcp::socket>> sockets;
  for (std::size_t i = 0; i < count; ++i) {
    sockets.push_back(std::make_unique<tcp::socket>(ex));
    co_await sockets.back()->async_connect(server, asio::use_awaitable);
    sockets.back()->set_option(tcp::no_delay(true));
  }
  const std::string watch = "{\"create_request\":{\"key\":\"" + key + "\"}}";
  for (std::size_t i = 0; i < count; ++i) {
    asio::co_spawn(ex, [&, i]() -> awaitable<void> {
      tcp::socket& socket = *sockets[i];
      const std::string request = "POST /v3/watch HTTP/1.1\r\nHost: etcd\r\nContent-Type: application/json\r\n"
                                  "Content-Length: " + std::to_string(watch.size()) + "\r\n\r\n" + watch;
      co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
      // The stream's bytes (chunked JSON messages): a watcher looks for `"created":true` once, then for each round's
      // value (base64, so never cut by the chunk framing of one message), and keeps only a tail it has not matched.
      std::string seen;
      bool is_created = false;
      char data[4096];
      for (;;) {
        const std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
        const double t = now_ms();
        seen.append(data, n);
        if (!is_created && seen.find("\"created\":true") != std::string::npos) {
          is_created = true;
          created.report_done(++created_count);
        }
        if (round != nullptr && seen.find(round->etcd_value) != std::string::npos) {
          round->received.push_back(t);
          seen.clear();
          round->report_done(++notified);
        } else if (seen.size() > 512) {
          seen.erase(0, seen.size() - 256);
        }
      }
    }, [&](std::exception_ptr e) {
      if (!e || etcd_stopped) return;
      try { std::rethrow_exception(e); } catch (const std::exception& x) { std::cerr << "etcd: " << x.what() << "\n"; }
      std::exit(1);
    });
  }
  co_await wait_for(created, created_count);
  std::cerr << "etcd: " << count << " watchers created\n";
  co_await sleep_ms(o.settle_ms);
  const long rssN = rss_kb(o.etcd_pid);
  std::ostringstream rounds;
  for (int rep = 1; rep <= o.reps; ++rep) {
    Round r;
    r.expected = count;
    r.received.reserve(count);
    const std::string value = "round-" + std::to_string(rep) + "-" + std::to_string(static_cast<long long>(now_ms()));
    r.etcd_value = "\"value\":\"" + base64(value) + "\"";
    notified = 0;
    const double cpu0 = process_cpu_ms(o.etcd_pid), self0 = self_cpu_ms();
    round = &r;
    const double sent = now_ms();
    co_await put(value);
    const double put_done = now_ms();
    co_await wait_for(r, notified);
    const double end = now_ms();
    round = nullptr;
    char b[512];
    std::snprintf(b, sizeof b,
                  "%s\n  {\"rep\": %d, \"put_ms\": %.3f, \"wall_ms\": %.3f, \"etcd_cpu_ms\": %.1f, \"client_cpu_ms\": %.3f,",
                  rep == 1 ? "" : ",", rep, put_done - sent, end - sent, process_cpu_ms(o.etcd_pid) - cpu0, self_cpu_ms() - self0);
    rounds << b << "\n   \"notified_from_put\": " << json(summarize(minus(r.received, sent))) << "}";
    std::cerr << "etcd round " << rep << ": done\n";
    co_await sleep_ms(o.settle_ms);
  }
  etcd_stopped = true;
  for (auto& s : sockets) s->close();
  std::ostringstream out;
  out << "{\"watchers\": " << count << ", \"rss0_kb\": " << rss0 << ", \"rssN_kb\": " << rssN << ", \"rounds\": ["
      << rounds.str() << "]}";
  co_return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  const auto need = [&](const std::string& k) {
    if (!args.count(k)) {
      std::cerr << "control_fleet_client: " << k << " is required (see the header of bench/control/fleet_client.cc)\n";
      std::exit(2);
    }
    return args[k];
  };
  o.control = need("--control");
  o.etcd = need("--etcd");
  o.nodes_file = need("--nodes");
  o.policy_file = need("--policy-file");
  o.cp_log = need("--cp-log");
  o.cp_pid = std::stoi(need("--cp-pid"));
  o.etcd_pid = std::stoi(need("--etcd-pid"));
  if (args.count("--reps")) o.reps = std::stoi(args["--reps"]);
  if (args.count("--settle-ms")) o.settle_ms = std::stoi(args["--settle-ms"]);
  std::vector<Node> nodes;
  std::ifstream in(o.nodes_file);
  for (Node n; in >> n.id >> n.token;) nodes.push_back(n);
  if (nodes.empty()) {
    std::cerr << "control_fleet_client: no nodes in " << o.nodes_file << "\n";
    return 2;
  }
  asio::io_context io(1);
  std::string control_json, etcd_json;
  asio::co_spawn(io, [&]() -> awaitable<void> {
    control_json = co_await control_plane(o, nodes);
    etcd_json = co_await etcd(o, nodes.size());
    io.stop();
  }, [](std::exception_ptr e) {
    if (!e) return;
    try { std::rethrow_exception(e); } catch (const std::exception& x) { std::cerr << "control_fleet_client: " << x.what() << "\n"; }
    std::exit(1);
  });
  io.run();
  std::cout << "{\"client\": \"bench/control/fleet_client.cc\", \"control\": " << control_json << ",\n \"etcd\": " << etcd_json << "}\n";
  return 0;
}
