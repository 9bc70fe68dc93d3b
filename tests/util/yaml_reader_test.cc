// Loading configuration YAML: only regular files of a bounded size, every
// scalar UTF-8, nesting too deep and aliases that expand without end
// reported with their place instead of yaml-cpp's "bad file" or a walk
// without end.

#include "util/yaml_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace regiongate {
namespace {

namespace fs = std::filesystem;

const std::string kName = "/etc/regiongate/policy.yaml";

struct Loaded {
  std::optional<YAML::Node> node;
  Diagnostics diags;
  std::string errors() const { return diags.format_all(); }
};

Loaded load(std::string_view text) {
  Loaded out;
  out.node = load_yaml_text(text, kName, out.diags);
  return out;
}

TEST(YamlUtf8, EveryScalarThatIsNotUtf8IsAnErrorAtItsPlace) {
  Loaded r = load(
      "rules:\n"
      "  - id: brazil\n"
      "    deny: \"caf\xe9 closed\"\n"
      "    note: caf\xc3\xa9 is fine\n"
      "    accounts: [BR, \"\xff\"]\n"
      "groups:\n"
      "  k\xe9y: [FR]\n");
  ASSERT_TRUE(r.node) << "the readers still see the rest";
  EXPECT_EQ(r.diags.error_count(), 3) << r.errors();
  EXPECT_EQ(r.errors(),
            kName + ":3:11: error: rules[0].deny: not UTF-8: byte 4 of the value is 0xE9 (YAML "
                    "text is UTF-8)\n" +
                kName + ":5:20: error: rules[0].accounts[1]: not UTF-8: byte 1 of the value is "
                        "0xFF (YAML text is UTF-8)\n" +
                kName + ":7:3: error: groups.k\xe9y: not UTF-8: byte 2 of the value is 0xE9 (YAML "
                        "text is UTF-8)\n");
}

TEST(YamlUtf8, EscapesGiveUtf8AndBadOnesAreSyntaxErrors) {
  // \xff is U+00FF, written as UTF-8; a surrogate cannot be written at all.
  Loaded good = load("a: \"\\xff \\u00e9 \\U0001F4F1\"\n");
  ASSERT_TRUE(good.node) << good.errors();
  EXPECT_FALSE(good.diags.has_errors()) << good.errors();
  EXPECT_EQ((*good.node)["a"].Scalar(), "\xc3\xbf \xc3\xa9 \xf0\x9f\x93\xb1");
  Loaded surrogate = load("a: \"\\ud800\"\n");
  EXPECT_FALSE(surrogate.node);
  EXPECT_NE(surrogate.errors().find(kName + ":1:"), std::string::npos) << surrogate.errors();
}

TEST(YamlUtf8, ManyBadValuesAreCountedAfterTheFirstTwenty) {
  std::string text;
  for (int i = 0; i < 25; ++i) {
    text += 'k';  // (one append at a time: GCC 12 warns falsely on "k" + to_string(i) + ...)
    text += std::to_string(i);
    text += ": \xe9\n";
  }
  Loaded r = load(text);
  EXPECT_EQ(r.diags.error_count(), 21) << r.errors();
  EXPECT_NE(r.errors().find(kName + ": error: ... and 5 more values that are not UTF-8"),
            std::string::npos)
      << r.errors();
}

TEST(YamlUtf8, AValueUnderAnAliasIsReportedOnceWhereItIsWritten) {
  Loaded r = load("a: &bad [\"\xe9\"]\nb: *bad\nc: *bad\n");
  EXPECT_EQ(r.diags.error_count(), 1) << r.errors();
  EXPECT_NE(r.errors().find(kName + ":1:10: error: a[0]: not UTF-8"), std::string::npos)
      << r.errors();
}

TEST(YamlNesting, TooDeepIsAnErrorWhereTheNestingGoesTooDeep) {
  // Flow: yaml-cpp's own mark is the end of the line, and its message "bad file".
  Loaded flow = load("ok: 1\nnote: " + std::string(600, '[') + std::string(600, ']') + "\n");
  EXPECT_FALSE(flow.node);
  EXPECT_EQ(flow.errors(), kName + ":2:504: error: YAML nested too deeply (yaml-cpp reads 500 "
                                   "levels of lists and maps at most)\n");
  // Block maps, one level a line.
  std::string block;
  for (int i = 0; i < 600; ++i) block += std::string(i, ' ') + "a:\n";
  Loaded deep = load(block);
  EXPECT_FALSE(deep.node);
  EXPECT_NE(deep.errors().find(kName + ":499:499: error: YAML nested too deeply"),
            std::string::npos)
      << deep.errors();
  // What a configuration needs is far from it.
  Loaded fine = load("a: " + std::string(100, '[') + std::string(100, ']') + "\n");
  EXPECT_TRUE(fine.node) << fine.errors();
  EXPECT_FALSE(fine.diags.has_errors()) << fine.errors();
}

TEST(YamlAliases, AliasesOfAliasesAreRefusedAndOrdinaryOnesRead) {
  // A billion nodes from ten lines (yaml-cpp shares them; walking them would not end).
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    laughs += "]\n";
  }
  Loaded r = load(laughs);
  EXPECT_FALSE(r.node);
  EXPECT_EQ(r.errors(), kName + ": error: YAML aliases expand the document to more than two "
                                "nodes a byte of its text\n");
  Loaded ordinary =
      load("all: &all [shop, cloud]\nrules:\n  - services: *all\n  - services: *all\n");
  ASSERT_TRUE(ordinary.node) << ordinary.errors();
  EXPECT_FALSE(ordinary.diags.has_errors()) << ordinary.errors();
  EXPECT_EQ((*ordinary.node)["rules"][1]["services"][1].Scalar(), "cloud");
}

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
