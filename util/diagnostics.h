#pragma once
// Errors and warnings found while reading configuration, each tied to a place
// in a file. Readers collect them all before failing, so a policy author sees
// every problem of a file in one run.

#include <string>
#include <vector>

namespace regiongate {

// A place in a configuration file. line and column are 1-based; 0 means unknown.
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceMark mark;
  std::string message;

  // "file:line:col: error: message" (the place is shortened when unknown).
  std::string format() const;
};

class Diagnostics {
 public:
  void error(const SourceMark& mark, std::string message);
  void warning(const SourceMark& mark, std::string message);
  // Appends all of `other`, keeping their order.
  void merge(const Diagnostics& other);

  bool has_errors() const { return error_count_ > 0; }
  int error_count() const { return error_count_; }
  int warning_count() const { return static_cast<int>(all_.size()) - error_count_; }
  const std::vector<Diagnostic>& all() const { return all_; }

  // Every diagnostic, one per line, errors and warnings in the order found.
  std::string format_all() const;
  // Only the errors, one per line (what a failed reload logs).
  std::string format_errors() const;

 private:
  std::vector<Diagnostic> all_;
  int error_count_ = 0;
};

}  // namespace regiongate
