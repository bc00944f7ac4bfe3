#include "core/prometheus_text.h"

#include <charconv>

namespace tollway::core::prometheus {
namespace {

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels) {
  out.append(name).append(suffix);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.push_back(' ');
}

}  // namespace

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).push_back('\n');
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

void add_label(std::string& labels, std::string_view name, std::string_view value) {
  if (!labels.empty()) labels.push_back(',');
  labels.append(name).append("=\"").append(escape_label_value(value)).push_back('"');
}

std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) add_label(out, name, value);
  return out;
}

void sample(std::string& out, std::string_view name, std::string_view labels, uint64_t value) {
  append_series(out, name, "", labels);
  out.append(std::to_string(value)).push_back('\n');
}

void append_real(std::string& out, double value) {
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, value);
  out.append(text, r.ptr);
}

void sample_real(std::string& out, std::string_view name, std::string_view labels, double value) {
  append_series(out, name, "", labels);
  append_real(out, value);
  out.push_back('\n');
}

void sample_text(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
  append_series(out, name, "", labels);
  out.append(value).push_back('\n');
}

void HistogramWriter::bucket(std::string_view le, uint64_t cumulative) {
  out_.append(name_).append("_bucket{").append(labels_);
  if (!labels_.empty()) out_.push_back(',');
  out_.append("le=\"").append(le).append("\"} ").append(std::to_string(cumulative)).push_back('\n');
}

void HistogramWriter::end(std::string_view sum, uint64_t count) {
  bucket("+Inf", count);
  append_series(out_, name_, "_sum", labels_);
  out_.append(sum).push_back('\n');
  append_series(out_, name_, "_count", labels_);
  out_.append(std::to_string(count)).push_back('\n');
}

}  // namespace tollway::core::prometheus
