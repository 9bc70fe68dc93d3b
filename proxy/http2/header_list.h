#pragma once
// Header fields held in nghttp2's own reference-counted buffers, never
// copied: what one side received and the other side sends on. Both sides of
// a proxied request use it (request headers and trailers, response headers
// and trailers).

#include <nghttp2/nghttp2.h>

#include <string_view>
#include <utility>
#include <vector>

namespace regiongate {

inline std::string_view rcbuf_view(nghttp2_rcbuf* buf) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

// A name/value pair for nghttp2_submit_*: views, copied by nghttp2 (the
// storage needs to live only for the call).
inline nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

class HeaderList {
 public:
  struct Field {
    nghttp2_rcbuf* name;
    nghttp2_rcbuf* value;
  };

  HeaderList() = default;
  ~HeaderList() { clear(); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;

  void reserve(std::size_t n) { fields_.reserve(n); }
  // Keeps a reference to both buffers.
  void add(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
    nghttp2_rcbuf_incref(name);
    nghttp2_rcbuf_incref(value);
    fields_.push_back({name, value});
  }
  void clear() {
    for (const Field& f : fields_) {
      nghttp2_rcbuf_decref(f.name);
      nghttp2_rcbuf_decref(f.value);
    }
    fields_.clear();
  }
  std::size_t size() const { return fields_.size(); }
  // Whether a field's value is this very buffer (an HPACK index names one
  // dynamic-table entry's buffer each time it is used).
  bool holds_value(const nghttp2_rcbuf* value) const {
    for (const Field& f : fields_) {
      if (f.value == value) return true;
    }
    return false;
  }
  bool empty() const { return fields_.empty(); }
  // Appends a view of every field, valid while this list holds them.
  void append_nv(std::vector<nghttp2_nv>* nv) const {
    for (const Field& f : fields_) nv->push_back(make_nv(rcbuf_view(f.name), rcbuf_view(f.value)));
  }

 private:
  std::vector<Field> fields_;
};

}  // namespace regiongate
