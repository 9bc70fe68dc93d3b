#pragma once
// Bytes of one body in flight between the two sides of a proxied stream.
// Bounded by HTTP/2 flow control, not by this class: the receiving side
// consumes (opens its window) only when the sending side has taken bytes
// from here, so at most one stream window's worth waits here.
//
// One contiguous buffer, allocated on first use (most bodies are small or
// empty), compacted when the taken prefix is more than half of it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace regiongate {

class BodyBuffer {
 public:
  void append(const std::uint8_t* data, std::size_t len) {
    if (len == 0) return;
    if (offset_ > 0 && offset_ >= bytes_.size() / 2) {
      bytes_.erase(0, offset_);
      offset_ = 0;
    }
    bytes_.append(reinterpret_cast<const char*>(data), len);
  }
  // Copies up to `len` bytes out; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t len) {
    std::size_t n = std::min(len, size());
    std::memcpy(out, bytes_.data() + offset_, n);
    offset_ += n;
    if (offset_ == bytes_.size()) {
      bytes_.clear();
      offset_ = 0;
    }
    return n;
  }
  // Drops everything; returns how many bytes were dropped.
  std::size_t clear() {
    std::size_t n = size();
    bytes_.clear();
    offset_ = 0;
    return n;
  }
  std::size_t size() const { return bytes_.size() - offset_; }
  bool empty() const { return size() == 0; }

 private:
  std::string bytes_;
  std::size_t offset_ = 0;
};

}  // namespace regiongate
