#include "telemetry/config.h"

#include <charconv>

#include "config/tls_files.h"
#include "tls/node_identity_files.h"

namespace tollway::config {
namespace {

void boolean(Validator& v, const YAML::Node& parent, const char* key, const std::string& path, bool& out) {
  v.optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& s) {
    if (s == "true") out = true;
    else if (s == "false") out = false;
    else v.fail(node, path + key, "\"" + s + "\" is not a boolean (true or false)");
  });
}

void count(Validator& v, const YAML::Node& parent, const char* key, const std::string& path, uint64_t min,
           uint64_t max, uint64_t& out) {
  v.optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& s) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || n < min || n > max) {
      v.fail(node, path + key,
             "\"" + s + "\" is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      return;
    }
    out = n;
  });
}

void log_destination(Validator& v, const YAML::Node& parent, const char* key, const std::string& path,
                     LogDestination& out) {
  v.optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& s) {
    if (s == "off" || s == "false") out = {LogDestination::Off, {}};
    else if (s == "stdout") out = {LogDestination::Stdout, {}};
    else if (s == "stderr") out = {LogDestination::Stderr, {}};
    else if (!s.empty() && s.find_first_of("\r\n") == std::string::npos) out = {LogDestination::File, s};
    else v.fail(node, path + key, "\"" + s + "\" is not a log destination (allowed: off, stdout, stderr, or a file path)");
  });
}

const std::string kTrustForms =
    "always, never, authenticated, or a mapping {peers: [CIDR, ...], authenticated: true|false}";

// trust_incoming: {peers: [CIDR, ...], authenticated: BOOL}: callers whose TCP peer address is in one of the
// networks are trusted, and authenticated callers too when `authenticated` is true.
void read_trusted_peers(Validator& v, const YAML::Node& trust, TelemetryConfig& c) {
  const std::string path = "telemetry.tracing.trust_incoming";
  if (!v.check_mapping(trust, path, {"peers", "authenticated"})) return;
  boolean(v, trust, "authenticated", path + ".", c.trust_authenticated);
  const YAML::Node peers = trust["peers"];
  if (!peers.IsDefined() || peers.IsNull() || !peers.IsSequence() || peers.size() == 0) {
    v.fail(peers.IsDefined() ? peers : trust, path + ".peers",
           "must be a non-empty list of IPv4 / IPv6 networks in CIDR notation, e.g. [\"10.0.0.0/8\", \"::1/128\"] "
           "(to trust no network, write trust_incoming: authenticated or never)");
    return;
  }
  c.trust_incoming = TrustIncoming::Listed;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const std::string item_path = path + ".peers[" + std::to_string(i) + "]";
    const auto text = v.string_value(peers[i], item_path);
    if (!text) continue;
    std::string error;
    const auto network = core::Cidr::parse(*text, error);
    if (!network) {
      v.fail(peers[i], item_path, error + " (allowed: an IPv4 or IPv6 network such as 10.0.0.0/8 or fd00::/8, or one "
                                          "address such as 127.0.0.1 or ::1)");
      continue;
    }
    for (std::size_t j = 0; j < c.trusted_peers.size(); ++j)
      if (c.trusted_peers[j] == *network)
        v.fail(peers[i], item_path, "duplicate network " + network->to_string() + " (already listed)");
    c.trusted_peers.push_back(*network);
  }
}

// identity: node — the node's own SVID as the client certificate and its trust bundle as the CAs (a control plane's
// trace window takes spans from the nodes of its trust domain). True when it is set; the files are checked only on
// the node that holds them.
bool read_node_identity(Validator& v, const YAML::Node& o, const std::string& path, OtlpConfig& c) {
  bool node_identity = false;
  v.optional_string(o, "identity", path, [&](const YAML::Node& node, const std::string& s) {
    if (s != "node") v.fail(node, path + "identity", "\"" + s + "\" is not an identity (allowed: node)");
    else if (!c.tls) v.fail(node, path + "identity", "only meaningful with an https:// endpoint");
    else node_identity = true;
  });
  if (!node_identity) return false;
  for (const char* other : {"ca_file", "client_cert", "client_key"})
    if (o[other].IsDefined())
      v.fail(o[other], path + other, "not with identity: node (the node's SVID, key and bundle are the files)");
  const auto dir = tls::declared_node_identity_dir();
  if (!dir) return true;  // checked for another node, whose files are its own
  if (dir->empty()) {
    v.fail(o["identity"], path + "identity", "this node holds no identity: start it with --identity-dir");
    return true;
  }
  c.ca_file = tls::node_bundle_path(*dir);
  c.client_cert = tls::node_cert_path(*dir);
  c.client_key = tls::node_key_path(*dir);
  check_client_tls_files(v, o, path, {c.ca_file, c.client_cert, c.client_key});
  return true;
}

// ca_file, client_cert, client_key: https endpoints only; the two client keys together; files usable.
void read_tls_files(Validator& v, const YAML::Node& o, const std::string& path, OtlpConfig& c) {
  if (read_node_identity(v, o, path, c)) return;
  const std::size_t errors_before = v.errors().size();
  for (const auto& field : {std::pair{"ca_file", &c.ca_file}, {"client_cert", &c.client_cert},
                             {"client_key", &c.client_key}}) {
    const char* key = field.first;
    std::string* out = field.second;
    v.optional_string(o, key, path, [&](const YAML::Node& node, const std::string& s) {
      if (s.empty()) v.fail(node, path + key, "must be the path of a PEM file");
      else if (!c.tls) v.fail(node, path + key, "only meaningful with an https:// endpoint");
      else *out = s;
    });
  }
  if (c.client_cert.empty() != c.client_key.empty()) {
    const char* missing = c.client_cert.empty() ? "client_cert" : "client_key";
    const char* given = c.client_cert.empty() ? "client_key" : "client_cert";
    v.fail(o[given], path + missing,
           std::string("required with ") + given + " (mTLS needs both the certificate and its private key)");
  }
  if (v.errors().size() == errors_before)
    check_client_tls_files(v, o, path, {c.ca_file, c.client_cert, c.client_key});
}

void read_tracing(Validator& v, const YAML::Node& t, TelemetryConfig& c) {
  if (!v.check_mapping(t, "telemetry.tracing", {"sample_ratio", "trust_incoming", "baggage", "capture_content"}))
    return;
  const std::string path = "telemetry.tracing.";
  v.optional_string(t, "sample_ratio", path, [&](const YAML::Node& node, const std::string& s) {
    double ratio = -1;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ratio);
    if (ec != std::errc() || end != s.data() + s.size() || !(ratio >= 0 && ratio <= 1)) {
      v.fail(node, path + "sample_ratio", "\"" + s + "\" is not a ratio from 0 to 1 (e.g. 0.1 samples 10% of new traces)");
      return;
    }
    c.sample_ratio = ratio;
  });
  // Absent: the documented default (authenticated). A missing key is an invalid node: ask IsDefined first.
  const YAML::Node trust = t["trust_incoming"];
  if (trust.IsDefined() && trust.IsMap()) {
    read_trusted_peers(v, trust, c);
  } else if (trust.IsDefined() && trust.IsSequence()) {
    v.fail(trust, path + "trust_incoming", "must be one of: " + kTrustForms);
  } else {
    v.optional_string(t, "trust_incoming", path, [&](const YAML::Node& node, const std::string& s) {
      if (s == "always") c.trust_incoming = TrustIncoming::Always;
      else if (s == "never") c.trust_incoming = TrustIncoming::Never;
      else if (s == "authenticated") c.trust_incoming = TrustIncoming::Authenticated;
      else v.fail(node, path + "trust_incoming", "\"" + s + "\" is not allowed (allowed: " + kTrustForms + ")");
    });
  }
  boolean(v, t, "baggage", path, c.baggage);
  boolean(v, t, "capture_content", path, c.capture_content);
}

void read_otlp(Validator& v, const YAML::Node& o, OtlpConfig& c) {
  if (!v.check_mapping(o, "telemetry.otlp", {"endpoint", "gzip", "timeout", "traces_interval", "metrics_interval",
                                             "queue_size", "batch_size", "ca_file", "client_cert", "client_key", "identity"}))
    return;
  const std::string path = "telemetry.otlp.";
  if (const YAML::Node e = o["endpoint"]; e.IsDefined() && !e.IsNull()) {
    ProviderConfig parsed;  // the URL grammar of a provider's base_url
    const std::size_t errors_before = v.errors().size();
    v.base_url(e, path + "endpoint", parsed);
    if (v.errors().size() == errors_before) {
      c.endpoint = e.Scalar();
      c.tls = parsed.tls;
      c.host = parsed.host;
      c.port = parsed.port;
      c.path_prefix = parsed.path_prefix;
    }
  }
  boolean(v, o, "gzip", path, c.gzip);
  v.duration(o, "timeout", path, c.timeout);
  v.duration(o, "traces_interval", path, c.traces_interval);
  v.duration(o, "metrics_interval", path, c.metrics_interval);
  count(v, o, "queue_size", path, 16, 1'048'576, c.queue_size);
  count(v, o, "batch_size", path, 1, 65'536, c.batch_size);
  read_tls_files(v, o, path, c);
}

void read_metrics(Validator& v, const YAML::Node& m, TelemetryConfig& c) {
  if (!v.check_mapping(m, "telemetry.metrics", {"max_tenants", "max_agents", "max_sessions", "max_models"})) return;
  const std::string path = "telemetry.metrics.";
  count(v, m, "max_tenants", path, 0, 100'000, c.max_tenants);
  count(v, m, "max_agents", path, 0, 100'000, c.max_agents);
  count(v, m, "max_sessions", path, 0, 100'000, c.max_sessions);
  count(v, m, "max_models", path, 0, 100'000, c.max_models);
}

}  // namespace

void read_telemetry_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  read_telemetry_section(v, root, c.telemetry);
}

void read_telemetry_section(Validator& v, const YAML::Node& root, TelemetryConfig& tc) {
  const YAML::Node t = root["telemetry"];
  if (!t.IsDefined() || t.IsNull()) return;
  if (!v.check_mapping(t, "telemetry", {"enabled", "service_name", "tracing", "otlp", "metrics", "access_log",
                                        "decision_log"}))
    return;
  boolean(v, t, "enabled", "telemetry.", tc.enabled);
  v.optional_string(t, "service_name", "telemetry.", [&](const YAML::Node& node, const std::string& s) {
    if (s.empty() || s.size() > 255) v.fail(node, "telemetry.service_name", "must be 1 to 255 characters");
    else tc.service_name = s;
  });
  if (const YAML::Node n = t["tracing"]; n.IsDefined() && !n.IsNull()) read_tracing(v, n, tc);
  if (const YAML::Node n = t["otlp"]; n.IsDefined() && !n.IsNull()) read_otlp(v, n, tc.otlp);
  if (const YAML::Node n = t["metrics"]; n.IsDefined() && !n.IsNull()) read_metrics(v, n, tc);
  log_destination(v, t, "access_log", "telemetry.", tc.access_log);
  log_destination(v, t, "decision_log", "telemetry.", tc.decision_log);
}

}  // namespace tollway::config
