// The log writer's file: whatever the sizes of the batches, the file holds
// exactly the stream written, in order, its size whole after every round
// (readers see lines, never a block's padding), with whole blocks written
// with O_DIRECT or through the page cache; from an existing file's
// unaligned end, after a truncation, after another writer's lines, and in
// the new file after a reopen.

#include "proxy/observe/log_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace regiongate {
namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One round, as the log's writer does it: prepare, then write until all is out.
void write_round(LogFile& file, const std::vector<std::string>& batches) {
  std::size_t bytes = 0;
  for (const std::string& b : batches) bytes += b.size();
  file.prepare(bytes);
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = file.write(batches, done);
    ASSERT_GT(n, 0) << "errno " << errno;
    done += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(file.write(batches, done), 0);
}

// Bytes no two places in the stream share, so that a block out of place shows.
std::string stream_bytes(std::size_t from, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = (from + i) * 0x9E3779B97F4A7C15ull;
    out[i] = static_cast<char>((x >> 56) % 255 + 1);
  }
  return out;
}

class LogFileTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("regiongate-log-file-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Opened as the parameter says; a file system without O_DIRECT skips
  // the direct case (the page cache case is what it gets).
  bool open(LogFile& file, const std::filesystem::path& path) {
    std::string error;
    EXPECT_TRUE(file.open(path.string(), GetParam(), &error)) << error;
    if (GetParam() && !file.direct()) return false;
    EXPECT_EQ(file.direct(), GetParam());
    return true;
  }

  std::filesystem::path dir_;
};

TEST_P(LogFileTest, BatchesOfEverySizeComeOutWholeAndInOrder) {
  const std::filesystem::path path = dir_ / "sizes.log";
  LogFile file;
  if (!open(file, path)) GTEST_SKIP() << "no O_DIRECT here";
  std::mt19937 random(7);
  std::string want;
  const std::size_t sizes[] = {1, 4095, 4096, 4097, 8192, 3, LogFile::kDirectBytes,
                               LogFile::kDirectBytes + 5, 2 * LogFile::kDirectBytes + 4096};
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> batches;
    const int count = 1 + static_cast<int>(random() % 20);
    for (int i = 0; i < count; ++i) {
      const std::size_t n = round < 9 && i == 0 ? sizes[round] : random() % 40000;
      batches.push_back(stream_bytes(want.size(), n));
      want += batches.back();
    }
    write_round(file, batches);
    ASSERT_EQ(std::filesystem::file_size(path), want.size()) << "round " << round;
  }
  EXPECT_TRUE(read_file(path) == want);
  // Every direct write was taken: none fell back to the page cache for
  // want of alignment.
  EXPECT_EQ(file.direct(), GetParam());
}

TEST_P(LogFileTest, AnExistingFileGoesOnFromItsEndAndTheLinesOfAnotherWriterStay) {
  const std::filesystem::path path = dir_ / "existing.log";
  std::string want = stream_bytes(0, 5000);  // not a whole block
  std::ofstream(path, std::ios::binary) << want;
  LogFile file;
  if (!open(file, path)) GTEST_SKIP() << "no O_DIRECT here";
  std::vector<std::string> round{stream_bytes(want.size(), 20000)};
  want += round[0];
  write_round(file, round);
  // Someone else appends (echo >> the log): followed, not written over.
  std::ofstream(path, std::ios::binary | std::ios::app) << "theirs\n";
  want += "theirs\n";
  round = {stream_bytes(want.size(), 9000)};
  want += round[0];
  write_round(file, round);
  EXPECT_TRUE(read_file(path) == want);
}

// copytruncate: the file cut to 0 under the writer; it goes on at 0, no hole.
TEST_P(LogFileTest, ATruncatedFileIsWrittenFromItsNewEnd) {
  const std::filesystem::path path = dir_ / "truncated.log";
  LogFile file;
  if (!open(file, path)) GTEST_SKIP() << "no O_DIRECT here";
  write_round(file, {stream_bytes(0, 3 * LogFile::kBlock + 10)});
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  const std::string after = stream_bytes(1, 2 * LogFile::kBlock + 7);
  write_round(file, {after});
  EXPECT_TRUE(read_file(path) == after);
}

TEST_P(LogFileTest, AfterAReopenTheNewFileGetsTheRest) {
  const std::filesystem::path path = dir_ / "rotated.log";
  LogFile file;
  if (!open(file, path)) GTEST_SKIP() << "no O_DIRECT here";
  const std::string before = stream_bytes(0, 10000), after = stream_bytes(10000, 10000);
  write_round(file, {before});
  std::filesystem::rename(path, dir_ / "rotated.log.1");
  std::string error;
  ASSERT_TRUE(file.reopen(&error)) << error;
  EXPECT_EQ(file.direct(), GetParam());
  write_round(file, {after});
  EXPECT_TRUE(read_file(dir_ / "rotated.log.1") == before);
  EXPECT_TRUE(read_file(path) == after);
}

INSTANTIATE_TEST_SUITE_P(DirectOrNot, LogFileTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Direct" : "PageCache"; });

// What O_DIRECT is for: the whole blocks never enter the page cache. 4 MiB
// (less than a drop-behind step) written directly leave at most the two
// partial blocks' pages there; through the page cache, nearly all of them.
TEST(LogFile, WholeBlocksWrittenDirectlyLeaveNoPagesInThePageCache) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("regiongate-log-file-pages-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct statfs fs;
  ASSERT_EQ(::statfs(dir.c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs pages are the file";
  const std::size_t bytes = 4 << 20;
  auto resident_after_writing = [&](bool direct, bool* took_direct) -> std::size_t {
    const std::filesystem::path path = dir / (direct ? "direct.log" : "cached.log");
    LogFile file;
    std::string error;
    EXPECT_TRUE(file.open(path.string(), direct, &error)) << error;
    *took_direct = file.direct();
    write_round(file, {std::string(100, 'h'), std::string(bytes - 200, 'x'), std::string(100, 't')});
    const int fd = ::open(path.c_str(), O_RDONLY);
    std::size_t resident = bytes;
    void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      std::vector<unsigned char> pages(bytes / 4096);
      if (::mincore(map, bytes, pages.data()) == 0) {
        resident = 0;
        for (unsigned char p : pages) resident += (p & 1) ? 4096 : 0;
      }
      ::munmap(map, bytes);
    }
    ::close(fd);
    return resident;
  };
  bool took_direct = false;
  const std::size_t cached = resident_after_writing(false, &took_direct);
  EXPECT_FALSE(took_direct);
  const std::size_t direct = resident_after_writing(true, &took_direct);
  std::filesystem::remove_all(dir);
  if (!took_direct) GTEST_SKIP() << "no O_DIRECT here";
  EXPECT_GE(cached, bytes / 2);
  EXPECT_LE(direct, 2 * LogFile::kBlock);
}

}  // namespace
}  // namespace regiongate
