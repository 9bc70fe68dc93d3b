#pragma once
// The admin listener's HTTP/1.1 server: one thread, one libev loop, its own
// listening socket, nothing shared with the workers. Requests are parsed by
// http_parser (Debian's libhttp-parser); each complete request goes to the
// handler, which answers through its Responder now or later from any thread
// (POST /reload answers when the reload is done). One request at a time per
// connection, in order; keep-alive as HTTP/1.1 says.
//
// Bounded: connections (past the limit a new one is closed at once), the
// request head and body, and an idle timeout per connection.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace regiongate {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target up to '?', as sent
  std::string query;   // after '?', still encoded; empty when none
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
};

// Call exactly once, from any thread. After the server stopped, or when the
// client went away meanwhile, the response is dropped.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, Responder)>;

class HttpServer {
 public:
  struct Limits {
    int max_connections = 64;
    std::size_t max_head_bytes = 16 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    double idle_seconds = 30;
  };

  HttpServer(HttpHandler handler, Limits limits);
  HttpServer(HttpHandler handler) : HttpServer(std::move(handler), Limits{}) {}
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (0: the kernel chooses) and starts the thread. On
  // failure returns false with *error.
  bool start(const std::string& host, std::uint16_t port, std::string* error);
  std::uint16_t port() const { return port_; }
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

 private:
  struct Loop;  // the thread's state, in the .cc
  std::unique_ptr<Loop> loop_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace regiongate
