#include "tests/integration/text_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace regiongate::testing {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

void replace_first(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "not found: " << from;
  text.replace(at, from.size(), to);
}

void edit_text(const std::filesystem::path& file, const std::string& from, const std::string& to) {
  std::string text = read_text(file);
  ASSERT_NO_FATAL_FAILURE(replace_first(text, from, to)) << "in " << file;
  write_text(file, text);
}

}  // namespace regiongate::testing
