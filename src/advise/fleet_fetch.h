// FleetFetch: reads a running control plane's API for `tollway advise --control` — GET /v1/fleet, /v1/budgets,
// /v1/history, /v1/traces?limit=N and /v1/traces/{id} of each listed trace — with the admin token, over https
// verified against a CA bundle by host name (as curl does) or the system store, or plain http. It only fetches:
// every answer that is missing or not 200 becomes a gap with the reason, never a guessed value; it never logs or
// echoes the token.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "advise/fleet_measurement.h"

namespace tollway::advise {

struct ControlAccess {
  std::string url;  // https://HOST:PORT (or http://)
  std::string admin_token;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: the system trust store for https
  int trace_limit = 200;                           // traces read, the newest first (the API allows 1 to 1000)
};

boost::asio::awaitable<ApiAnswers> fetch_api_answers(const ControlAccess& access);

}  // namespace tollway::advise
