#include "pipeline/response_hooks.h"

#include <ranges>

namespace tollway::pipeline {

bool ResponseHooks::head(const http::ResponseHead& head) {
  bool changes_length = false;
  transformers_.clear();
  for (const auto& f : std::views::reverse(chain_.filters())) f->on_response_head(ctx_, head);
  for (const auto& f : std::views::reverse(chain_.filters())) {
    if (auto t = f->response_body(ctx_, head)) {
      changes_length |= t->changes_length();
      transformers_.push_back(std::move(t));
    }
  }
  return changes_length;
}

std::string_view ResponseHooks::transform(std::string_view in, bool last, std::string& buffer,
                                          std::string& scratch) {
  std::string_view piece = in;
  for (auto& t : transformers_) {
    scratch.clear();
    t->transform(piece, last, scratch);
    buffer.swap(scratch);
    piece = buffer;
  }
  return piece;
}

bool ResponseHooks::wants_more_after_client_gone() const {
  for (const auto& t : transformers_)
    if (t->wants_more_after_client_gone()) return true;
  return false;
}

void ResponseHooks::sent(std::string_view bytes) {
  for (const auto& f : std::views::reverse(chain_.filters())) f->on_response_bytes(ctx_, bytes, false);
}

void ResponseHooks::ended() {
  for (const auto& f : std::views::reverse(chain_.filters())) f->on_response_bytes(ctx_, {}, true);
}

void ResponseHooks::held(Reply& reply) {
  for (const auto& f : std::views::reverse(chain_.filters())) f->on_held_response(ctx_, reply);
}

}  // namespace tollway::pipeline
