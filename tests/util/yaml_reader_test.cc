// Loading configuration YAML files: only regular files of a bounded size.

#include "util/yaml_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace regiongate {
namespace {

namespace fs = std::filesystem;

class YamlFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("regiongate-yaml-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // load_yaml_file's diagnostics for `path` (and whether it loaded).
  static std::string errors_of(const std::string& path, bool* loaded = nullptr) {
    Diagnostics diags;
    auto node = load_yaml_file(path, diags);
    if (loaded) *loaded = node.has_value();
    return diags.format_all();
  }

  fs::path dir_;
};

TEST_F(YamlFileTest, WhatIsNotARegularFileIsNamed) {
  EXPECT_EQ(errors_of("/dev/zero"),
            "/dev/zero: error: the YAML file is not a regular file (a character device)\n");
  EXPECT_EQ(errors_of(dir_.string()), dir_.string() + ": error: the YAML file is a directory\n");
  const std::string fifo = (dir_ / "policy.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(errors_of(fifo), fifo + ": error: the YAML file is not a regular file (a FIFO)\n");
  const std::string missing = (dir_ / "missing.yaml").string();
  EXPECT_EQ(errors_of(missing),
            missing + ": error: cannot open the YAML file: No such file or directory\n");
}

TEST_F(YamlFileTest, AFileOverTheBoundIsRefusedBeforeItIsRead) {
  const std::string big = (dir_ / "big.yaml").string();
  std::ofstream(big) << "";
  fs::resize_file(big, kYamlFile.max_bytes + 1);  // sparse: nothing to parse, nothing paid
  EXPECT_EQ(errors_of(big),
            big + ": error: the YAML file is 4194305 bytes, more than the 4 MiB allowed\n");
  // At the bound it is read (and here, all comment, empty).
  const std::string at_bound = (dir_ / "at-bound.yaml").string();
  std::string comment = "#" + std::string(kYamlFile.max_bytes - 2, ' ') + "\n";
  std::ofstream(at_bound) << comment;
  EXPECT_EQ(errors_of(at_bound), at_bound + ": error: the file is empty\n");
}

TEST_F(YamlFileTest, ARegularFileLoads) {
  const std::string path = (dir_ / "ok.yaml").string();
  std::ofstream(path) << "version: 1\n";
  bool loaded = false;
  EXPECT_EQ(errors_of(path, &loaded), "");
  EXPECT_TRUE(loaded);
}

}  // namespace
}  // namespace regiongate
