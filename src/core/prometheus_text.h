// Prometheus text exposition format (version 0.0.4), the one writer every /metrics renderer uses: a family's
// HELP and TYPE lines, samples with label values escaped (backslash, double quote, newline), and a
// histogram's cumulative buckets, _sum and _count. It only appends text; it never checks names or types,
// never sorts, and never keeps state between calls.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tollway::core::prometheus {

// "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram).
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// A label value as it appears between the quotes: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(std::string_view value);

// Appends name="value" (value escaped) to a rendered label list, after a comma unless the list is empty.
void add_label(std::string& labels, std::string_view name, std::string_view value);

// The rendered label list a="x",b="y" (values escaped), for `sample` and `HistogramWriter`.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

// "name{labels} value\n", or "name value\n" when `labels` (a rendered list) is empty.
void sample(std::string& out, std::string_view name, std::string_view labels, uint64_t value);
// The same with a real value in its shortest round-trip form (e.g. 0.25, 1e-06).
void sample_real(std::string& out, std::string_view name, std::string_view labels, double value);
// The same with a value already written as text (a renderer that keeps its own number format).
void sample_text(std::string& out, std::string_view name, std::string_view labels, std::string_view value);
// The shortest round-trip text of a real number, as `sample_real` writes it.
void append_real(std::string& out, double value);

// One histogram series: bucket() for each finite bound in increasing order with its cumulative count, then
// end() writes the +Inf bucket, _sum and _count. Bounds and the sum are passed as text so that each histogram
// keeps its number format.
class HistogramWriter {
 public:
  HistogramWriter(std::string& out, std::string_view name, std::string_view labels)
      : out_(out), name_(name), labels_(labels) {}
  void bucket(std::string_view le, uint64_t cumulative);
  void end(std::string_view sum, uint64_t count);

 private:
  std::string& out_;
  std::string_view name_;
  std::string_view labels_;
};

}  // namespace tollway::core::prometheus
