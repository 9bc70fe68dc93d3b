// server.health.nearest and latency_tolerance, server.audit_log.required:
// read, defaulted, refused with their place, and restart changes.

#include <gtest/gtest.h>

#include "proxy/config/server_config.h"
#include "tests/proxy/config/read_server_config.h"

namespace regiongate {
namespace {

using testing::Read;
using testing::read;

TEST(HealthNearestConfig, DistanceByDefault) {
  Read r = read("server:\n  health: {interval: 1s}\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  EXPECT_EQ(r.config.startup.health.nearest, HealthSettings::Nearest::kDistance);
  EXPECT_EQ(r.config.startup.health.latency_tolerance, Milliseconds(5));
  EXPECT_EQ(r.diags.warning_count(), 0);
}

TEST(HealthNearestConfig, LatencyWithATolerance) {
  Read r = read("server:\n  health: {nearest: latency, latency_tolerance: 20ms}\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  EXPECT_TRUE(r.config.startup.health.enabled);
  EXPECT_EQ(r.config.startup.health.nearest, HealthSettings::Nearest::kLatency);
  EXPECT_EQ(r.config.startup.health.latency_tolerance, Milliseconds(20));
}

TEST(HealthNearestConfig, ErrorsNameThePlace) {
  Read r = read(R"(
server:
  health:
    nearest: fastest
    latency_tolerance: 0s
)");
  std::string all = r.diags.format_all();
  for (const char* want : {
           ":4:14: error: server.health.nearest: 'distance' or 'latency', not 'fastest'",
           ":5:24: error: server.health.latency_tolerance: a positive duration",
       }) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\nin:\n" << all;
  }
}

TEST(HealthNearestConfig, AToleranceWithoutLatencyIsAWarning) {
  Read r = read("server:\n  health: {latency_tolerance: 10ms}\n");
  EXPECT_FALSE(r.diags.has_errors());
  EXPECT_NE(
      r.diags.format_all().find("latency_tolerance: has an effect only with nearest: latency"),
      std::string::npos)
      << r.diags.format_all();
}

TEST(HealthNearestConfig, ChangingItNeedsARestart) {
  Read a = read("server:\n  health: {nearest: distance}\n");
  Read b = read("server:\n  health: {nearest: latency}\n");
  std::vector<std::string> changes = restart_changes(a.config, b.config);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "server.health: changed");
}

TEST(AuditRequiredConfig, OffByDefaultAndReadWhenGiven) {
  Read plain = read("server:\n  audit_log: {file: audit.log}\n");
  ASSERT_FALSE(plain.diags.has_errors()) << plain.diags.format_all();
  EXPECT_FALSE(plain.config.startup.audit_log.required);
  Read required = read("server:\n  audit_log: {file: audit.log, required: true}\n");
  ASSERT_FALSE(required.diags.has_errors()) << required.diags.format_all();
  EXPECT_TRUE(required.config.startup.audit_log.required);
  std::vector<std::string> changes = restart_changes(plain.config, required.config);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "server.audit_log: changed");
}

TEST(AuditRequiredConfig, ErrorsNameThePlace) {
  Read r = read(R"(
server:
  audit_log: {file: audit.log, required: yes please}
)");
  Read off = read(R"(
server:
  audit_log: {file: "off", required: true}
)");
  EXPECT_NE(r.diags.format_all().find(
                ":3:42: error: server.audit_log.required: must be true or false, not 'yes please'"),
            std::string::npos)
      << r.diags.format_all();
  EXPECT_NE(off.diags.format_all().find(
                ":3:38: error: server.audit_log.required: a required audit log needs a file"),
            std::string::npos)
      << off.diags.format_all();
}

}  // namespace
}  // namespace regiongate
