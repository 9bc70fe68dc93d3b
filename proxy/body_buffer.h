#pragma once
// Bytes of one body in flight between the two sides of a proxied stream.
// Bounded by HTTP/2 flow control, not by this class: the receiving side
// consumes (opens its window) only when the sending side has taken bytes
// from here, so at most one window's worth waits here per stream.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>

namespace regiongate {

class BodyBuffer {
 public:
  void append(const std::uint8_t* data, std::size_t len) {
    if (len == 0) return;
    if (chunks_.empty() || chunks_.back().size() + len > kChunk) {
      chunks_.emplace_back();
      chunks_.back().reserve(std::max(len, kChunk));
    }
    chunks_.back().append(reinterpret_cast<const char*>(data), len);
    size_ += len;
  }
  // Copies up to `len` bytes out; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t len) {
    std::size_t done = 0;
    while (done < len && !chunks_.empty()) {
      std::string& front = chunks_.front();
      std::size_t n = std::min(len - done, front.size() - offset_);
      std::memcpy(out + done, front.data() + offset_, n);
      done += n;
      offset_ += n;
      if (offset_ == front.size()) {
        chunks_.pop_front();
        offset_ = 0;
      }
    }
    size_ -= done;
    return done;
  }
  // Drops everything; returns how many bytes were dropped.
  std::size_t clear() {
    std::size_t n = size_;
    chunks_.clear();
    offset_ = size_ = 0;
    return n;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static constexpr std::size_t kChunk = 16 * 1024;
  std::deque<std::string> chunks_;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
};

}  // namespace regiongate
