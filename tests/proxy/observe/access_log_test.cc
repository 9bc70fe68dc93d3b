// The log writer when the file refuses writes (/dev/full: every write fails
// with ENOSPC): it says so, is not writable(), counts, keeps the batch and
// writes it once the file takes it again (after reopen), losing nothing;
// a full queue drops and counts.

#include "proxy/observe/access_log.h"
#include "tests/integration/wait_until.h"
#include "util/count_lines.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace regiongate {
namespace {

// The writer's report lines, waited for with a deadline.
class Reports {
 public:
  AccessLog::Report callback() {
    return [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(line);
      changed_.notify_all();
    };
  }
  bool wait_for(const std::string& text) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const std::string& l : lines_) {
        if (l.find(text) != std::string::npos) return true;
      }
      return false;
    });
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const std::string& l : lines_) out += l + "\n";
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("regiongate-access-log-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::filesystem::create_symlink("/dev/full", link());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path link() const { return dir_ / "audit.log"; }
  // Points the log's name at a real file, in one rename.
  void swap_to_file() {
    std::filesystem::create_symlink(dir_ / "real.log", dir_ / "next");
    std::filesystem::rename(dir_ / "next", link());
  }
  static void submit(AccessLog& log, std::string text) { log.submit(text, count_lines(text)); }

  std::filesystem::path dir_;
  Reports reports_;  // before every log: their writers report into it
};

TEST_F(AccessLogTest, AFileThatRefusesWritesIsRetriedAndNothingIsLost) {
  {
    AccessLog log;
    std::string error;
    ASSERT_TRUE(log.open(link().string(), &error, {}, reports_.callback())) << error;
    EXPECT_TRUE(log.writable());
    submit(log, "one\n");
    ASSERT_TRUE(reports_.wait_for("No space left on device; retrying")) << reports_.all();
    EXPECT_FALSE(log.writable());
    EXPECT_GE(log.failed_writes(), 1u);
    submit(log, "two\n");  // behind the refused one

    swap_to_file();
    log.reopen();
    ASSERT_TRUE(reports_.wait_for("again (")) << reports_.all();
    EXPECT_TRUE(log.writable());
    EXPECT_EQ(log.dropped_batches(), 0u);
  }  // the destructor writes what is queued
  std::ifstream in(dir_ / "real.log");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "one\ntwo\n");
}

TEST_F(AccessLogTest, AFullQueueDropsAndCounts) {
  AccessLog log(/*max_queued_bytes=*/64);
  std::string error;
  ASSERT_TRUE(log.open(link().string(), &error, {}, reports_.callback())) << error;
  const std::string batch = std::string(39, 'x') + "\n";
  submit(log, batch);
  // The writer holds it (refused): the queue behind it is empty again.
  ASSERT_TRUE(reports_.wait_for("retrying")) << reports_.all();
  submit(log, batch);  // queued: 40 of 64 bytes
  EXPECT_EQ(log.dropped_batches(), 0u);
  std::string third = "a\nb\nc" + std::string(35, 'x') + "\n";
  log.submit(third, 3);  // 40 + 41 > 64: dropped at once, the worker never waits
  EXPECT_EQ(log.dropped_batches(), 1u);
  EXPECT_EQ(log.dropped_lines(), 3u) << "the lines it was told the batch held";
  EXPECT_FALSE(log.writable());
}

TEST_F(AccessLogTest, WhatCannotBeWrittenAtExitIsCountedAsDropped) {
  {
    AccessLog log;
    std::string error;
    ASSERT_TRUE(log.open(link().string(), &error, {}, reports_.callback())) << error;
    submit(log, "one\n");
    ASSERT_TRUE(reports_.wait_for("retrying")) << reports_.all();
    submit(log, "two\n");
  }
  EXPECT_NE(reports_.all().find("stopping: 2 batch(es) could not be written"), std::string::npos)
      << reports_.all();
}

// Batches go out in order, however many wait (more than one writev
// takes), and a written batch's buffer comes back to the next submit().
TEST_F(AccessLogTest, ManyBatchesAreWrittenInOrderAndTheirBuffersReused) {
  const std::filesystem::path file = dir_ / "many.log";
  std::string want;
  {
    AccessLog log;
    std::string error;
    ASSERT_TRUE(log.open(file.string(), &error, {}, reports_.callback())) << error;
    for (int i = 0; i < 3000; ++i) {  // IOV_MAX is 1024
      std::string line;
      line.reserve(2000);  // as a worker's batch buffer is
      line = "line " + std::to_string(i) + "\n";
      want += line;
      log.submit(line, 1);
      EXPECT_TRUE(line.empty());
    }
    // Once something has been written, a submit hands back a used buffer.
    ASSERT_TRUE(testing::wait_until([&] { return log.spare_buffers() > 0; }));
    std::string next = "next\n";  // a new string: no room beyond its own
    want += next;
    log.submit(next, 1);
    EXPECT_TRUE(next.empty());
    EXPECT_GE(next.capacity(), 2000u) << "a written batch's buffer is reused";
  }
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), want);
  EXPECT_EQ(reports_.all(), "");
}

// A regular file's blocks are taken ahead of the lines (4 MiB at a time),
// its size still what was written; after a copytruncate rotation (the file
// cut to 0 under the writer) they are taken again.
TEST_F(AccessLogTest, AFilesBlocksAreReservedAheadAndAgainAfterATruncate) {
  const std::filesystem::path file = dir_ / "reserved.log";
  {
    const int probe = ::open((dir_ / "probe").c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(probe, 0);
    const bool takes_fallocate = fallocate(probe, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
    ::close(probe);
    if (!takes_fallocate) GTEST_SKIP() << "the test directory's file system has no fallocate";
  }
  auto reserved_bytes = [&] {
    struct stat st;
    return ::stat(file.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_blocks) * 512 : -1;
  };
  auto size_is = [&](std::uintmax_t n) {
    return testing::wait_until([&] {
      std::error_code ec;
      return std::filesystem::file_size(file, ec) == n;
    });
  };
  AccessLog log;
  std::string error;
  ASSERT_TRUE(log.open(file.string(), &error, {}, reports_.callback())) << error;
  submit(log, "one\n");
  ASSERT_TRUE(size_is(4));
  EXPECT_GE(reserved_bytes(), 4 << 20);

  ASSERT_EQ(::truncate(file.c_str(), 0), 0);
  EXPECT_LT(reserved_bytes(), 4096) << "truncating frees the reservation";
  submit(log, "two\n");
  ASSERT_TRUE(size_is(4));  // O_APPEND: at the new end
  EXPECT_GE(reserved_bytes(), 4 << 20);
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "two\n");
  EXPECT_EQ(reports_.all(), "");
}

// What is queued while the writer writes goes in its next write, and the
// prepare step (the audit log's seal) sees that write's batches together,
// in submission order, with the counts submit() was given. The writer is
// held inside the first write's prepare step until the next batches are in.
TEST_F(AccessLogTest, PrepareSeesEachWritesBatchesTogetherInOrder) {
  const std::filesystem::path file = dir_ / "prepared.log";
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  std::vector<std::vector<std::pair<std::string, std::size_t>>> writes;
  auto prepare = [&](std::span<AccessLog::Batch> batches) {
    std::unique_lock<std::mutex> lock(mutex);
    writes.emplace_back();
    for (const AccessLog::Batch& b : batches) writes.back().emplace_back(b.text, b.lines);
    batches.back().text += "sealed " + std::to_string(writes.size()) + "\n";
    changed.notify_all();
    if (writes.size() == 1) changed.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
  };
  AccessLog log;
  std::string error;
  ASSERT_TRUE(log.open(file.string(), &error, prepare, reports_.callback())) << error;
  std::string a = "a\n", b = "b1\nb2\n", c = "c\n";
  log.submit(a, 1);
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return !writes.empty(); }));
  }
  log.submit(b, 2);
  log.submit(c, 1);
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  ASSERT_TRUE(testing::wait_until([&] {
    std::error_code ec;
    return std::filesystem::file_size(file, ec) == 28;
  }));
  std::lock_guard<std::mutex> lock(mutex);
  using Write = std::vector<std::pair<std::string, std::size_t>>;
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0], (Write{{"a\n", 1}}));
  EXPECT_EQ(writes[1], (Write{{"b1\nb2\n", 2}, {"c\n", 1}}));
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "a\nsealed 1\nb1\nb2\nc\nsealed 2\n");
  EXPECT_EQ(reports_.all(), "");
}

// A log written once and seldom read does not fill the page cache: its
// pages are written back and dropped behind the writer. Batches go on
// being written until the first step's pages have left the page cache
// (mincore), with a deadline; without the drop they stay.
TEST_F(AccessLogTest, WrittenPagesAreDroppedFromThePageCacheBehindTheWriter) {
  const std::filesystem::path file = dir_ / "dropped.log";
  struct statfs fs;
  ASSERT_EQ(::statfs(dir_.c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs pages are the file: nothing to drop";
  AccessLog log;
  std::string error;
  ASSERT_TRUE(log.open(file.string(), &error, {}, reports_.callback())) << error;
  const std::size_t step = AccessLog::kDropBehindBytes;
  // The pages of the file's first step still in the page cache.
  auto first_step_resident = [&]() -> std::size_t {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) return step;
    std::size_t resident = step;
    void* map = ::mmap(nullptr, step, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      std::vector<unsigned char> pages(step / 4096);
      if (::mincore(map, step, pages.data()) == 0) {
        resident = 0;
        for (unsigned char p : pages) resident += (p & 1) ? 4096 : 0;
      }
      ::munmap(map, step);
    }
    ::close(fd);
    return resident;
  };
  const std::string batch(AccessLog::kWakeBytes * 2, 'x');  // written at once
  std::size_t written = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool dropped = false;
  while (!dropped && std::chrono::steady_clock::now() < deadline && written < (512u << 20)) {
    submit(log, batch);
    written += batch.size();
    ASSERT_TRUE(testing::wait_until([&] {
      std::error_code ec;
      return std::filesystem::file_size(file, ec) == written;
    }));
    dropped = written > 3 * step && first_step_resident() < step / 4;
  }
  EXPECT_TRUE(dropped) << first_step_resident() << " bytes of the first " << step
                       << " still in the page cache after " << written << " bytes written";
  EXPECT_EQ(reports_.all(), "");
}

}  // namespace
}  // namespace regiongate
