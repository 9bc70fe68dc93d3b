#pragma once
// The nghttp2 callback table both sides use, built once per session class
// (STYLE 7). Each callback casts user_data to the session and calls the
// method of the same name. This is the C boundary: every callback is
// noexcept and catches whatever its method throws (std::bad_alloc
// included), answering with nghttp2's error code, so that no exception
// unwinds through nghttp2's frames.

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <utility>

#include "util/c_boundary.h"

namespace regiongate {

// Runs `f` (returning an nghttp2 result); an exception becomes
// `on_exception` (NGHTTP2_ERR_CALLBACK_FAILURE by default: the session ends).
template <typename F>
auto guarded(F&& f, decltype(f()) on_exception = NGHTTP2_ERR_CALLBACK_FAILURE) noexcept
    -> decltype(f()) {
  return or_on_exception(on_exception, std::forward<F>(f));
}

// Session: a class with on_begin_headers, on_header, on_frame_recv,
// on_data_chunk and on_stream_close (see ClientSession, OriginSession), and
// optionally on_begin_frame (called for every frame header received: only
// a session that needs it pays for it) and on_invalid_frame_recv.
template <typename Session>
nghttp2_session_callbacks* session_callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        c, [](nghttp2_session*, const nghttp2_frame* f, void* u) noexcept {
          return guarded([&] { return static_cast<Session*>(u)->on_begin_headers(f); });
        });
    nghttp2_session_callbacks_set_on_header_callback2(
        c, [](nghttp2_session*, const nghttp2_frame* f, nghttp2_rcbuf* n, nghttp2_rcbuf* v,
              std::uint8_t, void* u) noexcept {
          return guarded([&] { return static_cast<Session*>(u)->on_header(f, n, v); });
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        c, [](nghttp2_session*, const nghttp2_frame* f, void* u) noexcept {
          return guarded([&] { return static_cast<Session*>(u)->on_frame_recv(f); });
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        c, [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
              std::size_t len, void* u) noexcept {
          return guarded([&] { return static_cast<Session*>(u)->on_data_chunk(id, d, len); });
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        c, [](nghttp2_session*, std::int32_t id, std::uint32_t code, void* u) noexcept {
          return guarded([&] { return static_cast<Session*>(u)->on_stream_close(id, code); });
        });
    if constexpr (requires(Session& s, const nghttp2_frame_hd* h) { s.on_begin_frame(h); }) {
      nghttp2_session_callbacks_set_on_begin_frame_callback(
          c, [](nghttp2_session*, const nghttp2_frame_hd* h, void* u) noexcept {
            return guarded([&] { return static_cast<Session*>(u)->on_begin_frame(h); });
          });
    }
    if constexpr (requires(Session& s, const nghttp2_frame* f) { s.on_invalid_frame_recv(f, 0); }) {
      nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
          c, [](nghttp2_session*, const nghttp2_frame* f, int error, void* u) noexcept {
            return guarded([&] { return static_cast<Session*>(u)->on_invalid_frame_recv(f, error); });
          });
    }
    return c;
  }();
  return cbs;
}

}  // namespace regiongate
