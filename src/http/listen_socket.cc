#include "http/listen_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace tollway::http {
namespace {

std::string failure(std::string_view listener, const tcp::endpoint& endpoint, std::string_view why) {
  return "cannot listen on " + endpoint_text(endpoint) + " (" + std::string(listener) +
         "): " + std::string(why);
}

constexpr std::string_view kInUse = "address already in use by another process";

// An address as 16 bytes (IPv4 as IPv4-mapped IPv6) and whether it is a wildcard, and of which family.
struct ListenAddress {
  std::array<unsigned char, 16> bytes{};
  bool v4 = false;
  bool unspecified = false;
};

ListenAddress normalize(const boost::asio::ip::address& a) {
  ListenAddress out;
  if (a.is_v4()) {
    out.v4 = true;
    out.unspecified = a.is_unspecified();
    out.bytes[10] = out.bytes[11] = 0xff;
    const auto b = a.to_v4().to_bytes();
    std::memcpy(out.bytes.data() + 12, b.data(), 4);
  } else {
    out.unspecified = a.is_unspecified();
    const auto b = a.to_v6().to_bytes();
    std::memcpy(out.bytes.data(), b.data(), 16);
  }
  return out;
}

// Whether a connection to one of the two addresses could be delivered to a socket bound to the other.
bool overlaps(const ListenAddress& a, const ListenAddress& b) {
  if (a.bytes == b.bytes) return true;
  const auto covers = [](const ListenAddress& wildcard, const ListenAddress& other) {
    return wildcard.unspecified && (!wildcard.v4 || other.v4);  // [::] covers IPv4 too (unless V6ONLY)
  };
  return covers(a, b) || covers(b, a);
}

bool parse_hex_word(std::string_view hex, uint32_t& out) {
  if (hex.size() != 8) return false;
  out = 0;
  for (char c : hex) {
    uint32_t digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return false;
    out = out << 4 | digit;
  }
  return true;
}

// One row of /proc/net/tcp or tcp6: "  0: 0100007F:1F90 00000000:0000 0A ... inode ...". The kernel prints
// each 32-bit word of the address as the host-order value of its network-order bytes.
struct ListeningSocket {
  ListenAddress address;
  uint16_t port = 0;
  unsigned long inode = 0;
};

bool parse_row(const std::string& line, bool v6, ListeningSocket& out) {
  std::istringstream in(line);
  std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
  if (!(in >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode))
    return false;
  if (state != "0A") return false;  // TCP_LISTEN
  const auto colon = local.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view hex_address(local.data(), colon);
  const std::size_t words = v6 ? 4 : 1;
  if (hex_address.size() != words * 8) return false;
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < words; ++i) {
    uint32_t word;
    if (!parse_hex_word(hex_address.substr(i * 8, 8), word)) return false;
    std::memcpy(bytes.data() + (v6 ? i * 4 : 12), &word, 4);
  }
  if (!v6) bytes[10] = bytes[11] = 0xff;
  out.address.bytes = bytes;
  out.address.v4 = !v6;
  static constexpr std::array<unsigned char, 16> kZero{};
  static constexpr std::array<unsigned char, 16> kV4Zero{0, 0, 0,    0,    0, 0, 0, 0,
                                                         0, 0, 0xff, 0xff, 0, 0, 0, 0};
  out.address.unspecified = bytes == (v6 ? kZero : kV4Zero);
  out.port = static_cast<uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
  out.inode = std::stoul(inode);
  return true;
}

std::vector<ListeningSocket> listening_sockets() {
  std::vector<ListeningSocket> out;
  for (const auto& [file, v6] : {std::pair{"/proc/net/tcp", false}, std::pair{"/proc/net/tcp6", true}}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      ListeningSocket s;
      try {
        if (parse_row(line, v6, s)) out.push_back(s);
      } catch (const std::exception&) {
        // a row the kernel printed differently is not ours to judge
      }
    }
  }
  return out;
}

// Fails when something already listens on the address: a socket without SO_REUSEPORT cannot be bound next to
// a listening one, whatever options the holder set. SO_REUSEADDR lets a port whose old connections linger in
// TIME_WAIT pass.
void probe_address_free(const tcp::endpoint& endpoint, std::string_view listener) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ListenError(failure(listener, endpoint, std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const int rc = ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
  const int error = errno;
  ::close(fd);
  if (rc == 0) return;
  throw ListenError(failure(listener, endpoint, error == EADDRINUSE ? kInUse : std::strerror(error)));
}

void bind_and_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool reuse_port,
                     std::string_view listener) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec && reuse_port) {
    const int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (!ec) return;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  throw ListenError(
      failure(listener, endpoint, ec == boost::asio::error::address_in_use ? kInUse : ec.message()));
}

}  // namespace

void open_shared_listener(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool join_existing,
                          std::string_view listener) {
  if (!join_existing && endpoint.port() != 0) probe_address_free(endpoint, listener);
  bind_and_listen(acceptor, endpoint, true, listener);
}

void open_exclusive_listener(tcp::acceptor& acceptor, const tcp::endpoint& endpoint,
                             std::string_view listener) {
  bind_and_listen(acceptor, endpoint, false, listener);
}

void check_no_foreign_listeners(const tcp::endpoint& endpoint, std::span<const int> own,
                                std::string_view listener) {
  std::vector<unsigned long> own_inodes;
  for (int fd : own) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) own_inodes.push_back(st.st_ino);
  }
  const ListenAddress ours = normalize(endpoint.address());
  for (const ListeningSocket& s : listening_sockets()) {
    if (s.port != endpoint.port() || !overlaps(s.address, ours)) continue;
    bool mine = false;
    for (unsigned long inode : own_inodes) mine = mine || inode == s.inode;
    if (!mine) throw ListenError(failure(listener, endpoint, kInUse));
  }
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6())
    return "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port());
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace tollway::http
