// Client: tollway's one HTTP/1.1 client for its own calls out (the JWKS and secret-store fetches, the OTLP
// exporter, `tollway spend --admin`, later the control plane): one request at a time to one endpoint, over TCP
// or TLS (the endpoint's client context: chain and name verified, SNI), within one timeout covering connect,
// handshake, send and receive. The response head is read by the strict parser and the body by BodyReader,
// bounded by max_body. The connection is kept for the next request while the server allows it; a kept
// connection found closed is replaced, and a request it failed to carry is sent once more on a new one, but
// only when nothing was answered. It never forwards a proxied request (the proxy has its UpstreamPool), never
// logs request or response bytes, and never runs two requests at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/stream.h"
#include "http/upstream_pool.h"

namespace tollway::http {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct ClientOptions {
  std::chrono::milliseconds timeout{5000};  // the whole request: connect, handshake, send, receive
  uint64_t max_body = 1 << 20;              // a longer response body fails the request
  bool keep_alive = true;                   // false: "Connection: close" and a new connection per request
};

struct ClientResponse {
  int status = 0;        // 0 when no response head arrived
  HeaderPairs headers;   // as received
  std::string body;      // the content (chunked framing removed)
  bool complete = false; // the head and the whole body arrived
  std::string error;     // when not complete: a sentence naming the endpoint and the cause

  std::optional<std::string_view> find(std::string_view name) const;
};

class Client {
 public:
  Client(asio::any_io_executor executor, UpstreamEndpoint endpoint, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `method target` with `headers` (Host, Content-Length and Connection are the client's) and `body`
  // (a Content-Length is sent when the body is not empty or the method is POST, PUT or PATCH).
  asio::awaitable<ClientResponse> request(std::string_view method, std::string_view target,
                                          const HeaderPairs& headers, std::string_view body = {});

  // The Host header to send from now on instead of the endpoint's: a forward proxy's client names the origin
  // here and sends absolute-form targets (`http://origin/path`), whose authority must agree with it.
  void use_host_header(std::string host) { host_header_ = std::move(host); }
  // TLS from now on with this context (a renewed CA or client certificate); a kept connection made with
  // another one is closed.
  void use_tls_context(std::shared_ptr<asio::ssl::context> context);
  // Connections opened so far (TCP connect, and TLS handshake for https).
  uint64_t connections_opened() const { return connections_opened_; }
  const UpstreamEndpoint& endpoint() const { return endpoint_; }

 private:
  asio::awaitable<ClientResponse> exchange(Stream& stream, std::string_view method, const std::string& request, std::string_view body,
                                           bool& answered, bool& reusable);
  std::string host_header() const;
  std::string name() const;

  asio::any_io_executor executor_;
  UpstreamEndpoint endpoint_;
  ClientOptions options_;
  std::string host_header_;       // "" = the endpoint's
  std::shared_ptr<Stream> idle_;  // kept between requests, or none
  uint64_t connections_opened_ = 0;
};

}  // namespace tollway::http
