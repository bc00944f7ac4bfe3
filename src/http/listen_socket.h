// Listening sockets that belong to this process alone. The proxy's workers share one port through
// SO_REUSEPORT, which would also let a second process (same user) join the port and take half of its
// connections; these functions refuse that: a port another process listens on is reported before anything is
// bound, and after binding, any listener of another process found on an overlapping address is an error too
// (two processes starting at the same instant). Errors name the listener and the address, never Boost's
// source locations. Never binds with SO_REUSEPORT a socket whose address another process holds.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tollway::http {

using tcp = boost::asio::ip::tcp;

// Why a listener could not be opened, e.g. "cannot listen on 127.0.0.1:8080 (API listener): address already
// in use by another process".
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens, binds and listens `acceptor` on `endpoint` with SO_REUSEPORT so that this process's other workers
// can join the same port (`join_existing`: the port was already claimed by this process's first worker).
// Before the first bind, checks that no other socket listens on the address. Throws ListenError.
void open_shared_listener(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool join_existing,
                          std::string_view listener);

// Opens, binds and listens `acceptor` on `endpoint` for this process alone (no SO_REUSEPORT). Throws
// ListenError.
void open_exclusive_listener(tcp::acceptor& acceptor, const tcp::endpoint& endpoint,
                             std::string_view listener);

// Throws ListenError when a listening TCP socket that is not one of `own` (this process's listening
// descriptors) listens on `endpoint`'s port at the same address or a wildcard overlapping it. Reads
// /proc/net/tcp{,6}.
void check_no_foreign_listeners(const tcp::endpoint& endpoint, std::span<const int> own,
                                std::string_view listener);

// "127.0.0.1:8080", "[::1]:8080".
std::string endpoint_text(const tcp::endpoint& endpoint);

}  // namespace tollway::http
