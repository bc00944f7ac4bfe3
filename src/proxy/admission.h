// Admission: the process-wide bounds on downstream work — connections open (in all, and per peer address) and
// requests in flight — shared by every worker thread, with what it refused counted for /metrics. It decides and
// counts; it never closes a socket or writes a response itself. Its hot path is one atomic add per connection
// and one per request, plus (only while limits.max_connections_per_peer is on) one update of a mutex-guarded map
// shard per connection opened and closed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "config/serving_config.h"
#include "core/cidr.h"

namespace tollway::proxy {

enum class ConnectionRefusal { None, MaxConnections, MaxConnectionsPerPeer };
inline constexpr std::array<ConnectionRefusal, 2> kAllConnectionRefusals{ConnectionRefusal::MaxConnections,
                                                                         ConnectionRefusal::MaxConnectionsPerPeer};
// The metric label of a refusal: the limit's key ("max_connections", "max_connections_per_peer").
const char* refusal_name(ConnectionRefusal refusal);

class Admission {
 public:
  // One admitted connection; releases its place when destroyed. Empty (admitted() false) when refused.
  class ConnectionTicket {
   public:
    ConnectionTicket() = default;
    ConnectionTicket(ConnectionTicket&& other) noexcept { *this = std::move(other); }
    ConnectionTicket& operator=(ConnectionTicket&& other) noexcept;
    ~ConnectionTicket() { release(); }
    bool admitted() const { return admission_ != nullptr; }

   private:
    friend class Admission;
    void release();
    Admission* admission_ = nullptr;
    std::optional<core::IpAddress> counted_peer_;  // set when the peer's count holds this connection
  };

  // One request in flight; releases its place when destroyed. Empty (admitted() false) when shed.
  class RequestSlot {
   public:
    RequestSlot() = default;
    RequestSlot(RequestSlot&& other) noexcept : admission_(other.admission_) { other.admission_ = nullptr; }
    RequestSlot& operator=(RequestSlot&& other) noexcept;
    ~RequestSlot() { release(); }
    bool admitted() const { return admission_ != nullptr; }

   private:
    friend class Admission;
    void release();
    Admission* admission_ = nullptr;
  };

  // `peer`: the connection's address (nullopt when the socket could not tell; then only the total applies).
  // A refusal is counted and named in `refusal`.
  ConnectionTicket admit_connection(const std::optional<core::IpAddress>& peer, const config::Limits& limits,
                                    ConnectionRefusal& refusal);
  RequestSlot admit_request(const config::Limits& limits);

  uint64_t open_connections() const { return connections_.load(std::memory_order_relaxed); }
  uint64_t requests_in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t refused(ConnectionRefusal refusal) const;
  uint64_t shed_requests() const { return shed_.load(std::memory_order_relaxed); }

 private:
  // IPv4 peers count per address, IPv6 peers per /64 (one host usually holds a whole /64).
  static core::IpAddress peer_key(const core::IpAddress& peer);
  struct PeerKeyHash {
    std::size_t operator()(const core::IpAddress& a) const;
  };
  struct PeerShard {
    std::mutex mutex;
    std::unordered_map<core::IpAddress, uint32_t, PeerKeyHash> open;  // only peers with a connection open
  };
  static constexpr std::size_t kPeerShards = 16;
  PeerShard& shard_of(const core::IpAddress& key);
  void release_peer(const core::IpAddress& key);

  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> refused_total_{0};
  std::atomic<uint64_t> refused_per_peer_{0};
  std::atomic<uint64_t> shed_{0};
  std::array<PeerShard, kPeerShards> shards_;
};

}  // namespace tollway::proxy
