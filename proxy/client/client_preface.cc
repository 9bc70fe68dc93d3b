#include "proxy/client/client_preface.h"

namespace regiongate {
namespace {

// RFC 9110 5.6.2: a method is a token.
bool is_tchar(std::uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// A request-target byte: visible ASCII (RFC 9112 3.2), and bytes from 0x80
// up, which some clients send unescaped. Only whether this is HTTP/1 at all
// is decided here, not whether the target is valid.
bool is_target_byte(std::uint8_t c) { return c > 0x20 && c != 0x7f; }

constexpr char kVersionPrefix[] = "HTTP/1.";
constexpr std::uint8_t kVersionPrefixLength = sizeof(kVersionPrefix) - 1;

}  // namespace

void ClientPreface::step_line(std::uint8_t c) {
  switch (line_) {
    case Line::kStart:
      if (c == '\r') {
        line_ = Line::kStartLf;
      } else if (c != '\n') {
        line_ = is_tchar(c) ? Line::kMethod : Line::kFailed;
      }
      return;
    case Line::kStartLf:
      line_ = c == '\n' ? Line::kStart : Line::kFailed;
      return;
    case Line::kMethod:
      if (c == ' ') {
        line_ = Line::kTargetStart;
      } else if (!is_tchar(c)) {
        line_ = Line::kFailed;
      }
      return;
    case Line::kTargetStart:
      line_ = is_target_byte(c) ? Line::kTarget : Line::kFailed;
      return;
    case Line::kTarget:
      if (c == ' ') {
        line_ = Line::kVersion;
      } else if (!is_target_byte(c)) {
        line_ = Line::kFailed;
      }
      return;
    case Line::kVersion:
      if (version_at_ < kVersionPrefixLength) {
        line_ = c == static_cast<std::uint8_t>(kVersionPrefix[version_at_]) ? Line::kVersion
                                                                           : Line::kFailed;
        ++version_at_;
      } else {
        line_ = c >= '0' && c <= '9' ? Line::kCr : Line::kFailed;
      }
      return;
    case Line::kCr:
      line_ = c == '\r' ? Line::kLf : c == '\n' ? Line::kDone : Line::kFailed;
      return;
    case Line::kLf:
      line_ = c == '\n' ? Line::kDone : Line::kFailed;
      return;
    case Line::kDone:
    case Line::kFailed:
      return;
  }
}

ClientPreface::Verdict ClientPreface::feed(const std::uint8_t* data, std::size_t len) {
  for (std::size_t i = 0; i < len && !decided(); ++i) {
    const std::uint8_t c = data[i];
    if (verdict_ == Verdict::kPrefix) {
      if (c != static_cast<std::uint8_t>(kPreface[preface_matched_])) {
        verdict_ = Verdict::kUndecided;
      } else if (++preface_matched_ == kPrefaceLength) {
        verdict_ = Verdict::kPreface;
        break;
      }
    }
    // The request line is followed from the first byte: "PUT" and "POST"
    // start as the preface does.
    step_line(c);
    ++seen_;
    if (verdict_ != Verdict::kUndecided) continue;
    if (line_ == Line::kDone) {
      verdict_ = Verdict::kHttp1Request;
    } else if (line_ == Line::kFailed || seen_ >= kMaxRequestLine) {
      verdict_ = Verdict::kNotHttp;
    }
  }
  return verdict_;
}

}  // namespace regiongate
