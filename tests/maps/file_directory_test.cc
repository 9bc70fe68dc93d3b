#include "maps/file_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace regiongate {
namespace {

// A file in the test temp directory, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    static int counter = 0;
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = testing::TempDir() + "regiongate_" + info->name() + "_" + std::to_string(::getpid()) +
            "_" + std::to_string(counter++) + ".csv";
    std::ofstream out(path_, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

CountryId cc(std::string_view code) { return country_from_code(code).value(); }

DirectoryResult found(std::string_view code) { return {DirectoryStatus::kFound, cc(code)}; }

::testing::AssertionResult same(const DirectoryResult& want, const DirectoryResult& got) {
  if (want.status == got.status && want.country == got.country) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "want status " << int(want.status) << " country " << want.country << ", got status "
         << int(got.status) << " country " << got.country;
}

constexpr DirectoryResult kMissing{DirectoryStatus::kNotFound, kNoCountry};

// Loads `content` expecting exactly one error, on `line`, whose text contains `text`.
void expect_one_error(std::string_view content, int line, std::string_view text) {
  SCOPED_TRACE(testing::Message() << "file content: " << content);
  TempFile file(content);
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags), nullptr);
  ASSERT_EQ(diags.error_count(), 1) << diags.format_all();
  const std::string formatted = diags.all()[0].format();
  const std::string place = file.path() + ":" + std::to_string(line) + ": error: ";
  EXPECT_EQ(formatted.rfind(place, 0), 0u) << formatted << "\nwant prefix " << place;
  EXPECT_NE(formatted.find(text), std::string::npos) << formatted << "\nwant text " << text;
}

// "acct-<n>,<CC>" rows with countries drawn from the whole table, some in lower case.
std::string generate(std::size_t rows, std::vector<CountryId>& countries) {
  std::mt19937_64 rng(42);
  std::string out = "# generated\n";
  countries.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    countries[i] = static_cast<CountryId>(rng() % country_count());
    std::string code(country_code(countries[i]));
    if (i % 7 == 0) {
      for (char& c : code) c = static_cast<char>(c - 'A' + 'a');
    }
    out += "acct-" + std::to_string(i) + "," + code + (i % 11 == 0 ? "\r\n" : "\n");
  }
  return out;
}

TEST(FileDirectoryTest, LoadsAndFinds) {
  TempFile file(
      "# demo accounts\n"
      "in-asha,IN\n"
      "cn-li,CN\n"
      "us-bob,US\n");
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_FALSE(diags.has_errors());
  EXPECT_EQ(dir->size(), 3u);
  EXPECT_EQ(dir->describe(), "file:" + file.path());
  EXPECT_TRUE(same(found("IN"), dir->find("in-asha")));
  EXPECT_TRUE(same(found("CN"), dir->find("cn-li")));
  EXPECT_TRUE(same(found("US"), dir->find("us-bob")));
  EXPECT_TRUE(same(kMissing, dir->find("in-ravi")));
  EXPECT_TRUE(same(kMissing, dir->find("in-ash")));    // a prefix of an id
  EXPECT_TRUE(same(kMissing, dir->find("in-ashaa")));  // an id is a prefix of it
  EXPECT_TRUE(same(kMissing, dir->find("IN-ASHA")));   // ids are case-sensitive
  EXPECT_TRUE(same(kMissing, dir->find("")));
}

TEST(FileDirectoryTest, CountryCodeInAnyCase) {
  TempFile file("a,in\nb,In\nc,iN\nd,IN\n");
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  for (std::string_view id : {"a", "b", "c", "d"}) EXPECT_TRUE(same(found("IN"), dir->find(id)));
}

TEST(FileDirectoryTest, SkipsCommentsBlankLinesAndCarriageReturns) {
  TempFile file(
      "# header\r\n"
      "\r\n"
      "\n"
      "  \t \r\n"
      "#acct-x,IN\n"
      "br-joao,BR\r\n"
      "x#1,DE\n"  // '#' only starts a comment at the start of a line
      "\n"
      "jp-sato,JP\r\n"
      "ke-amani,KE");  // no final newline
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_EQ(dir->size(), 4u);
  EXPECT_TRUE(same(found("BR"), dir->find("br-joao")));
  EXPECT_TRUE(same(found("DE"), dir->find("x#1")));
  EXPECT_TRUE(same(found("JP"), dir->find("jp-sato")));
  EXPECT_TRUE(same(found("KE"), dir->find("ke-amani")));
  EXPECT_TRUE(same(kMissing, dir->find("#acct-x")));
  EXPECT_TRUE(same(kMissing, dir->find("br-joao\r")));
}

TEST(FileDirectoryTest, FinalLineWithCarriageReturnOnly) {
  TempFile file("a,GB\r");
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_TRUE(same(found("GB"), dir->find("a")));
}

TEST(FileDirectoryTest, SkipsAUtf8ByteOrderMark) {
  TempFile file(
      "\xEF\xBB\xBF"
      "a,IN\r\nb,US\r\n");
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_TRUE(same(found("IN"), dir->find("a")));
  EXPECT_TRUE(same(found("US"), dir->find("b")));
  // Only at the very start of the file.
  expect_one_error(
      "a,IN\n\xEF\xBB\xBF"
      "b,US\n",
      2, "non-printable byte at byte 1");
}

TEST(FileDirectoryTest, MalformedLines) {
  const std::string head = "# accounts\n\nok-1,IN\n";  // the bad line is line 4
  expect_one_error(head + "no-comma-here\nok-2,US\n", 4, "expected account_id,CC");
  expect_one_error(head + ",IN\n", 4, "empty account id");
  expect_one_error(head + "a b,IN\n", 4, "whitespace or a non-printable byte at byte 2");
  expect_one_error(head + "ab\t,IN\n", 4, "at byte 3");
  expect_one_error(head + " ab,IN\n", 4, "at byte 1");
  expect_one_error(head + "caf\xc3\xa9,FR\n", 4, "at byte 4");
  expect_one_error(head + std::string("a\0b,IN\n", 7), 4, "at byte 2");
  expect_one_error(head + "a,IND\n", 4, "expected a 2-letter country code after ',', got 'IND'");
  expect_one_error(head + "a,\n", 4, "got ''");
  expect_one_error(head + "a,I\r\n", 4, "got 'I'");
  expect_one_error(head + "a,IN,x\n", 4, "got 'IN,x'");
  expect_one_error(head + "a, IN\n", 4, "got ' IN'");
  expect_one_error(head + "a,IN \n", 4, "got 'IN '");
  expect_one_error(head + "a,,IN\n", 4, "got ',IN'");
}

TEST(FileDirectoryTest, UnknownCountryCode) {
  expect_one_error("a,IN\nb,ZZ\n", 2, "unknown country code 'ZZ'");
  expect_one_error("a,IN\r\n\r\nb,zz\r\n", 3, "unknown country code 'zz'");
  expect_one_error("a,1N\n", 1, "unknown country code '1N'");
  expect_one_error("a,\xc3\xa9\n", 1, "unknown country code '\\xc3\\xa9'");
}

TEST(FileDirectoryTest, DuplicateIds) {
  expect_one_error("a,IN\nb,US\na,IN\n", 3, "duplicate account id 'a'");
  // The same id with another country is still a duplicate, not an update.
  expect_one_error("# x\nuser-7,IN\n\nuser-7,SG\n", 4, "duplicate account id 'user-7'");

  TempFile file("a,IN\na,IN\na,IN\nb,IN\nb,IN\n");
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags), nullptr);
  ASSERT_EQ(diags.error_count(), 3) << diags.format_all();
  EXPECT_EQ(diags.all()[0].mark.line, 2);
  EXPECT_EQ(diags.all()[1].mark.line, 3);
  EXPECT_EQ(diags.all()[2].mark.line, 5);
}

TEST(FileDirectoryTest, MaxLengthIds) {
  const std::string max_id(FileAccountDirectory::kMaxIdLength, 'm');
  const std::string long_id(FileAccountDirectory::kMaxIdLength + 1, 'm');
  {
    TempFile file("short,IN\n" + max_id + ",SG\n");
    Diagnostics diags;
    auto dir = FileAccountDirectory::load(file.path(), diags);
    ASSERT_NE(dir, nullptr) << diags.format_all();
    EXPECT_TRUE(same(found("SG"), dir->find(max_id)));
    EXPECT_TRUE(same(kMissing, dir->find(long_id)));
    EXPECT_TRUE(same(kMissing, dir->find(std::string(100000, 'm'))));
  }
  expect_one_error("short,IN\n" + long_id + ",SG\n", 2,
                   "account id too long: 129 bytes, the maximum is 128");
}

TEST(FileDirectoryTest, CollectsEveryErrorInOrder) {
  TempFile file(
      "a,IN\n"     // 1
      "bad\n"      // 2
      "b,XX\n"     // 3
      "a,IN\n"     // 4
      "c d,IN\n"   // 5
      "e,INDIA\n"  // 6
      "f,US\n");   // 7
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags), nullptr);
  ASSERT_EQ(diags.error_count(), 5) << diags.format_all();
  const int want_lines[] = {2, 3, 4, 5, 6};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(diags.all()[i].mark.file, file.path());
    EXPECT_EQ(diags.all()[i].mark.line, want_lines[i]) << diags.all()[i].format();
  }
}

TEST(FileDirectoryTest, CapsReportedErrors) {
  std::string content = "ok,IN\n";
  for (int i = 0; i < 25; ++i) content += "bad-" + std::to_string(i) + ",QQ\n";  // lines 2..26
  TempFile file(content);
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags), nullptr);
  const int cap = FileAccountDirectory::kMaxReportedErrors;
  ASSERT_EQ(diags.error_count(), cap + 1) << diags.format_all();
  for (int i = 0; i < cap; ++i) EXPECT_EQ(diags.all()[i].mark.line, i + 2);
  EXPECT_EQ(diags.all()[cap].format(), file.path() + ": error: ... and 5 more errors");
}

TEST(FileDirectoryTest, ManyErrorsStayCheap) {
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "no comma\n";
  TempFile file(content);
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags), nullptr);
  ASSERT_EQ(diags.error_count(), FileAccountDirectory::kMaxReportedErrors + 1);
  EXPECT_NE(diags.all().back().message.find("and 199980 more errors"), std::string::npos);
}

TEST(FileDirectoryTest, EmptyFileIsAnEmptyDirectory) {
  for (std::string_view content : {"", "\n\n", "# nobody yet\r\n"}) {
    TempFile file(content);
    Diagnostics diags;
    auto dir = FileAccountDirectory::load(file.path(), diags);
    ASSERT_NE(dir, nullptr) << diags.format_all();
    EXPECT_FALSE(diags.has_errors());
    EXPECT_EQ(dir->size(), 0u);
    EXPECT_TRUE(same(kMissing, dir->find("anyone")));
  }
}

TEST(FileDirectoryTest, MissingFileNamesThePath) {
  const std::string path = testing::TempDir() + "regiongate_no_such_accounts.csv";
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(path, diags), nullptr);
  ASSERT_EQ(diags.error_count(), 1);
  EXPECT_EQ(diags.all()[0].format(),
            path + ": error: cannot open the account directory file: No such file or directory");
}

// Only regular files: a directory is not read as an empty directory, and
// neither a device (/dev/zero would be read without end) nor a FIFO (an
// open would wait for a writer; the test harness's timeout is the
// deadline) is opened at all.
TEST(FileDirectoryTest, WhatIsNotARegularFileIsRefusedAndNamed) {
  const std::string fifo =
      testing::TempDir() + "regiongate_accounts_fifo_" + std::to_string(::getpid());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::pair<std::string, std::string> cases[] = {
      {testing::TempDir(), "the account directory file is a directory"},
      {"/dev/zero", "the account directory file is not a regular file (a character device)"},
      {fifo, "the account directory file is not a regular file (a FIFO)"},
  };
  for (const auto& [path, why] : cases) {
    Diagnostics diags;
    EXPECT_EQ(FileAccountDirectory::load(path, diags), nullptr) << path;
    ASSERT_EQ(diags.error_count(), 1) << path;
    EXPECT_EQ(diags.all()[0].format(), path + ": error: " + why);
  }
  std::remove(fifo.c_str());
}

TEST(FileDirectoryTest, AFileOverTheBoundIsRefusedBeforeItIsRead) {
  TempFile file("a,IN\nb,US\n");  // 10 bytes
  Diagnostics diags;
  EXPECT_EQ(FileAccountDirectory::load(file.path(), diags, 9), nullptr);
  ASSERT_EQ(diags.error_count(), 1);
  EXPECT_EQ(diags.all()[0].format(),
            file.path() + ": error: the account directory file is 10 bytes, more than the 9 bytes "
                          "allowed");
  Diagnostics at_bound;
  auto dir = FileAccountDirectory::load(file.path(), at_bound, 10);
  ASSERT_NE(dir, nullptr) << at_bound.format_all();
  EXPECT_EQ(dir->size(), 2u);
  EXPECT_EQ(FileAccountDirectory::kFile.max_bytes, std::uint64_t{1} << 30);
}

// A file that says it is empty and holds more (as /proc's do) is read past
// its stat size and held to the bound as it is read: a file that grows
// after it was opened cannot take more memory than a file may hold.
TEST(FileDirectoryTest, AFileIsHeldToTheBoundWhileItIsRead) {
  Diagnostics small;
  EXPECT_EQ(FileAccountDirectory::load("/proc/self/status", small, 64), nullptr);
  ASSERT_EQ(small.error_count(), 1) << small.format_all();
  EXPECT_EQ(small.all()[0].format(),
            "/proc/self/status: error: the account directory file grew past the 64 bytes allowed "
            "while it was read");
  // Within the bound it is read whole (and its lines are not accounts).
  Diagnostics read;
  EXPECT_EQ(FileAccountDirectory::load("/proc/self/status", read), nullptr);
  EXPECT_NE(read.format_all().find("/proc/self/status:1: error: "), std::string::npos)
      << read.format_all();
  EXPECT_EQ(read.format_all().find("grew past"), std::string::npos) << read.format_all();
}

TEST(FileDirectoryTest, CommentHeavyFileShrinksTable) {
  std::string content;
  for (int i = 0; i < 50000; ++i) content += "# padding padding padding padding\n";
  content += "a,IN\nb,US\nc,CN\n";
  TempFile file(content);
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_EQ(dir->size(), 3u);
  EXPECT_LT(dir->memory_bytes(), 1024u);
  EXPECT_TRUE(same(found("IN"), dir->find("a")));
  EXPECT_TRUE(same(found("US"), dir->find("b")));
  EXPECT_TRUE(same(found("CN"), dir->find("c")));
  EXPECT_TRUE(same(kMissing, dir->find("d")));
}

TEST(FileDirectoryTest, GeneratedRoundTrip) {
  constexpr std::size_t kRows = 100000;
  std::vector<CountryId> countries;
  TempFile file(generate(kRows, countries));
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  ASSERT_EQ(dir->size(), kRows);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kRows; ++i) {
    wrong += !same(DirectoryResult{DirectoryStatus::kFound, countries[i]},
                   dir->find("acct-" + std::to_string(i)));
  }
  EXPECT_EQ(wrong, 0u);
  std::size_t false_hits = 0;
  for (std::size_t i = kRows; i < 2 * kRows; ++i) {
    false_hits += dir->find("acct-" + std::to_string(i)).status != DirectoryStatus::kNotFound;
    false_hits +=
        dir->find("acct-" + std::to_string(i - kRows) + "x").status != DirectoryStatus::kNotFound;
  }
  EXPECT_EQ(false_hits, 0u);
  // Table at 8 bytes a slot, load factor in (0.25, 0.5], plus the packed records.
  EXPECT_LE(dir->memory_bytes(), 262144u * 8 + kRows * 14);
}

TEST(FileDirectoryTest, ConcurrentFinds) {
  constexpr std::size_t kRows = 100000;
  std::vector<CountryId> countries;
  TempFile file(generate(kRows, countries));
  Diagnostics diags;
  std::shared_ptr<const AccountDirectory> dir = FileAccountDirectory::load(file.path(), diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();

  std::vector<std::string> ids;
  for (std::size_t i = 0; i < kRows; ++i) ids.push_back("acct-" + std::to_string(i));
  std::atomic<std::size_t> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::size_t local = 0;
      for (int round = 0; round < 3; ++round) {
        for (std::size_t k = 0; k < kRows; ++k) {
          std::size_t i = (k * 7919 + static_cast<std::size_t>(t) * 104729) % kRows;
          DirectoryResult r = dir->find(ids[i]);
          local += r.status != DirectoryStatus::kFound || r.country != countries[i];
          local += dir->find(ids[i] + "-gone").status != DirectoryStatus::kNotFound;
        }
      }
      wrong += local;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0u);
}

TEST(FileDirectoryTest, ExampleAccountsFileLoads) {
  Diagnostics diags;
  auto dir = FileAccountDirectory::load(REGIONGATE_SOURCE_DIR "/examples/accounts.csv", diags);
  ASSERT_NE(dir, nullptr) << diags.format_all();
  EXPECT_EQ(dir->size(), 14u);
  EXPECT_TRUE(same(found("IN"), dir->find("in-asha")));
  EXPECT_TRUE(same(found("KE"), dir->find("ke-amani")));
}

}  // namespace
}  // namespace regiongate
