#pragma once
// The first bytes of a client connection: the HTTP/2 client preface, or
// not. RFC 9113 3.4 makes anything else a connection error
// (PROTOCOL_ERROR). Until the gateway serves HTTP/1.1, one exception is
// kinder: a client that sent an HTTP/1.x request line (RFC 9112 3) is
// answered with a page it can read, saying that HTTP/2 is required. What is
// neither (a TLS ClientHello on a cleartext port, HTTP/2 frames without the
// preface, a broken preface, noise) gets GOAWAY(PROTOCOL_ERROR) and a close.
//
// Incremental and allocation-free: feed() takes the bytes in the pieces
// they come in and decides as early as it can (one byte that fits neither
// is enough); it holds no bytes, only its state. A request line longer
// than kMaxRequestLine is not one.

#include <cstddef>
#include <cstdint>

namespace regiongate {

class ClientPreface {
 public:
  enum class Verdict : std::uint8_t {
    kPrefix,        // a prefix of the preface (these bytes may go to nghttp2)
    kPreface,       // the preface is complete (this and all later input is HTTP/2)
    kUndecided,     // not the preface, a prefix of an HTTP/1.x request line so far
    kHttp1Request,  // an HTTP/1.x request line
    kNotHttp,       // neither
  };
  static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static constexpr std::size_t kPrefaceLength = sizeof(kPreface) - 1;
  static constexpr std::size_t kMaxRequestLine = 8192;

  // The verdict on everything fed so far. Once it is kPreface,
  // kHttp1Request or kNotHttp it stays so, whatever is fed after.
  Verdict feed(const std::uint8_t* data, std::size_t len);
  Verdict verdict() const { return verdict_; }
  bool decided() const {
    return verdict_ != Verdict::kPrefix && verdict_ != Verdict::kUndecided;
  }

 private:
  enum class Line : std::uint8_t {
    kStart,     // before the method; empty lines (CRLF) are skipped (RFC 9112 2.2)
    kStartLf,   // a CR before the method: its LF
    kMethod,
    kTargetStart,
    kTarget,
    kVersion,   // "HTTP/1." then a digit
    kCr,        // the version done: CRLF (or a bare LF, RFC 9112 2.2)
    kLf,
    kDone,
    kFailed,
  };
  void step_line(std::uint8_t c);

  Verdict verdict_ = Verdict::kPrefix;
  std::size_t preface_matched_ = 0;
  std::size_t seen_ = 0;
  Line line_ = Line::kStart;
  std::uint8_t version_at_ = 0;  // bytes of "HTTP/1.D" matched
};

}  // namespace regiongate
