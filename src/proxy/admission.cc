#include "proxy/admission.h"

#include <cstring>

namespace tollway::proxy {

const char* refusal_name(ConnectionRefusal refusal) {
  switch (refusal) {
    case ConnectionRefusal::MaxConnections:
      return "max_connections";
    case ConnectionRefusal::MaxConnectionsPerPeer:
      return "max_connections_per_peer";
    case ConnectionRefusal::None:
      break;
  }
  return "none";
}

Admission::ConnectionTicket& Admission::ConnectionTicket::operator=(ConnectionTicket&& other) noexcept {
  if (this != &other) {
    release();
    admission_ = other.admission_;
    counted_peer_ = other.counted_peer_;
    other.admission_ = nullptr;
    other.counted_peer_.reset();
  }
  return *this;
}

void Admission::ConnectionTicket::release() {
  if (admission_ == nullptr) return;
  if (counted_peer_) admission_->release_peer(*counted_peer_);
  admission_->connections_.fetch_sub(1, std::memory_order_relaxed);
  admission_ = nullptr;
  counted_peer_.reset();
}

Admission::RequestSlot& Admission::RequestSlot::operator=(RequestSlot&& other) noexcept {
  if (this != &other) {
    release();
    admission_ = other.admission_;
    other.admission_ = nullptr;
  }
  return *this;
}

void Admission::RequestSlot::release() {
  if (admission_ == nullptr) return;
  admission_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
  admission_ = nullptr;
}

core::IpAddress Admission::peer_key(const core::IpAddress& peer) {
  core::IpAddress key = peer;
  if (key.family == core::IpAddress::Family::V6) std::memset(key.bytes.data() + 8, 0, 8);
  return key;
}

std::size_t Admission::PeerKeyHash::operator()(const core::IpAddress& a) const {
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  // splitmix64's finalizer over both halves and the family.
  uint64_t h = high ^ (low * 0x9e3779b97f4a7c15ULL) ^ static_cast<uint64_t>(a.family);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<std::size_t>(h);
}

Admission::PeerShard& Admission::shard_of(const core::IpAddress& key) {
  return shards_[(PeerKeyHash{}(key) >> 7) % kPeerShards];
}

Admission::ConnectionTicket Admission::admit_connection(const std::optional<core::IpAddress>& peer,
                                                        const config::Limits& limits, ConnectionRefusal& refusal) {
  refusal = ConnectionRefusal::None;
  ConnectionTicket ticket;
  if (connections_.fetch_add(1, std::memory_order_relaxed) >= limits.max_connections) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    refused_total_.fetch_add(1, std::memory_order_relaxed);
    refusal = ConnectionRefusal::MaxConnections;
    return ticket;
  }
  if (limits.max_connections_per_peer > 0 && peer) {
    const core::IpAddress key = peer_key(*peer);
    PeerShard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    uint32_t& open = shard.open[key];
    if (open >= limits.max_connections_per_peer) {
      if (open == 0) shard.open.erase(key);
      connections_.fetch_sub(1, std::memory_order_relaxed);
      refused_per_peer_.fetch_add(1, std::memory_order_relaxed);
      refusal = ConnectionRefusal::MaxConnectionsPerPeer;
      return ticket;
    }
    ++open;
    ticket.counted_peer_ = key;
  }
  ticket.admission_ = this;
  return ticket;
}

void Admission::release_peer(const core::IpAddress& key) {
  PeerShard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.open.find(key);
  if (it == shard.open.end()) return;
  if (--it->second == 0) shard.open.erase(it);
}

Admission::RequestSlot Admission::admit_request(const config::Limits& limits) {
  RequestSlot slot;
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= limits.max_requests_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    shed_.fetch_add(1, std::memory_order_relaxed);
    return slot;
  }
  slot.admission_ = this;
  return slot;
}

uint64_t Admission::refused(ConnectionRefusal refusal) const {
  switch (refusal) {
    case ConnectionRefusal::MaxConnections:
      return refused_total_.load(std::memory_order_relaxed);
    case ConnectionRefusal::MaxConnectionsPerPeer:
      return refused_per_peer_.load(std::memory_order_relaxed);
    case ConnectionRefusal::None:
      break;
  }
  return 0;
}

}  // namespace tollway::proxy
