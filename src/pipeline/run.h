// The phase driver: walks one request through authenticate (on the head alone) → read body → authorize → admit →
// select upstream → shape upstream request → forward (response hooks) → settle → log in DESIGN.md's order,
// calling each filter of the chain. It owns no sockets: the role's Exchange does I/O.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "pipeline/request_ctx.h"
#include "pipeline/response_hooks.h"
#include "pipeline/snapshot.h"

namespace tollway::pipeline {

// What became of the request body the driver asked the Exchange to read.
enum class BodyRead {
  Read,        // in ctx.body (empty when the request has none)
  Refused,     // ctx.reply holds the answer (too large, malformed, timed out)
  ClientGone,  // the client went away: nothing more is sent, settled or logged
};

// The I/O side of one request, implemented by the role (gateway proxy, sidecar).
class Exchange {
 public:
  virtual ~Exchange() = default;
  // Reads the request body into ctx.body, after the head phase (authenticate) let the request on: only then is
  // `Expect: 100-continue` answered. A request answered before its body was read gets its connection closed
  // after the answer (the unread body is never taken for the next request).
  virtual asio::awaitable<BodyRead> read_body(RequestCtx& ctx) = 0;
  // Sends ctx.upstream's request and streams the response to the client, calling `hooks` as the answer
  // arrives (head, body bytes, end; or held() for a failed attempt's answer kept from the client). Fills
  // ctx.outcome; on a failure before the response head it may fill ctx.reply instead and leave the answer to
  // reply().
  virtual asio::awaitable<void> forward(RequestCtx& ctx, ResponseHooks& hooks) = 0;
  // Opens the tunnel ctx.upstream.tunnel names: connects, answers the client 200, then relays bytes both ways
  // (a half-close passes through) until both directions ended or neither moved for the idle timeout; fills
  // ctx.outcome (status, tunneled bytes, upstream time). When the target cannot be reached it fills ctx.reply
  // (502/504) instead. The connection closes after the tunnel.
  virtual asio::awaitable<void> tunnel(RequestCtx& ctx) = 0;
  // Writes ctx.reply to the client.
  virtual asio::awaitable<void> reply(RequestCtx& ctx) = 0;
};

// What run() left to its caller.
enum class RunEnd {
  Finished,    // every phase ran, settle and log included
  SettleOwed,  // the response is written; a filter's settle waits on I/O (Filter::settle_awaits_io): the caller
               // owes exactly one settle_and_log(ctx), which may run after the connection moved on
};

// Walks the request through every phase. Settle and log run at once unless one of the admitted filters' settle
// waits on I/O; then run() returns as soon as the response is written.
asio::awaitable<RunEnd> run(RequestCtx& ctx, Exchange& exchange);

// The settle phase (the filters that passed admit, in chain order) and then the log phase; for a request whose
// run() returned SettleOwed. `ctx` must stay valid until it completes.
asio::awaitable<void> settle_and_log(RequestCtx& ctx);

// The authenticate phase alone, for a local endpoint whose answer depends on the caller (the model catalogue):
// true when the request may go on (ctx.caller is set, or nothing authenticates), false when ctx.reply holds the
// refusal.
asio::awaitable<bool> authenticate_only(RequestCtx& ctx);

// The log phase alone, for a request the connection answered before the pipeline (unknown route, a body error,
// a local endpoint): every request reaches the filters' log().
void log_only(const RequestCtx& ctx);

}  // namespace tollway::pipeline
