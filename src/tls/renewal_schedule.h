// RenewalSchedule: when a short-lived certificate is renewed, and what its PEM says about its validity. Renewal
// is due at half the lifetime, moved by a jitter of at most a tenth of the lifetime either way, so that a fleet
// issued at once does not renew at once. Pure arithmetic and parsing: it never reads files, never sleeps and never
// decides whether a certificate is trusted (verification is the TLS context's).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::tls {

using SystemClock = std::chrono::system_clock;

// Renewal happens at kRenewalShare of the lifetime, ± at most kMaxRenewalJitter of it.
inline constexpr double kRenewalShare = 0.5;
inline constexpr double kMaxRenewalJitter = 0.1;

// The moment to renew a certificate valid from `not_before` to `not_after`: not_before + (0.5 + jitter) × lifetime,
// `jitter` clamped to [-0.1, 0.1].
SystemClock::time_point renewal_time(SystemClock::time_point not_before, SystemClock::time_point not_after,
                                     double jitter);

// The validity of the first certificate of a PEM text and its only URI SAN ("" when it has none or several).
struct CertificateValidity {
  SystemClock::time_point not_before, not_after;
  std::string uri_san;
  std::string serial_hex;
};
std::optional<CertificateValidity> read_certificate_validity(std::string_view pem, std::string& error);

}  // namespace tollway::tls
