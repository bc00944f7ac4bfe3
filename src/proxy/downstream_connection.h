// DownstreamConnection: one downstream HTTP/1.1 connection of a proxy role. Reads requests strictly (head
// limits, body limits, 100-continue, timeouts), hands each head to the phase driver, and implements the driver's
// Exchange (the body is read when the driver asks, after authentication): the upstream request is written in one go and the response is streamed back as it arrives (chunk
// by chunk, SSE event by SSE event), while the client is read too, so that a client that closes or resets ends
// the upstream exchange even when the provider is idle. It never forwards a byte of a request it has not fully
// parsed and accepted, and never takes a pipelined request's bytes for a close (only EOF or an error is one).
#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>

#include "http/deadline.h"
#include "http/message.h"
#include "http/read_buffer.h"
#include "http/stream.h"
#include "pipeline/run.h"
#include "proxy/admission.h"
#include "tls/server_context.h"

namespace tollway::proxy {

class Worker;

// The address of a socket's peer (IPv4-mapped IPv6 as IPv4); nullopt when the socket cannot tell.
std::optional<core::IpAddress> peer_address(const http::tcp::socket& socket);

class DownstreamConnection final : public pipeline::Exchange,
                                   public std::enable_shared_from_this<DownstreamConnection> {
 public:
  // `listener` indexes the snapshot's serving.listeners: the one that accepted `socket`, from `peer`; `ticket` is
  // its place under the process's connection limits, held until the connection is destroyed.
  DownstreamConnection(Worker& worker, std::size_t listener, http::tcp::socket socket,
                       std::optional<core::IpAddress> peer, Admission::ConnectionTicket ticket);
  ~DownstreamConnection() override;

  boost::asio::awaitable<void> serve();
  // The worker is draining: close now if idle, otherwise after the current response.
  void on_drain();
  // Called by the worker's sweeper: cancels the pending I/O when the current deadline has passed.
  void sweep(http::Deadline::clock::time_point now);

  boost::asio::awaitable<pipeline::BodyRead> read_body(pipeline::RequestCtx& ctx) override;
  boost::asio::awaitable<void> forward(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks) override;
  boost::asio::awaitable<void> reply(pipeline::RequestCtx& ctx) override;
  // A CONNECT tunnel's relay (tunnel.cc).
  boost::asio::awaitable<void> tunnel(pipeline::RequestCtx& ctx) override;

 private:
  enum class Phase { Idle, Head, Body, Upstream, Responding };
  // The current request's body: none, not read yet (an answer now closes the connection), read, or lost with
  // the client.
  enum class BodyState { None, Unread, Read, Lost };

  boost::asio::awaitable<std::size_t> read_more();
  boost::asio::awaitable<void> handle_request(http::RequestHead& head);
  // An error answered before a request head was accepted (`path` "" when none was read), then the connection
  // closes.
  boost::asio::awaitable<void> write_error(int status, std::string_view path, std::string_view message,
                                           std::string_view code);
  bool closing() const;
  // Forward phase: keeps a 429/5xx answer that another attempt will replace from the client
  // (upstream_exchange.cc).
  // Forward phase: one upstream attempt, from connecting to the end of the response (upstream_exchange.cc);
  // forward() runs it while the client is watched (watch_plain_client or watch_tls_client).
  boost::asio::awaitable<void> send_and_relay(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks);
  // Forward phase, plain TCP client: a peeking receive queued on the client's socket: EOF or an error is the
  // client gone (client_gone_, the upstream I/O cancelled); a byte is a pipelined request, left in the socket for
  // the next head read, and ends the watch. Not a coroutine: a receive on the socket (its handler holds the
  // connection) costs a fraction of a second coroutine beside send_and_relay, and no system call until the
  // client sends or closes.
  void watch_plain_client();
  // Forward phase, TLS client (a record must be decrypted to tell a close_notify from data): reads the client
  // beside send_and_relay. Bytes it sends meanwhile (the next, pipelined request) are kept in carry_; EOF or an
  // error sets client_gone_ and cancels the upstream I/O. Stops when watching_ is cleared, on a cancel (the
  // deadline's sweep), or once carry_ holds kMaxReadAhead bytes.
  boost::asio::awaitable<void> watch_tls_client();
  // The client is gone (EOF, reset or a failed read) while the forward phase runs.
  void on_client_gone();
  boost::asio::awaitable<void> hold_failed_response(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks,
                                                    std::unique_ptr<http::Stream> stream,
                                                    const http::ResponseHead& head);

  // Forward phase, once the provider's final response head is in response_head_: the relay of the response
  // to the client (upstream_exchange.cc), its own coroutine so that each frame stays small enough for Asio's
  // frame cache; start_client_response writes the client's response head into client_out_.
  struct ResponseFraming {
    bool no_body = false;  // HEAD, 204, 304
    bool chunked = false;  // the relay frames the body itself, chunked
  };
  ResponseFraming start_client_response(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks,
                                        const http::ResponseHead& head);
  boost::asio::awaitable<void> relay_response(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks,
                                              std::unique_ptr<http::Stream> stream,
                                              std::chrono::steady_clock::time_point exchange_start);
  // Writes one piece of a relayed response under timeouts.response_write (a client that takes none of it that
  // long is cut: the sweep cancels the write), then puts the exchange's deadline back.
  boost::asio::awaitable<void> write_to_client(std::string_view bytes, boost::system::error_code& ec,
                                              http::Deadline::clock::time_point total_deadline,
                                              std::chrono::milliseconds response_write);
  Worker& worker_;
  std::size_t listener_;
  http::Stream client_;
  http::Deadline deadline_;
  http::ReadBuffer buffer_;
  std::string carry_;  // bytes of the next request read along with a chunked body or during the forward phase
  http::ReadBuffer upstream_buffer_;
  // Reused from request to request (their capacity stays): the parsed heads, the request head sent upstream,
  // the bytes written to the client, the response body transformers' buffers and the request body's storage
  // (strings up to 16 KiB keep their capacity, see downstream_connection.cc).
  http::RequestHead request_head_;
  http::ResponseHead response_head_;
  std::string upstream_head_;
  std::string client_out_;
  std::string transformed_;
  std::string transform_scratch_;
  std::string body_storage_;
  // The request being handled (see handle_request), engaged for its duration only.
  std::optional<pipeline::RequestCtx> request_ctx_;
  http::Stream* upstream_ = nullptr;  // the upstream stream in use, for the deadline to cancel
  Phase phase_ = Phase::Idle;
  BodyState body_state_ = BodyState::None;
  uint64_t body_limit_ = 0;                // the current request's route's max_body
  std::size_t consumed_from_buffer_ = 0;   // bytes of buffer_ that belong to the current request
  bool must_close_ = false;
  bool watching_ = false;     // send_and_relay runs: the client is watched
  bool client_gone_ = false;  // during the forward phase, the client closed, reset or failed a write
  int request_version_minor_ = 1;
  std::optional<core::IpAddress> peer_;  // the client's address, read once when the connection is accepted
  std::optional<tls::PeerIdentity> peer_identity_;  // its verified certificate, read once after the handshake
  std::list<DownstreamConnection*>::iterator registration_;
  Admission::ConnectionTicket ticket_;
};

}  // namespace tollway::proxy
