// The memory a burst of traffic makes the gateway take is given back once
// it is quiet again (proxy/runtime/allocator.h): its resident set comes
// back down after the burst instead of staying at its peak, as it did with
// glibc's malloc (from 13 MB to 51 MB after three bursts of big downloads,
// and there for good).
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

// A line of /proc/PID/status ("VmRSS", "VmHWM"), in KiB; -1 when not there.
long status_kib(pid_t pid, const std::string& field) {
  const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
  std::smatch m;
  if (!std::regex_search(status, m, std::regex(field + ":\\s+(\\d+) kB"))) return -1;
  return std::stol(m[1]);
}

class MemoryTest : public GatewayFixture {};

TEST_F(MemoryTest, ABurstsMemoryIsGivenBackOnceTheGatewayIsQuiet) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer's allocator keeps memory its own way";
#endif
  write_text(docroot() / "shop" / "big", std::string(1 << 20, 'x'));
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  ASSERT_TRUE(gateway_->wait_for(std::regex("serving with .*, mimalloc ")))
      << "not on mimalloc: " << gateway_->output();
  const pid_t pid = gateway_->pid();
  const long before = status_kib(pid, "VmRSS");
  ASSERT_GT(before, 0);

  // 1,000 downloads of 1 MiB, 1,000 streams at once: the gateway holds
  // their response bodies in flight.
  ProcessResult load = run_process({"/usr/bin/h2load", "-n", "1000", "-c", "50", "-m", "20", "-H",
                                    ":authority: api.example.com", "-H", "x-account-id: in-asha",
                                    base_ + "/shop/big"}, 120);
  ASSERT_EQ(load.exit_code, 0) << load.err << load.out;
  ASSERT_NE(load.out.find("1000 succeeded"), std::string::npos) << load.out;
  const long peak = status_kib(pid, "VmHWM");
  // Without a burst that took memory, the rest would prove nothing.
  ASSERT_GT(peak - before, 8 * 1024) << "before " << before << " KiB, peak " << peak << " KiB";

  // Quiet now: within a few seconds the workers give back what they hold
  // free, down to half of what the burst added at the most (glibc's malloc
  // kept all of it).
  long now = 0;
  const bool down = wait_until(
      [&] {
        now = status_kib(pid, "VmRSS");
        return now <= before + (peak - before) / 2;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100));
  EXPECT_TRUE(down) << "before " << before << " KiB, peak " << peak << " KiB, still " << now << " KiB";
  // And it serves on as before.
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"}, "/shop/cart");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 200"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace regiongate::testing
