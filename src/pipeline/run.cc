#include "pipeline/run.h"

namespace tollway::pipeline {
namespace {

using Phase = asio::awaitable<Verdict> (Filter::*)(RequestCtx&);

// Runs one phase over the chain; stops at the first filter that replied.
asio::awaitable<Verdict> run_phase(const Chain& chain, RequestCtx& ctx, Phase phase, std::size_t* admitted) {
  const auto& filters = chain.filters();
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const Verdict v = co_await ((*filters[i]).*phase)(ctx);
    if (admitted != nullptr && v == Verdict::Continue) *admitted = i + 1;
    if (v == Verdict::Replied) co_return v;
  }
  co_return Verdict::Continue;
}

}  // namespace

asio::awaitable<void> run(RequestCtx& ctx, Exchange& exchange) {
  const Chain& chain = ctx.snapshot->chain;
  std::size_t admitted = 0;  // filters [0, admitted) passed admit() and must settle
  Verdict v = co_await run_phase(chain, ctx, &Filter::authenticate, nullptr);
  if (v == Verdict::Continue) v = co_await run_phase(chain, ctx, &Filter::authorize, nullptr);
  if (v == Verdict::Continue) v = co_await run_phase(chain, ctx, &Filter::admit, &admitted);
  if (v == Verdict::Continue) v = co_await run_phase(chain, ctx, &Filter::route, nullptr);
  if (v == Verdict::Continue) {
    if (ctx.upstream.endpoint == nullptr && ctx.reply.status == 0) {
      ctx.reply.status = 500;
      ctx.outcome.error = "no filter chose an upstream";
    }
    if (ctx.upstream.endpoint != nullptr) co_await exchange.forward(ctx);
  }
  if (ctx.reply.status != 0 && ctx.outcome.status == 0) co_await exchange.reply(ctx);
  for (std::size_t i = 0; i < admitted; ++i) co_await chain.filters()[i]->settle(ctx);
  for (const auto& f : chain.filters()) f->log(ctx);
}

}  // namespace tollway::pipeline
