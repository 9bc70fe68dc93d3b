// Opening configuration files: regular files only, within a bound, each
// other kind of file refused with a message that says which. Every case
// that is not a regular file returns at once: a FIFO with no writer would
// block an ordinary open (the test harness's timeout is the deadline).

#include "util/regular_file.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace regiongate {
namespace {

namespace fs = std::filesystem;

constexpr FileKind kTest{"test file", 100};

class RegularFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) / ("regiongate-regular-file-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // read_regular_file's error for `path` ("" when it reads).
  static std::string read_error(const std::string& path, const FileKind& kind = kTest) {
    std::string text, error;
    if (read_regular_file(path, kind, &text, &error)) return "";
    EXPECT_TRUE(text.empty());
    return error;
  }
  static std::string check_error(const std::string& path, const FileKind& kind = kTest) {
    std::string error;
    return check_regular_file(path, kind, &error) ? "" : error;
  }

  fs::path dir_;
};

TEST_F(RegularFileTest, ReadsARegularFileWhole) {
  const std::string path = write("a.txt", std::string("one\0two\n", 8));
  std::string text, error;
  ASSERT_TRUE(read_regular_file(path, kTest, &text, &error)) << error;
  EXPECT_EQ(text, std::string("one\0two\n", 8));
  EXPECT_TRUE(check_regular_file(path, kTest, &error)) << error;
  ASSERT_TRUE(read_regular_file(write("empty", ""), kTest, &text, &error)) << error;
  EXPECT_EQ(text, "");
}

TEST_F(RegularFileTest, TheBoundIsCheckedBeforeReading) {
  EXPECT_EQ(read_error(write("at-bound", std::string(100, 'x'))), "");
  const std::string over = write("over", std::string(101, 'x'));
  EXPECT_EQ(read_error(over), "the test file is 101 bytes, more than the 100 bytes allowed");
  EXPECT_EQ(check_error(over), "the test file is 101 bytes, more than the 100 bytes allowed");
  // A sparse file of 50 MB is refused without a byte read (or a page allocated).
  const std::string sparse = (dir_ / "sparse").string();
  fs::resize_file(write("sparse", ""), 50'000'000);
  EXPECT_EQ(read_error(sparse, {"YAML file", 4u << 20}),
            "the YAML file is 50000000 bytes, more than the 4 MiB allowed");
}

TEST_F(RegularFileTest, EachOtherKindOfFileIsNamed) {
  EXPECT_EQ(read_error(dir_.string()), "the test file is a directory");
  EXPECT_EQ(check_error(dir_.string()), "the test file is a directory");
  EXPECT_EQ(read_error("/dev/zero"), "the test file is not a regular file (a character device)");
  EXPECT_EQ(read_error("/dev/null"), "the test file is not a regular file (a character device)");
  EXPECT_EQ(check_error("/dev/zero"), "the test file is not a regular file (a character device)");
  // Through a symbolic link: what it points at counts.
  const fs::path link = dir_ / "link";
  fs::create_symlink("/dev/zero", link);
  EXPECT_EQ(read_error(link.string()), "the test file is not a regular file (a character device)");
  // A FIFO nobody writes to: refused, not waited on.
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_error(fifo), "the test file is not a regular file (a FIFO)");
  EXPECT_EQ(check_error(fifo), "the test file is not a regular file (a FIFO)");
  // A Unix socket.
  const std::string socket_path = (dir_ / "sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  socket_path.copy(address.sun_path, socket_path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(read_error(socket_path), "the test file is not a regular file (a socket)");
  ::close(fd);
}

TEST_F(RegularFileTest, WhatCannotBeOpenedSaysWhy) {
  EXPECT_EQ(read_error((dir_ / "missing").string()),
            "cannot open the test file: No such file or directory");
  EXPECT_EQ(check_error((dir_ / "missing").string()),
            "cannot open the test file: No such file or directory");
  // "\0" in a YAML string would otherwise name another file: its start.
  const std::string real = write("real", "x");
  EXPECT_EQ(read_error(real + std::string("\0.yaml", 6)), "the test file's path holds a NUL byte");
  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = write("locked", "x");
    fs::permissions(locked, fs::perms::none);
    EXPECT_EQ(read_error(locked), "cannot open the test file: Permission denied");
  }
}

// A file of /proc says it is empty and holds more: read to its end, and
// held to the bound as it is read, as a file that grows after fstat is.
TEST_F(RegularFileTest, AFileIsHeldToTheBoundWhileItIsRead) {
  std::string text, error;
  ASSERT_TRUE(read_regular_file("/proc/self/status", {"status file", 1 << 20}, &text, &error))
      << error;
  EXPECT_NE(text.find("Name:"), std::string::npos) << text;
  EXPECT_GT(text.size(), 100u);
  EXPECT_EQ(read_error("/proc/self/status"),
            "the test file grew past the 100 bytes allowed while it was read");
}

TEST_F(RegularFileTest, RegularFileReadsInPieces) {
  const std::string path = write("pieces", "abcdefghij");
  std::string error;
  std::optional<RegularFile> file = RegularFile::open(path, kTest, &error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->size(), 10u);
  char buffer[4];
  EXPECT_EQ(file->read(buffer, 4, &error), 4u);
  EXPECT_EQ(std::string(buffer, 4), "abcd");
  EXPECT_EQ(file->read(buffer, 4, &error), 4u);
  EXPECT_EQ(file->read(buffer, 4, &error), 2u);
  EXPECT_EQ(std::string(buffer, 2), "ij");
  EXPECT_EQ(file->read(buffer, 4, &error), 0u);
  RegularFile moved = std::move(*file);  // the descriptor moves with it
  EXPECT_EQ(moved.read(buffer, 4, &error), 0u);
}

TEST(FormatByteCount, WritesBoundsAsTheDocumentationDoes) {
  EXPECT_EQ(format_byte_count(1), "1 byte");
  EXPECT_EQ(format_byte_count(100), "100 bytes");
  EXPECT_EQ(format_byte_count(1024), "1 KiB");
  EXPECT_EQ(format_byte_count(1 << 20), "1 MiB");
  EXPECT_EQ(format_byte_count(4u << 20), "4 MiB");
  EXPECT_EQ(format_byte_count(std::uint64_t{2} << 30), "2 GiB");
  EXPECT_EQ(format_byte_count((1 << 20) + 1), "1048577 bytes");
}

}  // namespace
}  // namespace regiongate
