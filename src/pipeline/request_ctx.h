// RequestCtx: the state of one request as it walks the phases. Each field is written by one phase and read by
// later ones (noted per field); it is a plain struct, never a string-keyed bag, and owns nothing shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/gateway_config.h"
#include "http/message.h"
#include "http/upstream_pool.h"

namespace tollway::pipeline {

struct Snapshot;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A response the gateway writes itself (an error, a denial, an admin answer).
struct Reply {
  int status = 0;  // 0 = no reply yet
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;
};

// Where and how the request goes upstream; written by the route phase.
struct UpstreamRequest {
  const http::UpstreamEndpoint* endpoint = nullptr;  // owned by the snapshot
  std::string provider;                              // provider name, for logs and metrics
  std::string target;                                // path and query sent upstream
  std::string host_header;
  HeaderList set_headers;                  // added (replacing any header of the same name)
  std::vector<std::string> drop_headers;   // removed from the caller's headers (lowercase names)
};

struct Outcome {
  int status = 0;                 // status sent to the client (0 = nothing sent)
  uint64_t response_bytes = 0;    // body bytes sent to the client
  bool upstream_contacted = false;
  std::chrono::steady_clock::duration upstream_first_byte{};  // request sent -> response head
  std::chrono::steady_clock::duration upstream_total{};       // connect -> last byte
  std::string error;              // why the gateway answered itself or cut the exchange
  std::string error_code;         // stable reason, e.g. "unknown_route" (the OpenAI error `code`)
};

struct RequestCtx {
  // Driver, before any phase.
  std::shared_ptr<const Snapshot> snapshot;
  const http::RequestHead* head = nullptr;  // views into the connection buffer, valid for the whole request
  std::string body;                         // the complete request body
  std::string request_id;
  const config::RouteConfig* route = nullptr;  // matched by path
  config::Api api = config::Api::OpenAI;       // the caller's API format, for errors
  std::chrono::steady_clock::time_point started;
  // Route phase.
  std::string model;  // the body's "model", "" when none
  UpstreamRequest upstream;
  // Any phase that answers the request itself.
  Reply reply;
  // Forward phase and the driver.
  Outcome outcome;
};

}  // namespace tollway::pipeline
