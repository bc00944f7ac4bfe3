#include "auth/authz/filter.h"

#include "core/glob.h"
#include "core/prometheus_text.h"
#include "providers/routing/route_choice.h"

namespace tollway::auth {
namespace {

bool any_match(const std::vector<std::string>& globs, std::string_view text) {
  for (const auto& g : globs)
    if (glob_match(g, text)) return true;
  return false;
}

pipeline::Verdict deny(pipeline::RequestCtx& ctx, std::string message, std::string_view code,
                       std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
  ctx.decision.denied = true;
  ctx.decision.filter = "policy_authz";
  ctx.decision.rule = std::string(code);
  ctx.decision.reason = message;
  return pipeline::reply_error(ctx, 403, std::move(message), code);
}

}  // namespace

void AuthzDenials::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  const AuthzDenials& d = *this;
  prometheus::family(out, "tollway_authz_denials_total", "counter",
                     "Requests refused by the caller's policy, by reason.");
  auto line = [&](const char* reason, const std::atomic<uint64_t>& v) {
    prometheus::sample(out, "tollway_authz_denials_total", prometheus::labels({{"reason", reason}}),
                       v.load());
  };
  line("route_not_allowed", d.route);
  line("model_not_allowed", d.model);
  line("max_tokens", d.max_tokens);
  line("tenant_mismatch", d.tenant);
  line("policy_needs_json_body", d.raw_body);
}

asio::awaitable<pipeline::Verdict> PolicyAuthzFilter::authorize(pipeline::RequestCtx& ctx) {
  const pipeline::Caller& caller = ctx.caller;
  if (!caller.authenticated) co_return pipeline::Verdict::Continue;
  AuthzDenials& d = denials_;
  for (const auto& h : ctx.head->headers) {
    if (http::iequals(h.name, "x-tollway-tenant") && h.value != caller.tenant)
      co_return deny(ctx, "This credential belongs to another tenant than the one the request names.",
                     "tenant_mismatch", d.tenant);
  }
  ctx.upstream.drop_headers.push_back("x-tollway-tenant");
  const CallerPolicy* policy = caller.policy.get();
  if (policy == nullptr) co_return pipeline::Verdict::Continue;
  const std::string_view path = ctx.head->path();
  if (!policy->routes.empty() && !any_match(policy->routes, path))
    co_return deny(ctx, "This credential may not call " + std::string(path) + ".", "route_not_allowed",
                   d.route);
  if (policy->models.empty() && policy->max_tokens == 0) co_return pipeline::Verdict::Continue;
  if (providers::route_of(ctx)->body == config::RouteBody::Raw)
    co_return deny(ctx,
                   "This credential is limited to certain models or output tokens, which are read from the "
                   "request body, and " +
                       std::string(path) + " forwards its body unread (body: raw).",
                   "policy_needs_json_body", d.raw_body);
  if (!ctx.body_fields) co_return pipeline::Verdict::Continue;  // no body (e.g. GET /v1/models)
  const providers::RequestFields* fields = &*ctx.body_fields;
  if (fields->model && !policy->models.empty() && !any_match(policy->models, *fields->model))
    co_return deny(ctx, "This credential may not use model \"" + *fields->model + "\".", "model_not_allowed",
                   d.model);
  if (policy->max_tokens != 0 && fields->model) {
    if (!fields->max_output_tokens)
      co_return deny(ctx,
                     "This credential requires an output limit (max_tokens, max_completion_tokens or "
                     "max_output_tokens) of at most " +
                         std::to_string(policy->max_tokens) + ".",
                     "max_tokens_required", d.max_tokens);
    if (*fields->max_output_tokens > policy->max_tokens)
      co_return deny(ctx,
                     "This credential allows at most " + std::to_string(policy->max_tokens) +
                         " output tokens per request; the request asks for " +
                         std::to_string(*fields->max_output_tokens) + ".",
                     "max_tokens_exceeded", d.max_tokens);
  }
  co_return pipeline::Verdict::Continue;
}

}  // namespace tollway::auth
