#include "maps/geoip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace regiongate {
namespace {

namespace fs = std::filesystem;

const std::string kMmdbDir = REGIONGATE_TESTDATA_DIR "/mmdb";
const std::string kLoopbackDb = REGIONGATE_TESTDATA_DIR "/geoip/loopback.mmdb";
const std::string kDemoDb = REGIONGATE_SOURCE_DIR "/examples/geoip/demo.mmdb";

const GeoipRecordPath kCountry = {"country", "iso_code"};
const GeoipRecordPath kRegistered = {"registered_country", "iso_code"};

std::shared_ptr<const GeoipDatabase> open_db(const std::string& path,
                                             std::vector<GeoipRecordPath> paths = {kCountry,
                                                                                   kRegistered}) {
  GeoipOptions options;
  options.path = path;
  options.country_paths = std::move(paths);
  std::string error;
  auto db = GeoipDatabase::open(options, &error);
  EXPECT_NE(db, nullptr) << error;
  EXPECT_TRUE(db == nullptr || error.empty()) << error;
  return db;
}

// "GB", or a status name for anything but kFound, so failures read naturally.
std::string describe(GeoipResult result) {
  if (result.status != GeoipStatus::kFound) return geoip_status_name(result.status);
  if (result.country == kNoCountry) return "found-without-country";
  return std::string(country_code(result.country));
}

// What a known-lookups.tsv cell means for one configured path.
std::string expected(const std::string& cell) {
  if (cell == "NOT_FOUND") return "not-found";
  if (cell == "NONE") return "no-country";
  return cell;
}

// Looks the address up through sockaddr, to cover the other entry point too.
GeoipResult lookup_sockaddr(const GeoipDatabase& db, const std::string& text) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    return db.lookup(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr), 1) << text;
  return db.lookup(reinterpret_cast<const sockaddr*>(&v6));
}

struct KnownLookup {
  std::string ip, db_file, iso_code, registered_iso_code, note;
};

std::vector<KnownLookup> read_known_lookups() {
  std::ifstream in(kMmdbDir + "/known-lookups.tsv");
  EXPECT_TRUE(in) << "cannot read known-lookups.tsv";
  std::vector<KnownLookup> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    KnownLookup row;
    std::getline(fields, row.ip, '\t');
    std::getline(fields, row.db_file, '\t');
    std::getline(fields, row.iso_code, '\t');
    std::getline(fields, row.registered_iso_code, '\t');
    std::getline(fields, row.note);
    rows.push_back(row);
  }
  return rows;
}

TEST(GeoipKnownLookups, EveryRowMatchesMmdblookup) {
  std::vector<KnownLookup> rows = read_known_lookups();
  ASSERT_GE(rows.size(), 30u);
  // One handle per (file, paths): country only, registered only, and the default.
  std::map<std::string, std::shared_ptr<const GeoipDatabase>> country, registered, fallback;
  for (const KnownLookup& row : rows) {
    SCOPED_TRACE(row.ip + " in " + row.db_file + " (" + row.note + ")");
    std::string path = kMmdbDir + "/" + row.db_file;
    if (!country.count(row.db_file)) {
      country[row.db_file] = open_db(path, {kCountry});
      registered[row.db_file] = open_db(path, {kRegistered});
      fallback[row.db_file] = open_db(path);
    }
    ASSERT_NE(country[row.db_file], nullptr);

    EXPECT_EQ(describe(country[row.db_file]->lookup(row.ip)), expected(row.iso_code));
    EXPECT_EQ(describe(lookup_sockaddr(*country[row.db_file], row.ip)), expected(row.iso_code));
    EXPECT_EQ(describe(registered[row.db_file]->lookup(row.ip)), expected(row.registered_iso_code));
    std::string either = expected(row.iso_code) == "no-country" ? expected(row.registered_iso_code)
                                                                : expected(row.iso_code);
    EXPECT_EQ(describe(fallback[row.db_file]->lookup(row.ip)), either);
  }
}

TEST(GeoipDatabase, ReadsMetadata) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->database_type(), "GeoIP2-Country");
  EXPECT_EQ(db->ip_version(), 6);
  EXPECT_GT(db->build_epoch(), 1'300'000'000u);
  EXPECT_EQ(db->path(), kMmdbDir + "/GeoIP2-Country-Test.mmdb");
}

TEST(GeoipDatabase, CountryWinsOverRegisteredCountry) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(describe(db->lookup("81.2.69.142")), "GB");  // registered_country is US
}

TEST(GeoipDatabase, FallsBackToRegisteredCountry) {
  auto db = open_db(kLoopbackDb);
  auto country_only = open_db(kLoopbackDb, {kCountry});
  ASSERT_NE(db, nullptr);
  ASSERT_NE(country_only, nullptr);
  // 127.11/16 has only registered_country NL.
  EXPECT_EQ(describe(db->lookup("127.11.0.1")), "NL");
  EXPECT_EQ(describe(country_only->lookup("127.11.0.1")), "no-country");
  // 127.12/16 says country EU, which is no ISO 3166 country: the next path decides.
  EXPECT_EQ(describe(db->lookup("127.12.0.1")), "DE");
  EXPECT_EQ(describe(country_only->lookup("127.12.0.1")), "no-country");
  // 127.13/16 says only ZZ.
  EXPECT_EQ(describe(db->lookup("127.13.0.1")), "no-country");
  // 127.14/16 says "in": codes from databases are case-insensitive.
  EXPECT_EQ(describe(db->lookup("127.14.0.1")), "IN");
}

TEST(GeoipDatabase, PathsThatDoNotFitTheRecordAreNoCountry) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb",
                    {{"country", "iso_code", "deeper"}, {"continent", "code"}, {"nope"}});
  ASSERT_NE(db, nullptr);
  // iso_code is a string, not a map; continent.code is "EU"; there is no "nope".
  EXPECT_EQ(describe(db->lookup("81.2.69.142")), "no-country");
  auto geoname = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb", {{"country", "geoname_id"}});
  ASSERT_NE(geoname, nullptr);
  EXPECT_EQ(describe(geoname->lookup("81.2.69.142")), "no-country");  // a uint32
}

TEST(GeoipDatabase, MappedIpv4IsLookedUpAsIpv4) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(describe(db->lookup("::ffff:81.2.69.142")), "GB");
  EXPECT_EQ(describe(lookup_sockaddr(*db, "::ffff:81.2.69.142")), "GB");

  auto loopback = open_db(kLoopbackDb);
  ASSERT_NE(loopback, nullptr);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:127.1.2.3", &v6.sin6_addr), 1);
  EXPECT_EQ(describe(loopback->lookup(reinterpret_cast<const sockaddr*>(&v6))), "IN");
}

TEST(GeoipDatabase, Ipv4OnlyDatabase) {
  // Records there are {"ip": "1.1.1.1"}: found, but never a country.
  auto db = open_db(kMmdbDir + "/MaxMind-DB-test-ipv4-24.mmdb", {{"ip"}});
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->ip_version(), 4);
  EXPECT_EQ(describe(db->lookup("1.1.1.1")), "no-country");
  EXPECT_EQ(describe(db->lookup("2.2.2.2")), "not-found");
  // Without normalisation libmaxminddb would refuse these as IPv6.
  EXPECT_EQ(describe(db->lookup("::ffff:1.1.1.1")), "no-country");
  EXPECT_EQ(describe(lookup_sockaddr(*db, "::ffff:1.1.1.1")), "no-country");
  // Real IPv6 addresses cannot be answered by an IPv4 tree.
  EXPECT_EQ(describe(db->lookup("2001:db8::1")), "bad-address");
  EXPECT_EQ(describe(lookup_sockaddr(*db, "::1")), "bad-address");
  EXPECT_EQ(describe(db->lookup("::1.1.1.1")), "bad-address");  // IPv4-compatible is not mapped
}

TEST(GeoipDatabase, RejectsBadAddresses) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_NE(db, nullptr);
  for (std::string_view text :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "example.com",
        "fe80::1%eth0", "2001:db8::1::2", "::ffff:1.2.3", "1:2:3:4:5:6:7:8:9",
        "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000"}) {
    EXPECT_EQ(describe(db->lookup(text)), "bad-address") << "'" << text << "'";
  }
  using std::literals::string_view_literals::operator""sv;
  EXPECT_EQ(describe(db->lookup("81.2.69.142\0junk"sv)), "bad-address");
  EXPECT_EQ(describe(db->lookup(std::string_view("81.2.69.142x", 11))), "GB");  // not terminated

  EXPECT_EQ(describe(db->lookup(static_cast<const sockaddr*>(nullptr))), "bad-address");
  sockaddr_un unix_address{};
  unix_address.sun_family = AF_UNIX;
  EXPECT_EQ(describe(db->lookup(reinterpret_cast<const sockaddr*>(&unix_address))), "bad-address");
}

TEST(GeoipDatabase, LoopbackDatabase) {
  auto db = open_db(kLoopbackDb);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->database_type(), "GeoIP2-Country");
  EXPECT_EQ(db->ip_version(), 6);
  EXPECT_EQ(db->build_epoch(), 1795478400u);  // fixed by scripts/make_geoip_db.pl
  EXPECT_EQ(describe(db->lookup("127.1.2.3")), "IN");
  EXPECT_EQ(describe(db->lookup("::1")), "SG");
  EXPECT_EQ(describe(db->lookup("127.0.0.1")), "not-found");
  EXPECT_EQ(describe(db->lookup("10.0.0.1")), "not-found");
  const std::pair<const char*, const char*> networks[] = {
      {"127.1.0.0", "IN"}, {"127.2.255.255", "CN"},     {"127.3.1.1", "SG"}, {"127.4.1.1", "US"},
      {"127.5.1.1", "BR"}, {"127.6.1.1", "DE"},         {"127.7.1.1", "JP"}, {"127.8.1.1", "GB"},
      {"127.9.1.1", "AU"}, {"127.10.1.1", "no-country"}};
  for (auto [ip, country] : networks) EXPECT_EQ(describe(db->lookup(ip)), country) << ip;

  // 127.10/16 is {"country_code": "FR"}: another vendor's layout.
  auto flat = open_db(kLoopbackDb, {{"country_code"}});
  ASSERT_NE(flat, nullptr);
  EXPECT_EQ(describe(flat->lookup("127.10.0.1")), "FR");
  EXPECT_EQ(describe(flat->lookup("127.1.2.3")), "no-country");
  GeoipRecordPath parsed;
  ASSERT_TRUE(parse_geoip_record_path("country_code", &parsed));
  auto both = open_db(kLoopbackDb, {kCountry, parsed});
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(describe(both->lookup("127.10.0.1")), "FR");
  EXPECT_EQ(describe(both->lookup("127.1.2.3")), "IN");
}

TEST(GeoipDatabase, DemoDatabaseIsTheLoopbackDatabase) {
  std::ifstream a(kDemoDb, std::ios::binary), b(kLoopbackDb, std::ios::binary);
  std::string demo{std::istreambuf_iterator<char>(a), {}};
  std::string loopback{std::istreambuf_iterator<char>(b), {}};
  EXPECT_FALSE(demo.empty());
  EXPECT_TRUE(demo == loopback) << "regenerate both with scripts/make_geoip_db.pl";
}

TEST(GeoipRecordPath, Parses) {
  GeoipRecordPath path;
  ASSERT_TRUE(parse_geoip_record_path("country.iso_code", &path));
  EXPECT_EQ(path, (GeoipRecordPath{"country", "iso_code"}));
  ASSERT_TRUE(parse_geoip_record_path("country_code", &path));
  EXPECT_EQ(path, (GeoipRecordPath{"country_code"}));
  ASSERT_TRUE(parse_geoip_record_path("a.b.c", &path));
  EXPECT_EQ(path, (GeoipRecordPath{"a", "b", "c"}));
  for (std::string_view bad : {"", ".", "a.", ".a", "a..b", "country..iso_code"}) {
    path = {"untouched"};
    EXPECT_FALSE(parse_geoip_record_path(bad, &path)) << "'" << bad << "'";
    EXPECT_EQ(path, (GeoipRecordPath{"untouched"}));
  }
  using std::literals::string_view_literals::operator""sv;
  EXPECT_FALSE(parse_geoip_record_path("a\0b"sv, &path));
}

TEST(GeoipStatusName, NamesEveryStatus) {
  EXPECT_STREQ(geoip_status_name(GeoipStatus::kFound), "found");
  EXPECT_STREQ(geoip_status_name(GeoipStatus::kNotFound), "not-found");
  EXPECT_STREQ(geoip_status_name(GeoipStatus::kNoCountry), "no-country");
  EXPECT_STREQ(geoip_status_name(GeoipStatus::kBadAddress), "bad-address");
  EXPECT_STREQ(geoip_status_name(GeoipStatus::kError), "error");
}

// A fresh directory for files a test writes, removed with the fixture.
class GeoipBadFiles : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "geoip_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // The file must fail to open with a message naming it.
  static void expect_open_fails(const std::string& path,
                                std::vector<GeoipRecordPath> paths = {kCountry, kRegistered}) {
    GeoipOptions options;
    options.path = path;
    options.country_paths = std::move(paths);
    std::string error;
    EXPECT_EQ(GeoipDatabase::open(options, &error), nullptr) << path;
    EXPECT_NE(error.find("cannot open GeoIP database '" + path + "': "), std::string::npos)
        << error;
  }

  // Either open fails naming the file, or lookups answer (any status) without crashing.
  static std::string open_and_poke(const std::string& path) {
    GeoipOptions options;
    options.path = path;
    std::string error;
    auto db = GeoipDatabase::open(options, &error);
    if (db == nullptr) {
      EXPECT_NE(error.find("'" + path + "'"), std::string::npos) << error;
      return "rejected: " + error;
    }
    std::string answers = "opened:";
    for (const char* ip : {"1.1.1.1", "1.1.1.16", "1.1.1.32", "81.2.69.142", "::1",
                           "::ffff:1.1.1.1", "2001:220::1", "127.1.2.3"}) {
      GeoipResult result = db->lookup(ip);
      EXPECT_TRUE(result.status != GeoipStatus::kFound || result.country < country_count());
      answers += std::string(" ") + ip + "=" + describe(result);
    }
    return answers;
  }

  fs::path dir_;
};

TEST_F(GeoipBadFiles, MissingFile) {
  std::string path = (dir_ / "does-not-exist.mmdb").string();
  expect_open_fails(path);
  GeoipOptions options;
  options.path = path;
  std::string error;
  GeoipDatabase::open(options, &error);
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
}

// libmaxminddb opens the path itself and would wait on a FIFO for a writer
// (the test harness's timeout is the deadline), and fail on a device or a
// directory with "No such device" or "Invalid argument": each is named first.
TEST_F(GeoipBadFiles, WhatIsNotARegularFileIsNamed) {
  const std::string fifo = (dir_ / "fifo.mmdb").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::pair<std::string, std::string> cases[] = {
      {dir_.string(), "the GeoIP database is a directory"},
      {"/dev/zero", "the GeoIP database is not a regular file (a character device)"},
      {fifo, "the GeoIP database is not a regular file (a FIFO)"},
  };
  for (const auto& [path, why] : cases) {
    GeoipOptions options;
    options.path = path;
    std::string error;
    EXPECT_EQ(GeoipDatabase::open(options, &error), nullptr) << path;
    EXPECT_EQ(error, "cannot open GeoIP database '" + path + "': " + why);
  }
}

TEST_F(GeoipBadFiles, EmptyFile) { expect_open_fails(write("empty.mmdb", "")); }

TEST_F(GeoipBadFiles, TruncatedFiles) {
  std::string good = read(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_GT(good.size(), 4096u);
  expect_open_fails(write("half.mmdb", good.substr(0, good.size() / 2)));
  expect_open_fails(write("no-tail.mmdb", good.substr(0, good.size() - 100)));
  // Metadata intact, most of the search tree and data gone.
  expect_open_fails(write("no-body.mmdb", good.substr(0, 64) + good.substr(good.size() - 2048)));
  expect_open_fails(write("garbage.mmdb", std::string(4096, '\x5a')));
}

TEST_F(GeoipBadFiles, InvalidCountryPaths) {
  expect_open_fails(kLoopbackDb, {});
  expect_open_fails(kLoopbackDb, {{}});
  expect_open_fails(kLoopbackDb, {kCountry, {"country", ""}});
}

TEST_F(GeoipBadFiles, MaxMindBrokenDatabases) {
  std::vector<fs::path> files;
  for (const char* sub : {"/broken", "/bad-data/libmaxminddb"}) {
    for (const fs::directory_entry& entry : fs::directory_iterator(kMmdbDir + sub)) {
      if (entry.path().extension() == ".mmdb") files.push_back(entry.path());
    }
  }
  ASSERT_EQ(files.size(), 17u);
  for (const fs::path& file : files) {
    std::string outcome = open_and_poke(file.string());
    std::cout << "  " << file.filename().string() << ": " << outcome << "\n";
  }
  // These fail MMDB_open itself in every libmaxminddb release we know of.
  expect_open_fails(kMmdbDir + "/broken/GeoIP2-City-Test-Invalid-Node-Count.mmdb");
  expect_open_fails(kMmdbDir + "/bad-data/libmaxminddb/libmaxminddb-metadata-marker-only.mmdb");
  expect_open_fails(kMmdbDir + "/bad-data/libmaxminddb/libmaxminddb-offset-integer-overflow.mmdb");
}

// Every byte of a small database inverted in turn: rejected, or answers.
TEST_F(GeoipBadFiles, EveryByteOfTheLoopbackDatabaseCorrupted) {
  std::string good = read(kLoopbackDb);
  ASSERT_GT(good.size(), 1000u);
  std::string path = write("corrupt.mmdb", good);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  int rejected = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    // Patch one byte in place (and put it back): rewriting the file each time is
    // most of the cost.
    file.seekp(static_cast<std::streamoff>(i)).put(static_cast<char>(~good[i])).flush();
    rejected += open_and_poke(path).starts_with("rejected");
    file.seekp(static_cast<std::streamoff>(i)).put(good[i]).flush();
  }
  ASSERT_TRUE(file.good());
  EXPECT_GT(rejected, 0);
}

// Replacing a database as operators do (docs/operators.md): a complete new
// file renamed over the configured path, then a reload. A database already
// open keeps answering from its own mapping of the old file (unlinked by the
// rename, alive while mapped) until its last user lets go; the next open
// reads the new file. Same temporary directory as GeoipBadFiles.
using GeoipReplacedFile = GeoipBadFiles;

TEST_F(GeoipReplacedFile, AnOpenDatabaseKeepsItsMappingWhenANewFileIsRenamedOverIt) {
  const std::string path = write("geoip.mmdb", read(kLoopbackDb));
  auto before = open_db(path);
  ASSERT_NE(before, nullptr);
  write("geoip.mmdb.new", read(kMmdbDir + "/GeoIP2-Country-Test.mmdb"));
  fs::rename(dir_ / "geoip.mmdb.new", path);
  auto after = open_db(path);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(describe(before->lookup("127.1.2.3")), "IN");
  EXPECT_EQ(describe(before->lookup("81.2.69.142")), "not-found");
  EXPECT_EQ(describe(after->lookup("127.1.2.3")), "not-found");
  EXPECT_EQ(describe(after->lookup("81.2.69.142")), "GB");
  EXPECT_EQ(before->path(), after->path());
}

TEST(GeoipConcurrency, ManyThreadsShareOneDatabase) {
  auto db = open_db(kMmdbDir + "/GeoIP2-Country-Test.mmdb");
  ASSERT_NE(db, nullptr);
  const std::vector<std::string> ips = {"81.2.69.142", "2.125.160.216", "175.16.199.1",
                                        "2001:218::1", "2001:220::1",   "::ffff:89.160.20.112",
                                        "1.1.1.1",     "214.1.1.1",     "not an address"};
  std::vector<std::string> want;
  for (const std::string& ip : ips) want.push_back(describe(db->lookup(ip)));

  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Each thread holds its own reference, as a request does.
    threads.emplace_back([db, t, &ips, &want, &mismatches] {
      for (int round = 0; round < kRounds; ++round) {
        std::size_t i = (round + t) % ips.size();
        if (describe(db->lookup(ips[i])) != want[i]) mismatches.fetch_add(1);
      }
    });
  }
  // The owner letting go (as a reload does) must not pull the file from under them.
  db.reset();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace regiongate
