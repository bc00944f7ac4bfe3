// ControlPlaneId: which SPIFFE ID a node requires of the control plane it speaks to. The control plane serves
// (control/control_listener_tls.h) an X.509-SVID for spiffe://TRUST_DOMAIN/tollway/control; a node expects that ID
// in its own trust domain, or — before it holds a certificate — in the trust domain its --control-ca bundle's roots
// name (a root tollway generated carries the URI SAN spiffe://TRUST_DOMAIN). Pure derivation: it never decides
// trust in a chain (the TLS context's verification does) and never guesses when the bundle is ambiguous.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::tls {

// The path of the control plane's SPIFFE ID.
inline constexpr std::string_view kControlPlanePath = "/tollway/control";

// spiffe://TRUST_DOMAIN/tollway/control.
std::string control_plane_id(std::string_view trust_domain);

// The one trust domain the roots of `bundle_pem` name by their spiffe:// URI SANs. nullopt with `error` when none
// names one, two name different ones, or the text holds no certificate.
std::optional<std::string> bundle_trust_domain(std::string_view bundle_pem, std::string& error);

}  // namespace tollway::tls
