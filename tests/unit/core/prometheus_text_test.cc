#include "core/prometheus_text.h"

#include <gtest/gtest.h>

namespace tollway::core::prometheus {
namespace {

TEST(PrometheusText, FamilyWritesHelpThenType) {
  std::string out;
  family(out, "tollway_x_total", "counter", "Things, by kind.");
  EXPECT_EQ(out, "# HELP tollway_x_total Things, by kind.\n# TYPE tollway_x_total counter\n");
}

TEST(PrometheusText, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("plain/path:443 ü\t"), "plain/path:443 ü\t");
  EXPECT_EQ(labels({{"provider", "open\"ai"}, {"kind", "x\\y"}}), "provider=\"open\\\"ai\",kind=\"x\\\\y\"");
  std::string list;
  add_label(list, "a", "1");
  add_label(list, "b", "two\nlines");
  EXPECT_EQ(list, "a=\"1\",b=\"two\\nlines\"");
}

TEST(PrometheusText, SamplesWithAndWithoutLabels) {
  std::string out;
  sample(out, "tollway_up", "", 1);
  sample(out, "tollway_x_total", labels({{"kind", "a"}}), 18446744073709551615u);
  sample_real(out, "tollway_cost_usd_total", labels({{"tenant", "t"}}), 0.000125);
  sample_real(out, "tollway_cost_usd_total", "", 3);
  sample_text(out, "tollway_gauge", "", "-2");
  EXPECT_EQ(out,
            "tollway_up 1\n"
            "tollway_x_total{kind=\"a\"} 18446744073709551615\n"
            "tollway_cost_usd_total{tenant=\"t\"} 0.000125\n"
            "tollway_cost_usd_total 3\n"
            "tollway_gauge -2\n");
}

TEST(PrometheusText, HistogramWritesCumulativeBucketsInfSumAndCount) {
  std::string out;
  const std::string series_labels = labels({{"route", "/v1"}});
  HistogramWriter labelled(out, "tollway_d_seconds", series_labels);
  labelled.bucket("0.1", 2);
  labelled.bucket("1", 3);
  labelled.end("1.25", 4);
  HistogramWriter bare(out, "tollway_o_seconds", "");
  bare.bucket("0.5", 0);
  bare.end("0", 0);
  EXPECT_EQ(out,
            "tollway_d_seconds_bucket{route=\"/v1\",le=\"0.1\"} 2\n"
            "tollway_d_seconds_bucket{route=\"/v1\",le=\"1\"} 3\n"
            "tollway_d_seconds_bucket{route=\"/v1\",le=\"+Inf\"} 4\n"
            "tollway_d_seconds_sum{route=\"/v1\"} 1.25\n"
            "tollway_d_seconds_count{route=\"/v1\"} 4\n"
            "tollway_o_seconds_bucket{le=\"0.5\"} 0\n"
            "tollway_o_seconds_bucket{le=\"+Inf\"} 0\n"
            "tollway_o_seconds_sum 0\n"
            "tollway_o_seconds_count 0\n");
}

TEST(PrometheusText, RealsAreShortestRoundTrip) {
  std::string out;
  append_real(out, 0.1);
  out += ' ';
  append_real(out, 1e-06);
  out += ' ';
  append_real(out, 250);
  EXPECT_EQ(out, "0.1 1e-06 250");
}

}  // namespace
}  // namespace tollway::core::prometheus
