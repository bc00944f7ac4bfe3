#include "pipeline/run.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "providers/resilience/attempt_plan.h"
#include "providers/resilience/load_balancer.h"
#include "providers/resilience/provider_counters.h"

namespace tollway::pipeline {
namespace {

namespace resilience = providers::resilience;
using Clock = std::chrono::steady_clock;
using Phase = asio::awaitable<Verdict> (Filter::*)(RequestCtx&);

// The chain the role's classify chose for the request, else the snapshot's main one.
const Chain& chain_of(const RequestCtx& ctx) {
  return ctx.chain != nullptr ? *ctx.chain : ctx.snapshot->chain;
}

// Runs one phase over the chain; stops at the first filter that replied.
asio::awaitable<Verdict> run_phase(const Chain& chain, RequestCtx& ctx, Phase phase, Filter::PhaseBit bit,
                                   std::size_t* admitted) {
  const auto& filters = chain.filters();
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const Verdict v = filters[i]->uses_default(bit) ? Verdict::Continue : co_await ((*filters[i]).*phase)(ctx);
    if (admitted != nullptr && v == Verdict::Continue) *admitted = i + 1;
    if (v == Verdict::Replied) co_return v;
  }
  co_return Verdict::Continue;
}

// True when a filter of the chain does more in `bit`'s phase than the do-nothing default; when none does, the
// driver skips the phase without a coroutine frame for it.
bool phase_has_work(const Chain& chain, Filter::PhaseBit bit) {
  for (const auto& f : chain.filters())
    if (!f->uses_default(bit)) return true;
  return false;
}

// Tells the endpoint's breaker how the attempt went and releases the endpoint (no longer in flight).
void report_to_breaker(RequestCtx& ctx) {
  auto& lease = ctx.upstream.lease;
  if (!lease) return;
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(ctx.outcome.upstream_first_byte);
  lease.finish(resilience::endpoint_verdict(ctx.outcome.failure, ctx.outcome.status), latency, Clock::now());
}

// Appends the attempt that just ended to ctx.attempts (its CLIENT span and the access log read them).
void record_attempt(RequestCtx& ctx, Clock::time_point started) {
  AttemptRecord& a = ctx.attempts.emplace_back();
  a.number = ctx.outcome.attempts;
  a.provider = ctx.upstream.provider;
  a.api = ctx.upstream.api;
  if (const auto* health = ctx.upstream.lease.health()) a.endpoint = health->url();
  a.target = ctx.upstream.target;
  a.model = ctx.model;
  a.started = started;
  a.ended = Clock::now();
  a.failure = ctx.outcome.failure;
  switch (ctx.outcome.failure) {
    case resilience::AttemptFailure::None: a.status = ctx.outcome.status; break;
    case resilience::AttemptFailure::RateLimited:
    case resilience::AttemptFailure::ServerError: a.status = ctx.reply.status; break;
    default: a.status = 0;  // no response from the provider
  }
}

void count_and_log(const RequestCtx& ctx, const resilience::EndpointHealth* endpoint,
                   const resilience::AttemptPlan::Next& next) {
  const auto failure = ctx.outcome.failure;
  if (auto* counters = ctx.upstream.balancer ? ctx.upstream.balancer->counters() : nullptr) {
    if (next.kind == resilience::AttemptPlan::Next::Retry) counters->count_retry(failure);
    else counters->count_fallback(failure);
  }
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("provider", ctx.upstream.provider)
      .field("endpoint", endpoint ? std::string_view(endpoint->url()) : std::string_view())
      .field("attempt", static_cast<uint64_t>(ctx.outcome.attempts))
      .field("failure", resilience::failure_name(failure))
      .field("status", ctx.reply.status)
      .field("next", next.kind == resilience::AttemptPlan::Next::Retry ? "retry" : "fallback")
      .field("delay_ms", static_cast<int64_t>(next.delay.count()));
  if (ctx.outcome.retry_after) w.field("retry_after_ms", static_cast<int64_t>(ctx.outcome.retry_after->count()));
  log::info("upstream attempt failed", w);
}

// Clears what the select, shape and forward phases of a failed attempt wrote, so that the next attempt starts
// from the caller's request as it arrived (shape_upstream rewrites the body: model, translation, include_usage).
void reset_for_next_attempt(RequestCtx& ctx, const std::string& original_body,
                            const std::optional<providers::RequestFields>& original_fields, Clock::duration waited) {
  ctx.upstream = UpstreamRequest{};  // releases the endpoint lease
  ctx.provider_key.reset();
  ctx.reply = Reply{};
  ctx.model.clear();
  ctx.request = RequestFacts{};
  ctx.usage = Usage{};
  ctx.body.assign(original_body);  // keeps the capacity (simdjson padding)
  ctx.body_fields = original_fields;
  Outcome next;
  next.upstream_contacted = ctx.outcome.upstream_contacted;
  next.upstream_total = ctx.outcome.upstream_total + waited;  // waiting for a retry is upstream time
  next.attempts = ctx.outcome.attempts + 1;
  ctx.outcome = std::move(next);
}

// select_upstream over the chain, then shape_upstream over the chain, then forward: once per upstream attempt.
// An attempt that failed before any byte reached the client (ctx.outcome.failure) is followed by a retry of the
// same candidate (after a backoff) or by the next candidate of the route's fallback chain, as the AttemptPlan
// decides; every attempt selects and shapes afresh, so the candidate's provider, model, endpoint, credential and
// translation are chosen by the filters that own them. Only the last attempt's response and usage reach the client and settle.
asio::awaitable<void> select_shape_and_forward(const Chain& chain, RequestCtx& ctx, Exchange& exchange) {
  static const config::RetryPolicy kNoRetries{.attempts = 0};
  const config::RetryPolicy& retries = ctx.upstream_plan.retries ? *ctx.upstream_plan.retries : kNoRetries;
  const auto deadline = ctx.started + ctx.snapshot->serving.timeouts.upstream_total;
  resilience::AttemptPlan plan(retries, ctx.upstream_plan.candidates, deadline);
  // Request bodies are buffered whole, so every attempt can send them again.
  const std::string original_body = plan.may_repeat() ? ctx.body : std::string();
  const std::optional<providers::RequestFields> original_fields =
      plan.may_repeat() ? ctx.body_fields : std::optional<providers::RequestFields>();
  ctx.attempt = Attempt{};
  ctx.attempt.plan = &plan;
  struct ForgetPlan {  // the plan lives in this frame; nothing after it may reach it through ctx
    RequestCtx& ctx;
    ~ForgetPlan() { ctx.attempt.plan = nullptr; }
  } forget_plan{ctx};
  while (true) {
    ctx.attempt.candidate = plan.candidate();
    const auto attempt_started = Clock::now();
    Verdict v = co_await run_phase(chain, ctx, &Filter::select_upstream, Filter::kSelectUpstream, nullptr);
    if (v == Verdict::Continue && ctx.upstream.tunnel) {  // bytes, not requests: nothing to shape or retry
      co_await exchange.tunnel(ctx);
      co_return;
    }
    if (v == Verdict::Continue && ctx.upstream.endpoint != nullptr)
      v = co_await run_phase(chain, ctx, &Filter::shape_upstream, Filter::kShapeUpstream, nullptr);
    if (v == Verdict::Continue) {
      if (ctx.upstream.endpoint == nullptr) {
        if (ctx.reply.status == 0) {
          ctx.reply.status = 500;
          ctx.outcome.error = "no filter chose an upstream";
        }
        co_return;
      }
      ResponseHooks hooks(chain, ctx);
      co_await exchange.forward(ctx, hooks);
      if (ctx.record_attempts) record_attempt(ctx, attempt_started);
    }
    const resilience::EndpointHealth* endpoint = ctx.upstream.lease.health();
    report_to_breaker(ctx);
    if (ctx.outcome.failure == resilience::AttemptFailure::None) co_return;
    const auto next = plan.decide(ctx.outcome.failure, ctx.outcome.retry_after, Clock::now(), resilience::jitter_draw());
    if (next.kind == resilience::AttemptPlan::Next::Stop) co_return;  // ctx.reply holds the last answer
    count_and_log(ctx, endpoint, next);
    plan.advance(next);
    const auto waited_from = Clock::now();
    if (next.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, next.delay);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    reset_for_next_attempt(ctx, original_body, original_fields, Clock::now() - waited_from);
    ctx.attempt.avoid = next.kind == resilience::AttemptPlan::Next::Retry ? endpoint : nullptr;
  }
}

}  // namespace

asio::awaitable<RunEnd> run(RequestCtx& ctx, Exchange& exchange) {
  const Chain& chain = chain_of(ctx);
  std::size_t& admitted = ctx.settling_filters;  // filters [0, admitted) passed admit() and must settle
  admitted = 0;
  Verdict v = Verdict::Continue;
  // The head phase: who is calling is known before a byte of the body is read.
  if (phase_has_work(chain, Filter::kAuthenticate))
    v = co_await run_phase(chain, ctx, &Filter::authenticate, Filter::kAuthenticate, nullptr);
  if (v == Verdict::Continue) {
    switch (co_await exchange.read_body(ctx)) {
      case BodyRead::Read: break;
      case BodyRead::Refused: v = Verdict::Replied; break;
      case BodyRead::ClientGone: co_return RunEnd::Finished;
    }
  }
  if (v == Verdict::Continue && phase_has_work(chain, Filter::kAuthorize))
    v = co_await run_phase(chain, ctx, &Filter::authorize, Filter::kAuthorize, nullptr);
  if (v == Verdict::Continue) {
    if (phase_has_work(chain, Filter::kAdmit))
      v = co_await run_phase(chain, ctx, &Filter::admit, Filter::kAdmit, &admitted);
    else
      admitted = chain.filters().size();  // every default admit continues
  }
  if (v == Verdict::Continue) co_await select_shape_and_forward(chain, ctx, exchange);
  if (ctx.reply.status != 0 && ctx.outcome.status == 0) co_await exchange.reply(ctx);
  // The response is complete for the client: a settle that waits on I/O is left to the caller, so that the
  // connection's next request does not wait for it.
  for (std::size_t i = 0; i < admitted; ++i) {
    const Filter& f = *chain.filters()[i];
    if (!f.uses_default(Filter::kSettle) && f.settle_awaits_io(ctx)) co_return RunEnd::SettleOwed;
  }
  // Inline rather than through settle_and_log: one coroutine frame less per request.
  for (std::size_t i = 0; i < admitted; ++i)
    if (!chain.filters()[i]->uses_default(Filter::kSettle)) co_await chain.filters()[i]->settle(ctx);
  log_only(ctx);
  co_return RunEnd::Finished;
}

asio::awaitable<void> settle_and_log(RequestCtx& ctx) {
  const Chain& chain = chain_of(ctx);
  for (std::size_t i = 0; i < ctx.settling_filters; ++i)
    if (!chain.filters()[i]->uses_default(Filter::kSettle)) co_await chain.filters()[i]->settle(ctx);
  log_only(ctx);
}

asio::awaitable<bool> authenticate_only(RequestCtx& ctx) {
  const Chain& chain = chain_of(ctx);
  if (!phase_has_work(chain, Filter::kAuthenticate)) co_return true;
  co_return co_await run_phase(chain, ctx, &Filter::authenticate, Filter::kAuthenticate, nullptr) ==
      Verdict::Continue;
}

void log_only(const RequestCtx& ctx) {
  for (const auto& f : chain_of(ctx).filters()) f->log(ctx);
}

}  // namespace tollway::pipeline
