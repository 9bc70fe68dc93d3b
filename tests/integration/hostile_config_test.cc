// Hostile configuration files, through the real binary: a device, a FIFO or
// a directory where a file should be, a file far over its bound, nesting
// too deep, text that is not UTF-8. Each is refused with exit status 1 and a
// message that names the path and says what is wrong, and none of them
// blocks: every command runs under run_process's deadline (a FIFO used to
// block for ever, /dev/zero to read until bad_alloc).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/run_process.h"
#include "tests/integration/test_certs.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = REGIONGATE_BINARY;
const fs::path kExamples = fs::path(REGIONGATE_SOURCE_DIR) / "examples";
// Far longer than any of these takes, far shorter than blocking for ever.
constexpr double kDeadline = 30;

class HostileConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("regiongate-hostile-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(kExamples, dir_, fs::copy_options::recursive);
    config_ = (dir_ / "regiongate.yaml").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string text_of(const std::string& file) { return read_text(dir_ / file); }
  // Replaces the first `from` in the copied `file` with `to`.
  void edit(const std::string& file, const std::string& from, const std::string& to) {
    edit_text(dir_ / file, from, to);
  }
  // A FIFO nobody writes to, in the copy; its path.
  std::string fifo(const std::string& name) {
    const std::string path = (dir_ / name).string();
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
    return path;
  }
  ProcessResult run(const std::string& command, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kBinary, command, "--config", config_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, kDeadline);
  }
  // `check` fails (exit 1, not killed at the deadline) and says `message`.
  void expect_check_says(const std::string& message) {
    ProcessResult r = run("check");
    EXPECT_EQ(r.exit_code, 1) << "(-1: it did not return)\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }

  fs::path dir_;
  std::string config_;
};

TEST_F(HostileConfig, APolicyThatIsADeviceAFifoOrADirectory) {
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "policy: policy.yaml", "policy: /dev/zero"));
  expect_check_says("/dev/zero: error: the YAML file is not a regular file (a character device)");
  expect_check_says(config_ + ":12:9: error: policy: cannot use '/dev/zero' (see above)");

  const std::string pipe = fifo("policy.fifo");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "policy: /dev/zero", "policy: policy.fifo"));
  expect_check_says(pipe + ": error: the YAML file is not a regular file (a FIFO)");

  fs::create_directory(dir_ / "policy.d");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "policy: policy.fifo", "policy: policy.d"));
  expect_check_says((dir_ / "policy.d").string() + ": error: the YAML file is a directory");
}

TEST_F(HostileConfig, TheConfigurationAndTheDataCentresFileAsFifos) {
  const std::string datacenters = fifo("datacenters.fifo");
  ASSERT_NO_FATAL_FAILURE(
      edit("regiongate.yaml", "datacenters: datacenters.yaml", "datacenters: datacenters.fifo"));
  expect_check_says(datacenters + ": error: the YAML file is not a regular file (a FIFO)");

  config_ = fifo("regiongate.fifo");
  expect_check_says(config_ + ": error: the YAML file is not a regular file (a FIFO)");
  ProcessResult serve = run("serve");
  EXPECT_EQ(serve.exit_code, 1) << serve.err;
  EXPECT_NE(serve.err.find(config_ + ": error: the YAML file is not a regular file (a FIFO)"),
            std::string::npos)
      << serve.err;
}

TEST_F(HostileConfig, TheDirectoryFileAndTheGeoipDatabase) {
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "file: accounts.csv", "file: /dev/zero"));
  expect_check_says(
      "/dev/zero: error: the account directory file is not a regular file (a character device)");
  const std::string accounts = fifo("accounts.fifo");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "file: /dev/zero", "file: accounts.fifo"));
  expect_check_says(accounts + ": error: the account directory file is not a regular file (a FIFO)");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "file: accounts.fifo", "file: geoip"));
  expect_check_says((dir_ / "geoip").string() + ": error: the account directory file is a directory");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "file: geoip", "file: accounts.csv"));

  const std::string database = fifo("geoip.fifo");
  ASSERT_NO_FATAL_FAILURE(
      edit("regiongate.yaml", "database: geoip/demo.mmdb", "database: geoip.fifo"));
  expect_check_says(config_ + ":31:13: error: geoip.database: cannot open GeoIP database '" +
                    database + "': the GeoIP database is not a regular file (a FIFO)");
  ASSERT_NO_FATAL_FAILURE(edit("regiongate.yaml", "database: geoip.fifo", "database: /dev/zero"));
  expect_check_says("cannot open GeoIP database '/dev/zero': the GeoIP database is not a regular "
                    "file (a character device)");
}

// 50 MB of valid YAML (yaml-cpp would take minutes and gigabytes): refused
// for its size before a byte is parsed.
TEST_F(HostileConfig, AFiftyMegabytePolicyIsRefusedAtOnceForItsSize) {
  {
    std::ofstream out(dir_ / "policy.yaml", std::ios::app);
    out << "padding: [";
    const std::string chunk = [] {
      std::string s;
      for (int i = 0; i < 1000; ++i) s += "1,";
      return s;
    }();
    for (int i = 0; i < 25'000; ++i) out << chunk;
    out << "1]\n";
  }
  const std::uint64_t size = fs::file_size(dir_ / "policy.yaml");
  ASSERT_GT(size, 50'000'000u);
  expect_check_says((dir_ / "policy.yaml").string() + ": error: the YAML file is " +
                    std::to_string(size) + " bytes, more than the 4 MiB allowed");
}

TEST_F(HostileConfig, NestingTooDeepIsNamedWithItsPlace) {
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "    note: Chinese accounts stay in China.\n",
                               "    note: " + std::string(600, '[') + std::string(600, ']') + "\n"));
  expect_check_says((dir_ / "policy.yaml").string() +
                    ":40:506: error: YAML nested too deeply (yaml-cpp reads 500 levels of lists "
                    "and maps at most)");
  ProcessResult r = run("check");
  EXPECT_EQ(r.err.find("bad file"), std::string::npos) << r.err;
}

// A deny reason that is not UTF-8 passed check, and explain printed it as
// U+FFFD (it aborted before the JSON writer replaced such bytes).
TEST_F(HostileConfig, TextThatIsNotUtf8IsRefusedByCheckAndExplain) {
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "    until: 2015-06-01\n    allow: [US, SG]\n",
                               "    until: 2015-06-01\n    deny: \"caf\xe9 closed\"\n"));
  const std::string error = (dir_ / "policy.yaml").string() +
                            ":81:11: error: rules[6].deny: not UTF-8: byte 4 of the value is 0xE9";
  expect_check_says(error);
  ProcessResult explain =
      run("explain", {"--country", "BR", "--service", "shop", "--at", "2015-01-01T00:00:00Z"});
  EXPECT_EQ(explain.exit_code, 1) << explain.out;
  EXPECT_NE(explain.err.find(error), std::string::npos) << explain.err;
  EXPECT_EQ(explain.out, "");
}

// serve could not even be stopped: its signals are blocked for the event
// loops while OpenSSL waited in open() for the FIFO's writer.
TEST_F(HostileConfig, ServeRefusesAFifoAsACertificate) {
  TestCertificates certs(dir_ / "certs");
  TestCertificate api = certs.issue("api", {"api.example.com"});
  const std::string cert = fifo("api.fifo");
  std::ofstream(config_, std::ios::app) << "    - address: 127.0.0.1:0\n"
                                           "      tls:\n"
                                           "        certificates:\n"
                                           "          - {cert: " << cert << ", key: " << api.key
                                        << "}\n";
  std::string text = text_of("regiongate.yaml");
  text.replace(text.find("127.0.0.1:18080"), 15, "127.0.0.1:0");
  std::ofstream(config_) << text;
  ProcessResult r = run("serve");
  EXPECT_EQ(r.exit_code, 1) << "(-1: it did not return)\n" << r.err;
  EXPECT_NE(r.err.find("cannot load certificate '" + cert +
                       "': the certificate file is not a regular file (a FIFO)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace regiongate::testing
