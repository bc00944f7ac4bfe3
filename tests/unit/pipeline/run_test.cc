// The phase driver (pipeline/run.cc) with recording filters and a test Exchange: the phases run in
// DESIGN.md's order (authenticate on the head, then the body is read), a Replied verdict at any phase skips
// the later ones and goes to the reply, settle runs exactly once for exactly the filters whose admit
// continued, log runs for every filter, response hooks run in reverse chain order, a failed attempt
// selects and shapes again before one settle, and a settle that awaits I/O is left with the log to the caller.
#include "pipeline/run.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <string>
#include <vector>

#include "pipeline/chain.h"

namespace tollway::pipeline {
namespace {

using Trace = std::vector<std::string>;

// Records each phase it runs as "<name>.<phase>"; replies in the phase named by `reply_in`.
class RecordingFilter final : public Filter {
 public:
  RecordingFilter(std::string name, Trace& trace, std::string reply_in = "", bool settle_awaits_io = false)
      : name_(std::move(name)), trace_(trace), reply_in_(std::move(reply_in)), settle_awaits_io_(settle_awaits_io) {}
  std::string_view name() const override { return name_; }
  asio::awaitable<Verdict> authenticate(RequestCtx& ctx) override { co_return step("authenticate", ctx); }
  asio::awaitable<Verdict> authorize(RequestCtx& ctx) override { co_return step("authorize", ctx); }
  asio::awaitable<Verdict> admit(RequestCtx& ctx) override { co_return step("admit", ctx); }
  asio::awaitable<Verdict> select_upstream(RequestCtx& ctx) override {
    const Verdict v = step("select", ctx);
    ctx.upstream.endpoint = &endpoint_;  // any filter may choose; the last one's choice stands
    co_return v;
  }
  asio::awaitable<Verdict> shape_upstream(RequestCtx& ctx) override { co_return step("shape", ctx); }
  asio::awaitable<void> settle(RequestCtx&) override {
    trace_.push_back(name_ + ".settle");
    co_return;
  }
  bool settle_awaits_io(const RequestCtx&) const override { return settle_awaits_io_; }
  void log(const RequestCtx&) override { trace_.push_back(name_ + ".log"); }

 private:
  Verdict step(const char* phase, RequestCtx& ctx) {
    trace_.push_back(name_ + "." + phase);
    if (reply_in_ != phase) return Verdict::Continue;
    ctx.reply.status = 429;
    return Verdict::Replied;
  }
  std::string name_;
  Trace& trace_;
  std::string reply_in_;
  bool settle_awaits_io_;
  http::UpstreamEndpoint endpoint_;
};

// A filter that overrides no awaitable phase: the driver must skip it without calling anything but log.
class LogOnlyFilter final : public Filter {
 public:
  explicit LogOnlyFilter(Trace& trace) : trace_(trace) {}
  std::string_view name() const override { return "quiet"; }
  void log(const RequestCtx&) override { trace_.push_back("quiet.log"); }

 private:
  Trace& trace_;
};

// Chooses a CONNECT tunnel in select_upstream, as a sidecar's egress policy does.
class TunnelChooser final : public Filter {
 public:
  explicit TunnelChooser(Trace& trace) : trace_(trace) {}
  std::string_view name() const override { return "egress"; }
  asio::awaitable<Verdict> select_upstream(RequestCtx& ctx) override {
    trace_.push_back("egress.select");
    ctx.upstream.tunnel = TunnelTarget{"example.com", 443};
    co_return Verdict::Continue;
  }
  asio::awaitable<Verdict> shape_upstream(RequestCtx&) override {
    trace_.push_back("egress.shape");
    co_return Verdict::Continue;
  }

 private:
  Trace& trace_;
};

// Records the response hooks it sees as "<name>.<hook>"; its body transformer appends "<name>" to the bytes.
class ResponseFilter final : public Filter {
 public:
  ResponseFilter(std::string name, Trace& trace) : name_(std::move(name)), trace_(trace) {}
  std::string_view name() const override { return name_; }
  void on_response_head(RequestCtx&, const http::ResponseHead&) override {
    trace_.push_back(name_ + ".head");
  }
  std::unique_ptr<ResponseBodyTransformer> response_body(RequestCtx&, const http::ResponseHead&) override {
    trace_.push_back(name_ + ".response_body");
    return std::make_unique<Appender>(name_);
  }
  void on_held_response(RequestCtx&, Reply&) override { trace_.push_back(name_ + ".held"); }
  void on_response_bytes(RequestCtx&, std::string_view bytes, bool last) override {
    trace_.push_back(name_ + (last ? ".end" : ".bytes " + std::string(bytes)));
  }

 private:
  class Appender final : public ResponseBodyTransformer {
   public:
    explicit Appender(std::string tag) : tag_(std::move(tag)) {}
    void transform(std::string_view in, bool, std::string& out) override { out.append(in).append(tag_); }
    bool changes_length() const override { return true; }

   private:
    std::string tag_;
  };
  std::string name_;
  Trace& trace_;
};

// Forwards by recording and calling the response hooks as an answer "x" arrives; the first `failures`
// attempts fail before any byte reached the client (a 503, held).
class RecordingExchange final : public Exchange {
 public:
  RecordingExchange(Trace& trace, int failures, BodyRead body)
      : trace_(trace), failures_(failures), body_(body) {}
  asio::awaitable<BodyRead> read_body(RequestCtx& ctx) override {
    trace_.push_back("exchange.read_body");
    if (body_ == BodyRead::Refused) ctx.reply.status = 413;
    co_return body_;
  }
  asio::awaitable<void> forward(RequestCtx& ctx, ResponseHooks& hooks) override {
    trace_.push_back("exchange.forward");
    if (failures_-- > 0) {
      ctx.outcome.failure = providers::resilience::AttemptFailure::ServerError;
      ctx.reply.status = 503;
      hooks.held(ctx.reply);
      co_return;
    }
    http::ResponseHead head;
    head.status = 200;
    if (hooks.head(head)) trace_.push_back("exchange.length_changes");
    std::string buffer, scratch;
    hooks.sent(hooks.transform("x", true, buffer, scratch));
    hooks.ended();
    ctx.outcome.status = 200;
  }
  asio::awaitable<void> tunnel(RequestCtx& ctx) override {
    trace_.push_back("exchange.tunnel " + ctx.upstream.tunnel->host);
    ctx.outcome.status = 200;
    co_return;
  }
  asio::awaitable<void> reply(RequestCtx& ctx) override {
    trace_.push_back("exchange.reply " + std::to_string(ctx.reply.status));
    ctx.outcome.status = ctx.reply.status;
    co_return;
  }

 private:
  Trace& trace_;
  int failures_;
  BodyRead body_;
};

struct Fixture {
  Trace trace;
  std::shared_ptr<Snapshot> snapshot = std::make_shared<Snapshot>();
  config::RetryPolicy retries;

  RunEnd end = RunEnd::Finished;
  RequestCtx ctx;

  Trace run(int failures = 0, BodyRead body = BodyRead::Read) {
    ctx.snapshot = snapshot;
    ctx.upstream_plan = {&retries, 1};
    ctx.started = std::chrono::steady_clock::now();
    RecordingExchange exchange(trace, failures, body);
    boost::asio::io_context io;
    boost::asio::co_spawn(io, pipeline::run(ctx, exchange), [this](std::exception_ptr e, RunEnd how) {
      if (e) std::rethrow_exception(e);
      end = how;
    });
    io.run();
    return trace;
  }
  // The settle and log phases a SettleOwed run left.
  Trace settle_and_log() {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, pipeline::settle_and_log(ctx), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io.run();
    return trace;
  }
};

TEST(PhaseDriver, RunsThePhasesInOrderAndSettlesOnce) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace)
      .add<LogOnlyFilter>(f.trace)
      .add<RecordingFilter>("b", f.trace);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                            "b.authorize", "a.admit", "b.admit", "a.select", "b.select", "a.shape", "b.shape",
                            "exchange.forward", "a.settle", "b.settle", "a.log", "quiet.log", "b.log"}));
}

TEST(PhaseDriver, ASettleThatAwaitsIoIsLeftToTheCallerWithEveryLaterPhase) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace)
      .add<RecordingFilter>("b", f.trace, "", /*settle_awaits_io=*/true)
      .add<LogOnlyFilter>(f.trace);
  const Trace until_response{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                             "b.authorize", "a.admit", "b.admit", "a.select", "b.select", "a.shape", "b.shape",
                             "exchange.forward"};
  EXPECT_EQ(f.run(), until_response);
  EXPECT_EQ(f.end, RunEnd::SettleOwed);
  Trace whole = until_response;
  for (const char* step : {"a.settle", "b.settle", "a.log", "b.log", "quiet.log"}) whole.push_back(step);
  EXPECT_EQ(f.settle_and_log(), whole);
}

TEST(PhaseDriver, ASettleThatAwaitsIoIsNotAskedForWhenItsAdmitDidNotRun) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace, "admit")
      .add<RecordingFilter>("b", f.trace, "", /*settle_awaits_io=*/true);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                            "b.authorize", "a.admit", "exchange.reply 429", "a.log", "b.log"}));
  EXPECT_EQ(f.end, RunEnd::Finished);
}

TEST(PhaseDriver, RepliedInAuthenticateAnswersWithoutReadingTheBody) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace, "authenticate").add<RecordingFilter>("b", f.trace);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "exchange.reply 429", "a.log", "b.log"}));
}

TEST(PhaseDriver, ARefusedBodyIsAnsweredBeforeAuthorize) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace);
  EXPECT_EQ(f.run(0, BodyRead::Refused),
            (Trace{"a.authenticate", "exchange.read_body", "exchange.reply 413", "a.log"}));
}

TEST(PhaseDriver, AClientGoneWithItsBodyEndsTheRequestThere) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace);
  EXPECT_EQ(f.run(0, BodyRead::ClientGone), (Trace{"a.authenticate", "exchange.read_body"}));
}

TEST(PhaseDriver, RepliedInAuthorizeSkipsToTheReplyWithoutSettle) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace).add<RecordingFilter>("b", f.trace, "authorize");
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                            "b.authorize", "exchange.reply 429", "a.log", "b.log"}));
}

TEST(PhaseDriver, RepliedInAdmitSettlesOnlyTheFiltersWhoseAdmitContinued) {
  Fixture f;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace)
      .add<RecordingFilter>("b", f.trace, "admit")
      .add<RecordingFilter>("c", f.trace);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "c.authenticate", "exchange.read_body",
                            "a.authorize", "b.authorize", "c.authorize", "a.admit", "b.admit",
                            "exchange.reply 429", "a.settle", "a.log", "b.log", "c.log"}));
}

TEST(PhaseDriver, RepliedInSelectIsAnsweredAndStillSettledOnce) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace, "select").add<RecordingFilter>("b", f.trace);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                            "b.authorize", "a.admit", "b.admit", "a.select", "exchange.reply 429", "a.settle",
                            "b.settle", "a.log", "b.log"}));
}

TEST(PhaseDriver, RepliedInShapeIsAnsweredAndStillSettledOnce) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace, "shape").add<RecordingFilter>("b", f.trace);
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "b.authenticate", "exchange.read_body", "a.authorize",
                            "b.authorize", "a.admit", "b.admit", "a.select", "b.select", "a.shape",
                            "exchange.reply 429", "a.settle", "b.settle", "a.log", "b.log"}));
}

TEST(PhaseDriver, ATunnelChosenInSelectIsOpenedWithoutShapingOrForwarding) {
  Fixture f;
  f.retries.attempts = 2;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace).add<TunnelChooser>(f.trace);
  EXPECT_EQ(f.run(1), (Trace{"a.authenticate", "exchange.read_body", "a.authorize", "a.admit", "a.select",
                             "egress.select", "exchange.tunnel example.com", "a.settle", "a.log"}));
}

TEST(PhaseDriver, AFailedAttemptSelectsAndShapesAgainAndSettlesOnce) {
  Fixture f;
  f.retries.attempts = 1;
  f.retries.backoff_base = std::chrono::milliseconds(1);
  f.retries.backoff_max = std::chrono::milliseconds(1);
  f.snapshot->chain.add<RecordingFilter>("a", f.trace);
  EXPECT_EQ(f.run(1),
            (Trace{"a.authenticate", "exchange.read_body", "a.authorize", "a.admit", "a.select", "a.shape",
                   "exchange.forward", "a.select", "a.shape", "exchange.forward", "a.settle", "a.log"}));
}

TEST(PhaseDriver, WhenEveryAttemptFailsTheLastAnswerIsRepliedOnce) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace);
  EXPECT_EQ(f.run(5), (Trace{"a.authenticate", "exchange.read_body", "a.authorize", "a.admit", "a.select",
                             "a.shape", "exchange.forward", "exchange.reply 503", "a.settle", "a.log"}));
}

TEST(PhaseDriver, ResponseHooksRunInReverseChainOrder) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace)
      .add<ResponseFilter>("p", f.trace)
      .add<ResponseFilter>("q", f.trace);
  // q is nearest the provider: its transformer sees "x" first, p's sees "xq"; the bytes sent are "xqp".
  EXPECT_EQ(f.run(), (Trace{"a.authenticate", "exchange.read_body", "a.authorize", "a.admit", "a.select",
                            "a.shape", "exchange.forward", "q.head", "p.head", "q.response_body",
                            "p.response_body", "exchange.length_changes", "q.bytes xqp", "p.bytes xqp",
                            "q.end", "p.end", "a.settle", "a.log"}));
}

TEST(PhaseDriver, AHeldAnswerGoesThroughTheHeldHooksOnly) {
  Fixture f;
  f.retries.attempts = 0;
  f.snapshot->chain.add<RecordingFilter>("a", f.trace)
      .add<ResponseFilter>("p", f.trace)
      .add<ResponseFilter>("q", f.trace);
  EXPECT_EQ(f.run(1),
            (Trace{"a.authenticate", "exchange.read_body", "a.authorize", "a.admit", "a.select", "a.shape",
                   "exchange.forward", "q.held", "p.held", "exchange.reply 503", "a.settle", "a.log"}));
}

}  // namespace
}  // namespace tollway::pipeline
