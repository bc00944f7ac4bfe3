#include "config/azure_section.h"

#include <set>

namespace tollway::config {
namespace {

// Deployment names and api-version values go into a URL path or query as written: letters, digits, '-', '_', '.'.
bool is_url_word(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                    ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

void read_deployments(Validator& v, const YAML::Node& node, const std::string& path, AzureConfig& azure) {
  if (!node.IsMap()) {
    v.fail(node, path, "must map model names to deployment names, e.g. {gpt-4o: my-gpt4o-deployment}");
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string model = kv.first.as<std::string>();
    const std::string item_path = path + "." + model;
    if (!seen.insert(model).second) v.fail(kv.first, item_path, "duplicate model");
    if (model.empty() || model.find_first_of("*?[\"\\") != std::string::npos) {
      v.fail(kv.first, item_path, "must be a model name (no glob characters or quotes)");
      continue;
    }
    auto deployment = v.string_value(kv.second, item_path);
    if (!deployment) continue;
    if (!is_url_word(*deployment)) {
      v.fail(kv.second, item_path, "\"" + *deployment + "\" is not a deployment name (1-128 letters, digits, '-', '_', '.')");
      continue;
    }
    azure.deployments.emplace_back(model, *deployment);
  }
}

}  // namespace

void read_azure_block(Validator& v, const YAML::Node& node, const std::string& path, ProviderConfig& p) {
  if (!node.IsMap()) {
    v.fail(node, path, "must be a mapping {api_version, deployments, url_form}");
    return;
  }
  if (!v.check_mapping(node, path, {"api_version", "deployments", "url_form"})) return;
  if (p.api != Api::OpenAI) {
    v.fail(node, path, std::string("only an api: openai provider can be Azure OpenAI (this one is ") + api_name(p.api) + ")");
    return;
  }
  AzureConfig azure;
  v.optional_string(node, "url_form", path + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s == "deployments") azure.url_form = AzureConfig::UrlForm::Deployments;
    else if (s == "v1") azure.url_form = AzureConfig::UrlForm::V1;
    else v.fail(n, path + ".url_form", "\"" + s + "\" is not a URL form (allowed: deployments, v1)");
  });
  v.optional_string(node, "api_version", path + ".", [&](const YAML::Node& n, const std::string& s) {
    if (!is_url_word(s)) v.fail(n, path + ".api_version", "\"" + s + "\" is not an api-version (e.g. 2024-10-21)");
    else azure.api_version = s;
  });
  if (!node["api_version"].IsDefined() && azure.url_form == AzureConfig::UrlForm::Deployments)
    v.fail(node, path + ".api_version",
           "required with the deployments URL form: the Azure OpenAI api-version, e.g. 2024-10-21 "
           "(or url_form: v1 for the /openai/v1 API)");
  if (node["deployments"].IsDefined() && !node["deployments"].IsNull())
    read_deployments(v, node["deployments"], path + ".deployments", azure);
  p.azure = std::move(azure);
}

}  // namespace tollway::config
