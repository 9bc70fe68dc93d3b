#pragma once
// The C boundary: nothing thrown in a callback that a C library (libev,
// c-ares, OpenSSL, nghttp2) calls may unwind through that library's frames.
// Callbacks that return a result catch and answer with the library's error
// code (http2/callbacks.h for nghttp2; the TLS callbacks answer with a fatal
// alert). Callbacks that return nothing use fail_stop(): an exception there
// is a bug with no one to report it to, so it is printed with where it
// happened and the process stops (fail-stop: a supervisor restarts it)
// rather than going on in a state nobody can vouch for.

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace regiongate {

template <typename F>
void fail_stop(const char* where, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "regiongate: fatal: exception in %s: %s\n", where, e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "regiongate: fatal: exception in %s\n", where);
    std::abort();
  }
}

// Runs `f`; an exception becomes `on_exception` (the library's error code).
template <typename R, typename F>
R or_on_exception(R on_exception, F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return on_exception;
  }
}

}  // namespace regiongate
