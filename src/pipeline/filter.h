// Filter: one feature's part in the request phases (the shape of Pingora's phases and Envoy's filters).
// Every phase has a do-nothing default, so a filter overrides only what it decides. Filters are built once per
// snapshot and shared by all workers: they must be safe to call concurrently and never block the event loop
// (I/O is awaited). A filter never touches sockets; the driver in run.cc owns them.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string_view>

#include "pipeline/request_ctx.h"

namespace tollway::pipeline {

namespace asio = boost::asio;

// What the driver does after a phase.
enum class Verdict {
  Continue,  // go on to the next filter / phase
  Replied,   // ctx.reply holds the answer: skip to writing it, then settle and log
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;

  // Who is calling (credentials). Default: continue.
  virtual asio::awaitable<Verdict> authenticate(RequestCtx&) { co_return Verdict::Continue; }
  // May the caller do this. Default: continue.
  virtual asio::awaitable<Verdict> authorize(RequestCtx&) { co_return Verdict::Continue; }
  // Limits and budgets: reserve. When it continues, settle() runs for this filter at the end.
  virtual asio::awaitable<Verdict> admit(RequestCtx&) { co_return Verdict::Continue; }
  // Choose the upstream and shape the upstream request (ctx.upstream). Default: continue.
  virtual asio::awaitable<Verdict> route(RequestCtx&) { co_return Verdict::Continue; }
  // The upstream's response head arrived (status, headers), before it is sent on. Plain function, no await.
  virtual void on_response_head(RequestCtx&, const http::ResponseHead&) {}
  // Response body bytes as they pass to the client; `last` on the final call. Plain function, no await.
  virtual void on_response_bytes(RequestCtx&, std::string_view, bool /*last*/) {}
  // Charge what was used; runs for every filter whose admit() continued.
  virtual asio::awaitable<void> settle(RequestCtx&) { co_return; }
  // Runs for every request, after everything else, with ctx.outcome filled in.
  virtual void log(const RequestCtx&) {}
};

}  // namespace tollway::pipeline
