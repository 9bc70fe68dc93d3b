#pragma once
// Reading and editing the text files tests copy and change (configurations,
// policies, logs, /proc files): one way, instead of a stream idiom in every
// test.

#include <filesystem>
#include <string>

namespace regiongate::testing {

// The whole file, as it is ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);
// Replaces the file's contents.
void write_text(const std::filesystem::path& file, const std::string& text);
// Replaces the first `from` in `text` with `to`; a test failure when there is none.
void replace_first(std::string& text, const std::string& from, const std::string& to);
// The same, in the file, in place.
void edit_text(const std::filesystem::path& file, const std::string& from, const std::string& to);

}  // namespace regiongate::testing
