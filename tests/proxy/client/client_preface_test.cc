// The first bytes of a client connection: the HTTP/2 preface, an HTTP/1.x
// request line (answered with a page saying HTTP/2 is required), or neither
// (GOAWAY PROTOCOL_ERROR, RFC 9113 3.4), decided as early as the bytes
// allow, in whatever pieces they come.

#include "proxy/client/client_preface.h"

#include <gtest/gtest.h>

#include <string>

namespace regiongate {
namespace {

using Verdict = ClientPreface::Verdict;

Verdict feed_all(const std::string& bytes) {
  ClientPreface p;
  return p.feed(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// The verdict after each byte fed alone, and after all of them.
std::vector<Verdict> feed_bytes(const std::string& bytes) {
  ClientPreface p;
  std::vector<Verdict> out;
  for (char c : bytes) {
    auto b = static_cast<std::uint8_t>(c);
    out.push_back(p.feed(&b, 1));
  }
  return out;
}

const std::string kPreface(ClientPreface::kPreface, ClientPreface::kPrefaceLength);

TEST(ClientPrefaceTest, ThePrefaceWholeOrByteByByte) {
  EXPECT_EQ(feed_all(kPreface), Verdict::kPreface);
  EXPECT_EQ(feed_all(kPreface + "\x00\x00\x00\x04"), Verdict::kPreface);  // frames follow
  std::vector<Verdict> v = feed_bytes(kPreface);
  for (std::size_t i = 0; i + 1 < v.size(); ++i) EXPECT_EQ(v[i], Verdict::kPrefix) << i;
  EXPECT_EQ(v.back(), Verdict::kPreface);
}

TEST(ClientPrefaceTest, Http1RequestLinesAreRecognised) {
  for (const std::string& line : std::vector<std::string>{
           "GET / HTTP/1.1\r\n", "POST /shop/cart?x=1 HTTP/1.0\r\n", "PUT /a HTTP/1.1\r\n",
           "PRI / HTTP/1.1\r\n",  // the preface's method, with HTTP/1.1
           "OPTIONS * HTTP/1.1\r\n", "CONNECT api.example.com:443 HTTP/1.1\r\n",
           "GET http://api.example.com/ HTTP/1.1\r\n", "M-SEARCH * HTTP/1.1\r\n",
           "\r\nGET / HTTP/1.1\r\n",  // an empty line first (RFC 9112 2.2)
           "GET / HTTP/1.1\n",        // a bare LF (RFC 9112 2.2)
           "GET /caf\xc3\xa9 HTTP/1.1\r\n"}) {
    EXPECT_EQ(feed_all(line), Verdict::kHttp1Request) << line;
    EXPECT_EQ(feed_all(line + "Host: x\r\n\r\n"), Verdict::kHttp1Request) << line;
    std::vector<Verdict> v = feed_bytes(line);
    EXPECT_EQ(v.back(), Verdict::kHttp1Request) << line;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      EXPECT_TRUE(v[i] == Verdict::kUndecided || v[i] == Verdict::kPrefix) << line << " at " << i;
    }
  }
}

TEST(ClientPrefaceTest, AnythingElseIsNotHttp) {
  for (const std::string& bytes : {
           std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9),  // a TLS ClientHello
           std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9),  // SETTINGS without the preface
           std::string("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"),          // a broken preface
           std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\n"),
           std::string("GET / HTTP/2.0\r\n"), std::string("GET / HTTP/1.1x"),
           std::string("GET  / HTTP/1.1\r\n"),  // two spaces
           std::string("GET /\r\n"),            // HTTP/0.9
           std::string("GET / HTTP/1.\r\n"), std::string("GET / http/1.1\r\n"),
           std::string("GET / HTTP/1.1\r\r"), std::string("G(T / HTTP/1.1\r\n"),
           std::string("GET /a\x01 HTTP/1.1\r\n"), std::string("\r\r"),
           std::string(" GET / HTTP/1.1\r\n"), std::string("\x00", 1)}) {
    EXPECT_EQ(feed_all(bytes), Verdict::kNotHttp) << bytes;
  }
}

TEST(ClientPrefaceTest, NoiseIsRefusedAtItsFirstByte) {
  std::vector<Verdict> v = feed_bytes("\x16\x03\x01");
  EXPECT_EQ(v[0], Verdict::kNotHttp);
  // A broken preface as soon as it stops matching (its request line,
  // HTTP/2.0, is not an HTTP/1.x one).
  v = feed_bytes("PRI * HTTP/2.0\r\n\r\nX");
  EXPECT_EQ(v[v.size() - 2], Verdict::kPrefix);
  EXPECT_EQ(v.back(), Verdict::kNotHttp);
  // Not the preface, but a request line so far.
  v = feed_bytes("PO");
  EXPECT_EQ(v[0], Verdict::kPrefix);
  EXPECT_EQ(v[1], Verdict::kUndecided);
}

TEST(ClientPrefaceTest, ARequestLineLongerThanTheBoundIsNotOne) {
  const std::string long_target(ClientPreface::kMaxRequestLine, 'a');
  EXPECT_EQ(feed_all("GET /" + long_target + " HTTP/1.1\r\n"), Verdict::kNotHttp);
  const std::string fits(ClientPreface::kMaxRequestLine - 20, 'a');
  EXPECT_EQ(feed_all("GET /" + fits + " HTTP/1.1\r\n"), Verdict::kHttp1Request);
}

TEST(ClientPrefaceTest, AVerdictStays) {
  ClientPreface p;
  const std::string line = "GET / HTTP/1.1\r\n";
  p.feed(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
  EXPECT_EQ(p.feed(reinterpret_cast<const std::uint8_t*>("\x00"), 1), Verdict::kHttp1Request);
  ClientPreface q;
  q.feed(reinterpret_cast<const std::uint8_t*>(kPreface.data()), kPreface.size());
  EXPECT_EQ(q.feed(reinterpret_cast<const std::uint8_t*>("GET"), 3), Verdict::kPreface);
  EXPECT_TRUE(q.decided());
}

}  // namespace
}  // namespace regiongate
