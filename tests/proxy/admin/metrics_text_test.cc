#include "proxy/admin/metrics_text.h"

#include <gtest/gtest.h>

#include <thread>

namespace regiongate {
namespace {

TEST(MetricsText, AddsUpWorkersAndWritesCumulativeBuckets) {
  WorkerMetrics a, b;
  a.request_ended("IN", "mumbai", 200, "", false, 300);      // 0.3 ms
  b.request_ended("IN", "mumbai", 200, "", false, 3000);     // 3 ms
  b.request_ended("", "", 451, "forbidden", false, 20);
  b.request_ended("IN", "singapore", 200, "", true, 20'000'000);  // 20 s: +Inf only
  MetricsInput in;
  in.workers = {&a, &b};
  in.snapshot_version = 7;
  const std::string text = prometheus_text(in);
  EXPECT_NE(text.find("regiongate_requests_total{country=\"IN\",datacenter=\"mumbai\",status=\"200\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("regiongate_requests_total{country=\"unknown\",datacenter=\"none\",status=\"451\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("regiongate_denials_total{reason=\"forbidden\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("regiongate_failovers_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("_bucket{le=\"0.0005\"} 2\n"), std::string::npos) << text;  // 20 µs, 300 µs
  EXPECT_NE(text.find("_bucket{le=\"0.005\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("_bucket{le=\"10\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("regiongate_request_duration_seconds_count 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("regiongate_snapshot_version 7\n"), std::string::npos) << text;
  // Every family has its HELP and TYPE before its samples.
  EXPECT_NE(text.find("# HELP regiongate_requests_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE regiongate_request_duration_seconds histogram\n"), std::string::npos);
}

// The admin thread reads while a worker writes: every read is a count the
// writer really had, and the last one is the total.
TEST(MetricsText, ReadsWhileAWorkerCountsNewLabelsAndOldOnes) {
  WorkerMetrics w;
  constexpr int kRequests = 200000;
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      w.request_ended("IN", i % 2 ? "mumbai" : "dc-" + std::to_string(i % 50), 200, "", false, 1);
    }
  });
  std::uint64_t last = 0;
  for (int reads = 0; reads < 200; ++reads) {
    std::uint64_t total = 0;
    w.requests.for_each([&](std::string_view, std::uint64_t v) { total += v; });
    EXPECT_LE(total, static_cast<std::uint64_t>(kRequests));
    EXPECT_GE(w.duration.count() + kRequests, total);
    last = total;
  }
  writer.join();
  std::uint64_t total = 0;
  w.requests.for_each([&](std::string_view, std::uint64_t v) { total += v; });
  EXPECT_EQ(total, static_cast<std::uint64_t>(kRequests));
  EXPECT_GE(total, last);
}

TEST(MetricsText, LabelValuesAreEscaped) {
  WorkerMetrics w;
  w.request_ended("IN", "a\"b\\c\nd", 200, "", false, 1);
  MetricsInput in;
  in.workers = {&w};
  EXPECT_NE(prometheus_text(in).find("datacenter=\"a\\\"b\\\\c\\nd\""), std::string::npos);
}

}  // namespace
}  // namespace regiongate
