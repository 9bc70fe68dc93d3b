#include "util/diagnostics.h"

namespace regiongate {

std::string Diagnostic::format() const {
  std::string out;
  if (!mark.file.empty()) {
    out += mark.file;
    if (mark.line > 0) {
      out += ':' + std::to_string(mark.line);
      if (mark.column > 0) out += ':' + std::to_string(mark.column);
    }
    out += ": ";
  }
  out += severity == Severity::kError ? "error: " : "warning: ";
  out += message;
  return out;
}

void Diagnostics::error(const SourceMark& mark, std::string message) {
  all_.push_back({Severity::kError, mark, std::move(message)});
  ++error_count_;
}

void Diagnostics::warning(const SourceMark& mark, std::string message) {
  all_.push_back({Severity::kWarning, mark, std::move(message)});
}

void Diagnostics::merge(const Diagnostics& other) {
  for (const Diagnostic& d : other.all_) all_.push_back(d);
  error_count_ += other.error_count_;
}

std::string Diagnostics::format_all() const {
  std::string out;
  for (const Diagnostic& d : all_) out += d.format() + '\n';
  return out;
}

std::string Diagnostics::format_errors() const {
  std::string out;
  for (const Diagnostic& d : all_) {
    if (d.severity == Severity::kError) out += d.format() + '\n';
  }
  return out;
}

}  // namespace regiongate
