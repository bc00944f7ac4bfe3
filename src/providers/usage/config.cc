#include "providers/usage/config.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/embedded_config.h"
#include "core/glob.h"

namespace tollway::config {

std::optional<int64_t> parse_micro_usd(const std::string& text, int64_t max_whole) {
  if (text.empty() || text.size() > 20 || text.front() == '.' || text.back() == '.') return std::nullopt;
  int64_t whole = 0, fraction = 0;
  int decimals = -1;
  for (char ch : text) {
    if (ch == '.') {
      if (decimals >= 0) return std::nullopt;
      decimals = 0;
      continue;
    }
    if (ch < '0' || ch > '9') return std::nullopt;
    if (decimals < 0) {
      whole = whole * 10 + (ch - '0');
      if (whole > max_whole) return std::nullopt;
    } else {
      if (++decimals > 6) return std::nullopt;
      fraction = fraction * 10 + (ch - '0');
    }
  }
  for (int d = decimals < 0 ? 0 : decimals; d < 6; ++d) fraction *= 10;
  return whole * 1'000'000 + fraction;
}

std::optional<int64_t> parse_price(const std::string& text) {
  return parse_micro_usd(text, 1'000'000);  // $1M per 1M tokens is not a price
}

namespace {

const std::vector<std::string> kPriceKeys = {"input", "output", "cached_input", "cache_write"};

// Reads {input, output, cached_input?, cache_write?}; cached_input defaults to input, cache_write to input.
bool read_price(Validator& v, const YAML::Node& n, const std::string& path, Price& out) {
  if (!v.check_mapping(n, path, kPriceKeys)) return false;
  bool ok = true;
  auto one = [&](const char* key, int64_t& into, bool required) {
    const YAML::Node node = n[key];
    if (!node.IsDefined() || node.IsNull()) {
      if (required) {
        v.fail(n, path + "." + key, "required: USD per 1M tokens, e.g. 2.50");
        ok = false;
      }
      return false;
    }
    auto s = v.string_value(node, path + "." + key);
    if (!s) return ok = false;
    auto p = parse_price(*s);
    if (!p) {
      v.fail(node, path + "." + key, "\"" + *s + "\" is not a price (USD per 1M tokens, e.g. 2.50, at most 6 decimals)");
      return ok = false;
    }
    into = *p;
    return true;
  };
  one("input", out.input, true);
  one("output", out.output, true);
  if (!one("cached_input", out.cached_input, false)) out.cached_input = out.input;
  if (!one("cache_write", out.cache_write, false)) out.cache_write = out.input;
  return ok;
}

void read_model_prices(Validator& v, const YAML::Node& list, const std::string& path, std::vector<ModelPrice>& out) {
  if (!list.IsSequence()) {
    v.fail(list, path, "must be a list of {match, input, output, cached_input?, cache_write?, max_output_tokens?}");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const YAML::Node n = list[i];
    if (!n.IsMap()) {
      v.fail(n, item_path, "must be a mapping {match, input, output, cached_input?, cache_write?, max_output_tokens?}");
      continue;
    }
    ModelPrice mp;
    if (!n["match"].IsDefined()) {
      v.fail(n, item_path + ".match", "required: a model name glob such as \"gpt-4o-mini*\"");
      continue;
    }
    auto m = v.string_value(n["match"], item_path + ".match");
    if (!m) continue;
    if (auto err = glob_syntax_error(*m); !err.empty()) {
      v.fail(n["match"], item_path + ".match", std::string(err));
      continue;
    }
    mp.pattern = *m;
    YAML::Node price_only = YAML::Clone(n);
    price_only.remove("match");
    if (const YAML::Node limit = n["max_output_tokens"]; limit.IsDefined()) {
      price_only.remove("max_output_tokens");
      auto text = v.string_value(limit, item_path + ".max_output_tokens");
      uint64_t tokens = 0;
      const auto [end, ec] = text ? std::from_chars(text->data(), text->data() + text->size(), tokens)
                                  : std::from_chars_result{nullptr, std::errc::invalid_argument};
      if (!text || ec != std::errc() || end != text->data() + text->size() || tokens == 0 || tokens > 10'000'000) {
        if (text) v.fail(limit, item_path + ".max_output_tokens", "\"" + *text + "\" is not a token count (1-10000000)");
        continue;
      }
      mp.max_output_tokens = tokens;
    }
    if (read_price(v, price_only, item_path, mp.price)) out.push_back(std::move(mp));
  }
}

}  // namespace

void read_pricing_section(Validator& v, const YAML::Node& root, const std::string& config_file, GatewayConfig& c) {
  const YAML::Node p = root["pricing"];
  if (!p.IsDefined() || p.IsNull()) return;
  if (!v.check_mapping(p, "pricing", {"file", "default", "models", "unpriced"})) return;
  v.optional_string(p, "unpriced", "pricing.", [&](const YAML::Node& node, const std::string& s) {
    if (s == "deny") c.pricing.unpriced = Unpriced::Deny;
    else if (s == "default") c.pricing.unpriced = Unpriced::Default;
    else if (s == "allow") c.pricing.unpriced = Unpriced::Allow;
    else v.fail(node, "pricing.unpriced", "\"" + s + "\" is not one of deny, default, allow");
  });
  if (p["models"].IsDefined()) read_model_prices(v, p["models"], "pricing.models", c.pricing.models);
  if (p["default"].IsDefined()) read_price(v, p["default"], "pricing.default", c.pricing.default_price);
  v.optional_string(p, "file", "pricing.", [&](const YAML::Node& node, const std::string& s) {
    std::filesystem::path file(s);
    // The embedded config's relative price file is the embedded copy; any other config's is on disk, next to it.
    const std::optional<std::string_view> embedded =
        config_file == kEmbeddedConfigName && file.is_relative() ? embedded_config_file(s) : std::nullopt;
    if (embedded) {
      file = "embedded:" + s;
    } else if (config_file == kEmbeddedConfigName && file.is_relative()) {
      v.fail(node, "pricing.file", "\"" + s + "\" is not embedded in the binary (the embedded config can name pricing.yaml)");
      return;
    } else if (file.is_relative()) {
      file = std::filesystem::path(config_file).parent_path() / file;
    }
    std::string text;
    if (embedded) {
      text = *embedded;
    } else {
      // A directory or a device opens like a file and then fails (or never ends) on the first read.
      std::error_code ec;
      std::ifstream in;
      if (std::filesystem::is_regular_file(file, ec)) in.open(file, std::ios::binary);
      if (!in.is_open()) {
        v.fail(node, "pricing.file", "cannot read \"" + file.string() + "\" (not a readable regular file)");
        return;
      }
      std::ostringstream bytes;
      bytes << in.rdbuf();
      text = std::move(bytes).str();
    }
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      v.fail(node, "pricing.file", "\"" + file.string() + "\" line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
      return;
    }
    // Errors inside the price file are reported with the file's own name and lines.
    const EnvLookup no_environment = [](const std::string&) { return std::optional<std::string>(); };
    Validator file_validator(file.string(), no_environment);
    if (file_validator.check_mapping(doc, "", {"version", "as_of", "source", "models"})) {
      if (!doc["version"].IsDefined()) file_validator.fail(doc, "version", "required: the price table's version");
      else if (auto ver = file_validator.string_value(doc["version"], "version")) c.pricing.table_version = *ver;
      if (doc["models"].IsDefined()) read_model_prices(file_validator, doc["models"], "models", c.pricing.models);
    }
    for (auto& e : file_validator.errors()) v.errors().push_back(std::move(e));
    c.pricing.file = file.string();
  });
}

void read_usage_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node u = root["usage"];
  if (!u.IsDefined() || u.IsNull()) return;
  if (!v.check_mapping(u, "usage", {"drain_time", "drain_bytes", "log"})) return;
  v.optional_string(u, "log", "usage.", [&](const YAML::Node& node, const std::string& s) {
    if (s == "true") c.usage.log_calls = true;
    else if (s == "false") c.usage.log_calls = false;
    else v.fail(node, "usage.log", "\"" + s + "\" is not a boolean (true or false)");
  });
  v.duration(u, "drain_time", "usage.", c.usage.drain_time);
  v.size(u, "drain_bytes", "usage.", c.usage.drain_bytes);
}

}  // namespace tollway::config
