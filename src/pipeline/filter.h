// Filter: one feature's part in the request phases (the shape of Pingora's phases and Envoy's filters).
// Every phase has a do-nothing default, so a filter overrides only what it decides. Filters are built once
// per snapshot and shared by all workers: they must be safe to call concurrently and never block the event
// loop (I/O is awaited). A filter never touches sockets; the driver in run.cc owns them.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pipeline/request_ctx.h"

namespace tollway::pipeline {

namespace asio = boost::asio;

// What the driver does after a phase.
enum class Verdict {
  Continue,  // go on to the next filter / phase
  Replied,   // ctx.reply holds the answer: skip to writing it, then settle and log
};

// Answers the request with an error: sets ctx.reply's status and ctx.outcome's reason, and leaves the body to
// the engine, which writes it once, in the caller's format, with the role's error formatter. Returns Replied.
inline Verdict reply_error(RequestCtx& ctx, int status, std::string message, std::string_view code) {
  ctx.reply.status = status;
  ctx.reply.body.clear();
  ctx.outcome.error = std::move(message);
  ctx.outcome.error_code = std::string(code);
  return Verdict::Replied;
}

// Per-request processing of one response body, created by a filter when the response head arrives (see
// Filter::response_body). The relay passes the provider's de-chunked body bytes through every transformer of
// the chain — in reverse chain order, like Envoy's encoder filters, so the filter nearest the provider sees
// the provider's own bytes first — and sends what comes out. A transformer that only observes appends its
// input unchanged. It runs on the event loop: plain code, no await, no I/O.
class ResponseBodyTransformer {
 public:
  virtual ~ResponseBodyTransformer() = default;
  // `in`: the next body bytes; append what goes on towards the client to `out`. `last`: the body ended
  // (completely or cut; `in` may be empty) — flush what is held back. Called with last=true exactly once.
  virtual void transform(std::string_view in, bool last, std::string& out) = 0;
  // True when the output can differ from the input in length: the relay then frames the client's response
  // itself (chunked, or close-delimited for HTTP/1.0) instead of forwarding the provider's Content-Length.
  virtual bool changes_length() const = 0;
  // True while the transformer still needs upstream bytes after the client has gone (e.g. the usage has not
  // arrived yet): the relay keeps reading, bounded by the `usage` config section's drain_time / drain_bytes.
  virtual bool wants_more_after_client_gone() const { return false; }
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;

  // Who is calling (credentials). Default: continue.
  virtual asio::awaitable<Verdict> authenticate(RequestCtx&) {
    mark_default(kAuthenticate);
    co_return Verdict::Continue;
  }
  // May the caller do this. Default: continue.
  virtual asio::awaitable<Verdict> authorize(RequestCtx&) {
    mark_default(kAuthorize);
    co_return Verdict::Continue;
  }
  // Limits and budgets: reserve. When it continues, settle() runs for this filter at the end.
  virtual asio::awaitable<Verdict> admit(RequestCtx&) {
    mark_default(kAdmit);
    co_return Verdict::Continue;
  }
  // Each upstream attempt, first: choose where the request goes (provider, model, endpoint: ctx.upstream's
  // endpoint, provider, api, target and Host). Runs over the whole chain before any shape_upstream, so every
  // shaping filter sees the choice. Default: continue.
  virtual asio::awaitable<Verdict> select_upstream(RequestCtx&) {
    mark_default(kSelectUpstream);
    co_return Verdict::Continue;
  }
  // Each upstream attempt, after select_upstream: shape the request for the chosen upstream (the body, the
  // target's path, headers set and dropped: credentials, translation, trace context). Default: continue.
  virtual asio::awaitable<Verdict> shape_upstream(RequestCtx&) {
    mark_default(kShapeUpstream);
    co_return Verdict::Continue;
  }
  // The upstream's response head arrived (status, headers), before it is sent on. Plain function, no await.
  virtual void on_response_head(RequestCtx&, const http::ResponseHead&) {}
  // The response head arrived: return a transformer to see (and possibly rewrite) this response's body, or
  // null (the default) to leave it alone. Plain function, no await.
  virtual std::unique_ptr<ResponseBodyTransformer> response_body(RequestCtx&, const http::ResponseHead&) {
    return nullptr;
  }
  // A failed attempt's answer (a 429/5xx the driver may replace with another attempt's) was read whole into
  // `reply` instead of being sent; the filter may rewrite it (e.g. into the caller's API format). Plain
  // function.
  virtual void on_held_response(RequestCtx&, Reply&) {}
  // Response body bytes as they pass to the client; `last` on the final call. Plain function, no await.
  virtual void on_response_bytes(RequestCtx&, std::string_view, bool /*last*/) {}
  // Charge what was used; runs for every filter whose admit() continued.
  virtual asio::awaitable<void> settle(RequestCtx&) {
    mark_default(kSettle);
    co_return;
  }
  // True when this request's settle() will wait on I/O (e.g. a network round trip to a shared ledger): the
  // driver then leaves settle and log to its caller, which runs them beside the connection's next request.
  // Asked once per request after the response, only of filters whose admit() continued. Default: false.
  virtual bool settle_awaits_io(const RequestCtx&) const { return false; }
  // Runs for every request, after everything else, with ctx.outcome filled in.
  virtual void log(const RequestCtx&) {}

  // The awaitable phases, as bits. Once a filter's do-nothing default of a phase has run, the driver skips
  // that phase for the filter (saving a coroutine frame per request): the default's result cannot change.
  enum PhaseBit : uint8_t {
    kAuthenticate = 1,
    kAuthorize = 2,
    kAdmit = 4,
    kSelectUpstream = 8,
    kShapeUpstream = 16,
    kSettle = 32,
  };
  bool uses_default(PhaseBit phase) const { return default_phases_.load(std::memory_order_relaxed) & phase; }

 private:
  void mark_default(PhaseBit phase) { default_phases_.fetch_or(phase, std::memory_order_relaxed); }
  std::atomic<uint8_t> default_phases_{0};
};

}  // namespace tollway::pipeline
