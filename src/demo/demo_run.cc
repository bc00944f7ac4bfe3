#include "demo/demo_run.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "control/ca/identity_store.h"
#include "control/client/control_http.h"
#include "core/strict_json.h"
#include "demo/agents.h"
#include "demo/child_process.h"
#include "demo/demo_policy.h"
#include "demo/demo_summary.h"
#include "demo/mock_provider.h"
#include "demo/span_export.h"
#include "http/client.h"
#include "tls/client_context.h"
#include "tls/control_plane_id.h"
#include "tls/spiffe_id.h"

namespace tollway::demo {

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace sj = core::strict_json;
using Clock = std::chrono::steady_clock;
using namespace boost::asio::experimental::awaitable_operators;

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxAnswer = 8 << 20;
constexpr int kConcurrentTasks = 4;
// The control plane's lease lifetime (--lease-ttl) and learning period: one lifetime after its start, plus a margin.
constexpr const char* kLeaseTtl = "1s";
constexpr auto kLeaseLearning = std::chrono::milliseconds(1500);

std::string random_hex(std::size_t bytes) {
  std::random_device random;
  std::ostringstream out;
  for (std::size_t i = 0; i < bytes; ++i) out << std::hex << std::setw(2) << std::setfill('0') << (random() & 0xff);
  return out.str();
}

// A port the kernel had free a moment ago (bound on 127.0.0.1:0 and closed): for the addresses the policy must
// name before the process that listens there starts.
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

std::optional<std::string> find_program(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const fs::path candidate = fs::path(std::string(dirs.substr(0, colon))) / std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return std::nullopt;
}

// What the control plane's leased budgets in a GET /v1/fleet answer have spent, summed.
uint64_t leased_spent(std::string_view fleet_json) {
  std::string error;
  const auto fleet = sj::parse(fleet_json, error, sj::ParseLimits{kMaxAnswer, 32});
  const sj::Value* budgets = fleet ? fleet->find("budgets") : nullptr;
  uint64_t spent = 0;
  if (budgets != nullptr && budgets->is_array())
    for (const auto& b : budgets->items())
      if (const sj::Value* s = b.find("spent"); s != nullptr && s->is_integer() && s->as_int() > 0)
        spent += static_cast<uint64_t>(s->as_int());
  return spent;
}

template <typename T>
T on_io(asio::io_context& io, asio::awaitable<T> work) {
  return asio::co_spawn(io, std::move(work), asio::use_future).get();
}

std::string seconds_text(Clock::duration d) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << std::chrono::duration<double>(d).count() << " s";
  return out.str();
}

uint16_t port_of(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? 0 : static_cast<uint16_t>(std::atoi(std::string(address.substr(colon + 1)).c_str()));
}

// SIGINT or SIGTERM arrived (they are blocked in every thread of the demo and taken here).
bool take_stop_signal(std::chrono::milliseconds wait) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait);
  timespec timeout{static_cast<time_t>(seconds.count()), static_cast<long>((wait - seconds).count() * 1000000)};
  return ::sigtimedwait(&set, nullptr, &timeout) > 0;
}

// Everything the demo started, stopped in reverse order when it goes out of scope (every exit path).
class Processes {
 public:
  ~Processes() { stop_all(); }
  void stop_all() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) (*it)->stop();
    children_.clear();
  }
  ChildProcess* start(ChildSpec spec, std::string& error) {
    auto child = ChildProcess::start(spec, error);
    if (!child) return nullptr;
    children_.push_back(std::move(child));
    return children_.back().get();
  }

 private:
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

// The control plane's API as an operator's client reaches it: HTTPS verified against the demo CA, the control
// plane's SPIFFE ID, the admin token.
struct ControlAccess {
  std::string url;
  std::string admin_token;
  std::string trace_token;  // POST /v1/traces: the demo sends its agents' own spans
  std::shared_ptr<asio::ssl::context> tls;
};

control::ControlReply control_call(asio::io_context& io, const ControlAccess& access, std::string_view method,
                                   const std::string& path, std::string body = {}) {
  const std::string& token = path == "/v1/traces" && method == "POST" ? access.trace_token : access.admin_token;
  return on_io(io, control::control_request(method, access.url + path, token, body,
                                            std::chrono::seconds(10), kMaxAnswer, access.tls,
                                            tls::control_plane_id(kTrustDomain)));
}

// One worker of the workload: takes the next task number until `tasks` are taken and POSTs /task to the
// orchestrator; every eighth task asks the tools agent to call the orchestrator back (which policy forbids).
asio::awaitable<void> task_worker(uint16_t orchestrator, int tasks, std::shared_ptr<int> next,
                                  std::shared_ptr<WorkloadTally> tally) {
  const auto executor = co_await asio::this_coro::executor;
  while (*next < tasks) {
    const int task = (*next)++;
    http::UpstreamEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = orchestrator;
    http::Client client(executor, std::move(endpoint), http::ClientOptions{std::chrono::seconds(30), kMaxAnswer, false});
    const std::string body = "{\"task\":" + std::to_string(task + 1) + ",\"call_back\":" +
                             (task % 8 == 7 ? "true" : "false") + "}";
    http::HeaderPairs headers{{"Content-Type", "application/json"}};
    http::ClientResponse response = co_await client.request("POST", "/task", headers, body);
    ++tally->tasks;
    std::string error;
    const auto answer = response.complete && response.status == 200
                            ? sj::parse(response.body, error, sj::ParseLimits{kMaxAnswer, 16})
                            : std::nullopt;
    if (!answer) {
      ++tally->calls;
      tally->refusals[{response.status, response.complete ? "task_failed" : "no_answer", "workload", kOrchestrator}]++;
      continue;
    }
    if (task == 0) tally->first_trace_id = std::string(answer->string_member("trace_id").value_or(""));
    if (const sj::Value* calls = answer->find("calls"); calls != nullptr && calls->is_array()) {
      ++tally->tasks_by_calls[static_cast<int>(calls->items().size())];
      for (const auto& c : calls->items()) {
        ++tally->calls;
        ++(c.string_member("to").value_or("") == "gateway" ? tally->north_south_calls : tally->east_west_calls);
        const sj::Value* status = c.find("status");
        const int code = status != nullptr && status->is_integer() ? static_cast<int>(status->as_int()) : 0;
        if (code >= 200 && code < 300) {
          ++tally->answered_2xx;
          continue;
        }
        tally->refusals[{code, std::string(c.string_member("code").value_or("")),
                         std::string(c.string_member("from").value_or("")),
                         std::string(c.string_member("to").value_or(""))}]++;
      }
    }
  }
}

// Task 1 runs alone — its trace is the one the summary prints, and with one request in flight at the tools agent's
// sidecar that sidecar can repair the agent's orphan call — then the rest run kConcurrentTasks at a time.
asio::awaitable<WorkloadTally> run_workload(uint16_t orchestrator, int tasks) {
  auto next = std::make_shared<int>(0);  // the next task's index (one thread: the io_context's)
  auto tally = std::make_shared<WorkloadTally>();
  const auto started = Clock::now();
  co_await task_worker(orchestrator, 1, next, tally);
  co_await (task_worker(orchestrator, tasks, next, tally) && task_worker(orchestrator, tasks, next, tally) &&
            task_worker(orchestrator, tasks, next, tally) && task_worker(orchestrator, tasks, next, tally));
  tally->seconds = std::chrono::duration<double>(Clock::now() - started).count();
  co_return *tally;
}

class Demo {
 public:
  Demo(const DemoOptions& options, std::ostream& out, std::ostream& err) : options_(options), out_(out), err_(err) {}
  ~Demo();
  int run();

 private:
  bool prepare_work_dir();
  bool start_redis();
  bool start_control();
  bool start_gateway();
  bool start_sidecar(const std::string& agent);
  bool wait_for_fleet();
  bool mint_join_token(const std::string& node, const std::string& identity, std::string& file);
  std::vector<std::string> node_args(const std::string& node, const std::string& role_listen_args);
  SummaryInputs gather(const WorkloadTally& tally);
  void step(std::string_view what, std::string_view detail, Clock::time_point since);
  bool fail(std::string_view what, const std::string& error);

  const DemoOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::string work_dir_;
  bool remove_work_dir_ = false;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> io_work_;
  std::thread io_thread_;
  std::unique_ptr<MockProvider> provider_;
  std::unique_ptr<DemoAgents> agents_;
  std::mutex spans_mutex_;
  std::vector<AgentSpan> agent_spans_;
  Processes processes_;
  DemoTopology topology_;
  uint16_t control_port_ = 0;
  Clock::time_point control_ready_;
  ControlAccess control_;
  uint16_t gateway_admin_port_ = 0;
};

Demo::~Demo() {
  processes_.stop_all();  // the nodes first: they call the in-process agents and provider
  if (agents_) agents_->stop();
  if (provider_) provider_->stop();
  io_work_.reset();
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  if (remove_work_dir_) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }
}

void Demo::step(std::string_view what, std::string_view detail, Clock::time_point since) {
  out_ << "  ✓ " << std::left << std::setw(24) << what << detail << "  (" << seconds_text(Clock::now() - since) << ")\n"
       << std::flush;
}

bool Demo::fail(std::string_view what, const std::string& error) {
  err_ << "tollway demo: " << what << ": " << error << "\n";
  return false;
}

bool Demo::prepare_work_dir() {
  std::error_code ec;
  if (options_.work_dir.empty()) {
    std::string pattern = (fs::temp_directory_path(ec) / "tollway-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return fail("work directory", "mkdtemp failed: " + std::string(std::strerror(errno)));
    work_dir_ = pattern;
    remove_work_dir_ = true;
  } else {
    work_dir_ = fs::absolute(options_.work_dir, ec).string();
    fs::create_directories(work_dir_, ec);
    if (ec) return fail("work directory", work_dir_ + ": " + ec.message());
    if (!fs::is_empty(work_dir_, ec)) return fail("work directory", work_dir_ + " is not empty (the demo starts from nothing)");
  }
  fs::create_directories(fs::path(work_dir_) / "logs", ec);
  return !ec || fail("work directory", ec.message());
}

bool Demo::start_redis() {
  const auto redis = find_program("redis-server");
  if (!redis) {
    out_ << "  - redis-server is not installed: the gateway's ledger is local (in process)\n";
    return true;
  }
  const auto since = Clock::now();
  const uint16_t port = free_port();
  std::string error;
  ChildProcess* child = processes_.start(
      {"redis", *redis,
       {"--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"},
       (fs::path(work_dir_) / "logs" / "redis.log").string()},
      error);
  if (!child || !child->wait_for_line([](std::string_view line) { return line.find("Ready to accept connections") != std::string_view::npos; },
                                      kStartTimeout, error))
    return fail("redis", error);
  topology_.redis_port = port;
  step("redis", "127.0.0.1:" + std::to_string(port) + " (the gateway's strict ledger)", since);
  return true;
}

bool Demo::start_control() {
  const auto since = Clock::now();
  const fs::path dir(work_dir_);
  const std::string token_file = (dir / "admin.token").string();
  const std::string trace_token_file = (dir / "trace.token").string();
  std::ofstream(token_file) << control_.admin_token << "\n";
  std::ofstream(trace_token_file) << control_.trace_token << "\n";
  for (const auto& f : {token_file, trace_token_file}) fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write);
  std::string error;
  ChildProcess* child = processes_.start(
      {"control plane", options_.program,
       {"control", "--policy", topology_.policy_dir, "--listen", "127.0.0.1:" + std::to_string(control_port_),
        "--admin-token-file", token_file, "--state-dir", (dir / "control-state").string(), "--trust-domain",
        kTrustDomain, "--tls", "--svid-lifetime", "1h", "--trace-token-file", trace_token_file, "--lease-sync-interval", "250ms", "--lease-ttl", kLeaseTtl,
        "--poll-timeout", "2s"},
       (dir / "logs" / "control.log").string()},
      error);
  if (!child || !child->wait_for_log("control plane ready", kStartTimeout, error)) return fail("control plane", error);
  control_ready_ = Clock::now();
  // Nodes and the demo's own client trust the CA the control plane generated.
  std::error_code ec;
  fs::copy_file(dir / "control-state" / "ca" / "root.pem", dir / "ca.pem", fs::copy_options::overwrite_existing, ec);
  if (ec) return fail("control plane", "cannot copy its CA root: " + ec.message());
  std::optional<tls::ClientTlsError> tls_error;
  control_.tls = tls::make_client_context({(dir / "ca.pem").string(), "", ""}, tls_error);
  if (!control_.tls) return fail("control plane", tls_error->message);
  step("control plane", control_.url + " (CA for " + std::string(kTrustDomain) + ")", since);
  return true;
}

bool Demo::mint_join_token(const std::string& node, const std::string& identity, std::string& file) {
  std::string error;
  auto store = control::IdentityStore::open((fs::path(work_dir_) / "control-state" / "identity.db").string(), true, error);
  const auto id = tls::SpiffeId::parse(identity, &error);
  const auto minted = store && id ? store->mint(*id, std::chrono::minutes(10), control::IdentityStore::Clock::now(), error)
                                  : std::nullopt;
  if (!minted) return fail(node, "cannot mint its join token: " + error);
  file = (fs::path(work_dir_) / "nodes" / node / "join.token").string();
  std::ofstream(file) << minted->token << "\n";
  return true;
}

std::vector<std::string> Demo::node_args(const std::string& node, const std::string& role) {
  const fs::path dir = fs::path(work_dir_) / "nodes" / node;
  std::error_code ec;
  fs::create_directories(dir / "state", ec);
  // No bootstrap token: the node's certificate (its join token buys the first) authenticates it.
  return {role, "--control", control_.url, "--node", node, "--state-dir",
          (dir / "state").string(), "--identity-dir", (dir / "identity").string(), "--control-ca",
          (fs::path(work_dir_) / "ca.pem").string(), "--admin", "127.0.0.1:0"};
}

bool Demo::start_gateway() {
  const auto since = Clock::now();
  std::error_code ec;
  fs::create_directories(fs::path(work_dir_) / "nodes" / kGatewayNode, ec);
  std::string join_file;
  if (!mint_join_token(kGatewayNode, demo_spiffe_id(kGatewayNode), join_file)) return false;
  auto args = node_args(kGatewayNode, "gateway");
  args.insert(args.end(), {"--join-token-file", join_file, "--listen",
                            "127.0.0.1:" + std::to_string(topology_.gateway_port), "--workers", "1"});
  std::string error;
  ChildProcess* child = processes_.start(
      {"gateway", options_.program, args, (fs::path(work_dir_) / "logs" / "gateway.log").string()}, error);
  const auto ready = child ? child->wait_for_log("gateway ready", kStartTimeout, error) : std::nullopt;
  if (!ready) return fail("gateway", error);
  gateway_admin_port_ = port_of(ready->string_member("admin").value_or(""));
  step("gateway", "https://127.0.0.1:" + std::to_string(topology_.gateway_port) + " (mTLS), admin http://127.0.0.1:" +
                      std::to_string(gateway_admin_port_),
       since);
  return true;
}

bool Demo::start_sidecar(const std::string& agent) {
  const auto since = Clock::now();
  std::error_code ec;
  fs::create_directories(fs::path(work_dir_) / "nodes" / agent, ec);
  std::string join_file;
  if (!mint_join_token(agent, demo_spiffe_id(agent), join_file)) return false;
  auto args = node_args(agent, "sidecar");
  args.insert(args.end(), {"--join-token-file", join_file});
  std::string error;
  ChildProcess* child = processes_.start(
      {"sidecar " + agent, options_.program, args, (fs::path(work_dir_) / "logs" / (agent + "-sidecar.log")).string()},
      error);
  const auto ready = child ? child->wait_for_log("sidecar ready", kStartTimeout, error) : std::nullopt;
  if (!ready) return fail("sidecar " + agent, error);
  const sj::Value* listeners = ready->find("listeners");
  const uint16_t outbound = listeners ? port_of(listeners->string_member("outbound").value_or("")) : 0;
  if (outbound == 0) return fail("sidecar " + agent, "its ready line names no outbound listener");
  agents_->set_outbound(agent, outbound);
  step("sidecar " + agent, "outbound 127.0.0.1:" + std::to_string(outbound) + ", inbound 127.0.0.1:" +
                               std::to_string(topology_.inbound_ports[agent]) + " (mTLS), agent :" +
                               std::to_string(topology_.agent_ports[agent]),
       since);
  return true;
}

bool Demo::wait_for_fleet() {
  const auto since = Clock::now();
  std::string last;
  while (Clock::now() - since < kStartTimeout) {
    const auto reply = control_call(io_, control_, "GET", "/v1/fleet");
    std::string error;
    const auto fleet = reply.ok && reply.status == 200 ? sj::parse(reply.body, error, sj::ParseLimits{kMaxAnswer, 32})
                                                       : std::nullopt;
    const sj::Value* nodes = fleet ? fleet->find("nodes") : nullptr;
    if (nodes != nullptr && nodes->is_array() && nodes->items().size() == 4) {
      int synced = 0;
      last.clear();
      for (const auto& n : nodes->items()) {
        const auto state = n.string_member("state").value_or("");
        synced += state == "SYNCED";
        last += std::string(n.string_member("id").value_or("?")) + " " + std::string(state) + "; ";
      }
      if (synced == 4) {
        step("fleet", "4 nodes SYNCED on policy revision " + std::string(fleet->string_member("revision").value_or("")),
             since);
        return true;
      }
    } else {
      last = reply.ok ? reply.body.substr(0, 300) : reply.error;
    }
    if (take_stop_signal(std::chrono::milliseconds(200))) return fail("fleet", "interrupted");
  }
  return fail("fleet", "not every node SYNCED within 30 s: " + last);
}

SummaryInputs Demo::gather(const WorkloadTally& tally) {
  SummaryInputs in;
  in.tally = tally;
  in.strict_ledger = topology_.redis_port.has_value();
  for (const char* agent : kAgentNames) in.agent_own_us[agent] = agents_->own_time_us(agent);
  in.provider = provider_->totals();
  // The gateway settles a call after its answer is relayed: wait (briefly) until what it accounted for is what the
  // provider logged.
  const std::string spend_url = "http://127.0.0.1:" + std::to_string(gateway_admin_port_) + "/admin/spend?group_by=tenant,agent";
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    const auto reply = on_io(io_, control::control_request("GET", spend_url, topology_.gateway_admin_token, {},
                                                            std::chrono::seconds(10), kMaxAnswer));
    in.spend_json = reply.ok && reply.status == 200 ? reply.body : "";
    in.provider = provider_->totals();
    std::string error;
    const auto spend = sj::parse(in.spend_json, error, sj::ParseLimits{kMaxAnswer, 16});
    const sj::Value* total = spend ? spend->find("total") : nullptr;
    const sj::Value* tokens = total ? total->find("total_tokens") : nullptr;
    if ((tokens && tokens->is_integer() &&
         static_cast<uint64_t>(tokens->as_int()) == in.provider.prompt_tokens + in.provider.completion_tokens) ||
        Clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Every LLM call went through a sidecar, so the leased mesh budget's spend is the provider's tokens once every
  // sidecar has reported (each sync interval).
  const uint64_t provider_tokens = in.provider.prompt_tokens + in.provider.completion_tokens;
  for (const auto fleet_deadline = Clock::now() + std::chrono::seconds(5);;) {
    const auto fleet = control_call(io_, control_, "GET", "/v1/fleet");
    if (fleet.ok && fleet.status == 200) in.fleet_json = fleet.body;
    if (leased_spent(in.fleet_json) == provider_tokens || Clock::now() >= fleet_deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!tally.first_trace_id.empty()) {
    std::vector<AgentSpan> spans;
    {
      std::lock_guard lock(spans_mutex_);
      spans.swap(agent_spans_);
    }
    control_call(io_, control_, "POST", "/v1/traces", otlp_json_of(spans));
    // The nodes export every traces_interval (1 s): wait until the trace stops growing.
    std::size_t spans_seen = 0;
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const auto trace = control_call(io_, control_, "GET", "/v1/traces/" + tally.first_trace_id);
      if (trace.ok && trace.status == 200) in.trace_json = trace.body;
      const std::size_t count = trace_span_count(in.trace_json);
      if (count > 1 && count == spans_seen) break;
      spans_seen = count;
    }
  }
  return in;
}

int Demo::run() {
  const auto started = Clock::now();
  if (!prepare_work_dir()) return 1;
  out_ << "tollway demo: the hybrid on one machine — a control plane, a gateway, three agents with sidecars\n"
       << "  work directory " << work_dir_ << (remove_work_dir_ ? " (removed at exit)" : "") << "\n";
  io_work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });

  auto since = Clock::now();
  provider_ = std::make_unique<MockProvider>(io_, (fs::path(work_dir_) / "provider-usage.jsonl").string());
  agents_ = std::make_unique<DemoAgents>(io_, kModel, [this](AgentSpan span) {
    std::lock_guard lock(spans_mutex_);
    agent_spans_.push_back(std::move(span));
  });
  step("mock provider", "http://127.0.0.1:" + std::to_string(provider_->port()) + " (OpenAI API)", since);
  step("agents", "orchestrator :" + std::to_string(agents_->port(kOrchestrator)) + ", retrieval :" +
                     std::to_string(agents_->port(kRetrieval)) + ", tools :" + std::to_string(agents_->port(kTools)),
       since);
  if (!start_redis()) return 1;

  control_port_ = free_port();
  control_.url = "https://127.0.0.1:" + std::to_string(control_port_);
  control_.admin_token = random_hex(24);
  control_.trace_token = random_hex(24);
  topology_.policy_dir = (fs::path(work_dir_) / "policy").string();
  topology_.work_dir = work_dir_;
  topology_.provider_port = provider_->port();
  topology_.gateway_port = free_port();
  topology_.gateway_admin_token = random_hex(24);
  for (const char* agent : kAgentNames) {
    topology_.agent_ports[agent] = agents_->port(agent);
    topology_.inbound_ports[agent] = free_port();
  }
  topology_.otlp_endpoint = control_.url;
  topology_.mesh_budget_tokens = options_.mesh_budget;
  topology_.mesh_on_lease_exhausted = options_.mesh_on_exhausted;
  std::string error;
  if (!write_demo_policy(topology_, error)) return fail("policy", error), 1;
  if (!start_control() || !start_gateway()) return 1;
  for (const char* agent : kAgentNames)
    if (!start_sidecar(agent)) return 1;
  if (!wait_for_fleet()) return 1;
  // A control plane grants no lease for one lease lifetime after its start (it learns what is outstanding first):
  // the workload begins after that, so that the sidecars' first LLM calls find leases to spend.
  const auto leases_granted_from = control_ready_ + kLeaseLearning;
  if (Clock::now() < leases_granted_from && take_stop_signal(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                leases_granted_from - Clock::now())))
    return fail("leases", "interrupted"), 1;
  out_ << "  ready in " << seconds_text(Clock::now() - started) << "\n\n";

  out_ << "workload: " << options_.tasks << " tasks, " << kConcurrentTasks
       << " at a time (orchestrator → retrieval + tools → LLM)…\n" << std::flush;
  const WorkloadTally tally = on_io(io_, run_workload(agents_->port(kOrchestrator), options_.tasks));
  const DemoSummary summary = render_summary(gather(tally));
  out_ << summary.text;
  std::ofstream(fs::path(work_dir_) / "summary.json") << summary.json << "\n";
  out_ << "\ndashboard: " << control_.url << "/ui  (admin token in " << work_dir_ << "/admin.token; the certificate "
       << "is signed by the demo's CA, " << work_dir_ << "/ca.pem, so the browser asks before it trusts it)\n";
  if (options_.duration.count() > 0) {
    const auto remaining = options_.duration - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    out_ << "running until Ctrl-C or the end of --duration…\n" << std::flush;
    if (remaining.count() > 0) take_stop_signal(remaining);
  } else {
    out_ << "running until Ctrl-C…\n" << std::flush;
    while (!take_stop_signal(std::chrono::hours(1))) {
    }
  }
  out_ << "stopping every process the demo started…\n" << std::flush;
  if (!summary.totals_match) {
    err_ << "tollway demo: the gateway's accounted tokens differ from the provider's log (see the summary)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err) {
  // SIGINT and SIGTERM are taken by the demo's main thread (sigtimedwait); every thread started below inherits
  // the blocked mask, and every child process gets an empty one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int code = 1;
  {
    Demo demo(options, out, err);
    code = demo.run();
  }
  out << "stopped.\n" << std::flush;
  return code;
}

}  // namespace tollway::demo
