#include "proxy/admin/http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include "proxy/net/event_loop.h"
#include "proxy/net/sockets.h"
#include "util/c_boundary.h"
#include "util/thread_name.h"

namespace regiongate {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 422: return "Unprocessable Content";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

// Responses come back here from any thread; the loop picks them up on its
// wake-up. Shared with every Responder, so that one called after the server
// stopped finds it closed instead of a dead loop.
struct Mailbox {
  std::mutex mutex;
  bool open = true;
  bool stop = false;
  std::vector<std::pair<std::uint64_t, HttpResponse>> responses;
  AsyncWakeup* wakeup = nullptr;

  void post(std::uint64_t connection, HttpResponse response) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!open) return;
    responses.emplace_back(connection, std::move(response));
    wakeup->send();
  }
};

struct HttpServer::Loop {
  struct Connection;

  Loop(HttpHandler h, Limits l)
      : handler(std::move(h)), limits(l), loop(event_loop.get()), closed(loop) {}
  ~Loop() {
    {
      std::lock_guard<std::mutex> lock(mailbox->mutex);
      mailbox->open = false;
    }
    connections.clear();
    closed.clear();
    accept_watcher.stop();
    if (listen_fd >= 0) ::close(listen_fd);
  }

  void on_accept(int);
  void on_accept_pause_end() { accept_watcher.watch(EV_READ); }
  void on_mail();
  void close(Connection& c);

  HttpHandler handler;
  const Limits limits;
  EventLoop event_loop;
  struct ev_loop* loop;
  int listen_fd = -1;
  IoWatcher accept_watcher;
  Timer accept_pause;
  AsyncWakeup wakeup;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  Graveyard<Connection> closed;  // closed inside their own callbacks
  std::uint64_t next_id = 1;
};

struct HttpServer::Loop::Connection {
  Connection(Loop& owner, std::uint64_t id, int fd) : owner(owner), id(id), fd(fd) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    io.init<Connection, &Connection::on_io>(owner.loop, fd, this);
    idle.init<Connection, &Connection::on_idle>(owner.loop, this);
    io.watch(EV_READ);
    idle.arm(owner.limits.idle_seconds);
  }
  ~Connection() {
    io.stop();
    idle.stop();
    ::close(fd);
  }

  void on_io(int revents);
  void on_idle();
  void read_some();
  void parse();
  void dispatch();
  void fail(int status);
  void send(const HttpResponse& response);
  void flush();
  void close_when_answered();

  static const http_parser_settings& settings();

  Loop& owner;
  const std::uint64_t id;
  const int fd;
  IoWatcher io;
  Timer idle;
  http_parser parser;
  std::string in, out;
  std::string url;
  std::size_t head_bytes = 0, body_bytes = 0;
  int error_status = 0;      // why a callback stopped the parser
  bool message_done = false;
  bool waiting = false;      // a request is with the handler
  bool keep_alive = true;
  bool head = false;
  bool closing = false;      // close once `out` is written
  bool peer_closed = false;  // the client shut its side: answer what came, then close
  bool gone = false;
};

// --- http_parser's callbacks: C, so noexcept and plain ints --------------

const http_parser_settings& HttpServer::Loop::Connection::settings() {
  static const http_parser_settings s = [] {
    http_parser_settings s{};
    s.on_message_begin = [](http_parser* p) noexcept {
      auto* c = static_cast<Connection*>(p->data);
      c->url.clear();
      c->head_bytes = c->body_bytes = 0;
      return 0;
    };
    s.on_url = [](http_parser* p, const char* at, std::size_t len) noexcept {
      auto* c = static_cast<Connection*>(p->data);
      c->head_bytes += len;
      if (c->head_bytes > c->owner.limits.max_head_bytes) {
        c->error_status = 414;
        return 1;
      }
      return or_on_exception(1, [&] { c->url.append(at, len); return 0; });
    };
    auto count_head = [](http_parser* p, const char*, std::size_t len) noexcept {
      auto* c = static_cast<Connection*>(p->data);
      c->head_bytes += len;
      if (c->head_bytes <= c->owner.limits.max_head_bytes) return 0;
      c->error_status = 431;
      return 1;
    };
    s.on_header_field = count_head;
    s.on_header_value = count_head;
    s.on_body = [](http_parser* p, const char*, std::size_t len) noexcept {
      auto* c = static_cast<Connection*>(p->data);
      c->body_bytes += len;  // no route reads a body: counted, not kept
      if (c->body_bytes <= c->owner.limits.max_body_bytes) return 0;
      c->error_status = 413;
      return 1;
    };
    s.on_message_complete = [](http_parser* p) noexcept {
      auto* c = static_cast<Connection*>(p->data);
      c->message_done = true;
      http_parser_pause(p, 1);  // one request at a time: the rest waits in `in`
      return 0;
    };
    return s;
  }();
  return s;
}

// --- The connection ------------------------------------------------------

void HttpServer::Loop::Connection::on_io(int revents) {
  if (revents & EV_WRITE) flush();
  if (!gone && (revents & EV_READ)) read_some();
}

void HttpServer::Loop::Connection::on_idle() {
  if (waiting) {  // the handler is still working (a reload): not idle
    idle.arm(owner.limits.idle_seconds);
    return;
  }
  owner.close(*this);
}

void HttpServer::Loop::Connection::read_some() {
  char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      in.append(buffer, static_cast<std::size_t>(n));
      // Whatever is buffered beyond one request's worth is not read on.
      if (in.size() > owner.limits.max_head_bytes + owner.limits.max_body_bytes) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      owner.close(*this);  // an error: whatever was not answered will not be
      return;
    }
    peer_closed = true;  // EOF: the requests already sent are still answered
    io.watch(out.empty() ? 0 : EV_WRITE);
    break;
  }
  idle.arm(owner.limits.idle_seconds);
  parse();
  close_when_answered();
}

void HttpServer::Loop::Connection::close_when_answered() {
  if (gone || !peer_closed || waiting) return;
  closing = true;
  if (out.empty()) owner.close(*this);
}

void HttpServer::Loop::Connection::parse() {
  std::size_t used = 0;
  while (!waiting && !closing && used < in.size()) {
    used += http_parser_execute(&parser, &settings(), in.data() + used, in.size() - used);
    const http_errno error = HTTP_PARSER_ERRNO(&parser);
    if (error == HPE_PAUSED) {
      http_parser_pause(&parser, 0);
      if (message_done) dispatch();
      continue;
    }
    if (error != HPE_OK) {
      fail(error_status ? error_status : 400);
      break;
    }
  }
  in.erase(0, used);
  if (!waiting && !closing && in.size() > owner.limits.max_head_bytes + owner.limits.max_body_bytes) {
    fail(431);
  }
}

void HttpServer::Loop::Connection::dispatch() {
  message_done = false;
  waiting = true;
  keep_alive = http_should_keep_alive(&parser) != 0;
  HttpRequest request;
  request.method = http_method_str(static_cast<http_method>(parser.method));
  head = request.method == "HEAD";
  const std::size_t q = url.find('?');
  request.path = url.substr(0, q);
  if (q != std::string::npos) request.query = url.substr(q + 1);
  std::shared_ptr<Mailbox> mailbox = owner.mailbox;
  const std::uint64_t connection = id;
  owner.handler(request, [mailbox, connection](HttpResponse r) { mailbox->post(connection, std::move(r)); });
}

void HttpServer::Loop::Connection::fail(int status) {
  keep_alive = false;
  HttpResponse r;
  r.status = status;
  r.body = std::string(reason_phrase(status)) + "\n";
  send(r);
}

void HttpServer::Loop::Connection::send(const HttpResponse& r) {
  waiting = false;
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head) out += r.body;
  if (!keep_alive) closing = true;
  flush();
  if (!gone && !closing && !in.empty()) parse();  // a pipelined request
  close_when_answered();
}

void HttpServer::Loop::Connection::flush() {
  while (!out.empty()) {
    ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      io.watch(EV_READ | EV_WRITE);
      return;
    }
    owner.close(*this);
    return;
  }
  if (closing) {
    owner.close(*this);
    return;
  }
  io.watch(peer_closed ? 0 : EV_READ);
}

// --- The listener and the mailbox ------------------------------------------

void HttpServer::Loop::on_accept(int) {
  for (int i = 0; i < 16; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: pause rather than spin on a readable listener.
        accept_watcher.stop();
        accept_pause.arm(0.1);
      }
      return;
    }
    if (connections.size() >= static_cast<std::size_t>(limits.max_connections)) {
      ::close(fd);  // full: refused at once, the others keep being served
      continue;
    }
    const std::uint64_t id = next_id++;
    connections.emplace(id, std::make_unique<Connection>(*this, id, fd));
  }
}

void HttpServer::Loop::on_mail() {
  std::vector<std::pair<std::uint64_t, HttpResponse>> mail;
  bool stop;
  {
    std::lock_guard<std::mutex> lock(mailbox->mutex);
    mail.swap(mailbox->responses);
    stop = mailbox->stop;
  }
  if (stop) {
    ev_break(loop, EVBREAK_ALL);
    return;
  }
  for (auto& [id, response] : mail) {
    auto it = connections.find(id);
    if (it != connections.end()) it->second->send(response);  // else: the client left
  }
}

void HttpServer::Loop::close(Connection& c) {
  auto it = connections.find(c.id);
  if (it == connections.end()) return;
  c.gone = true;
  c.io.stop();
  c.idle.stop();
  closed.bury(std::move(it->second));  // not here: we may be inside its call
  connections.erase(it);
}

// --- HttpServer ---------------------------------------------------------

HttpServer::HttpServer(HttpHandler handler, Limits limits)
    : loop_(std::make_unique<Loop>(std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::start(const std::string& host, std::uint16_t port, std::string* error) {
  Loop& l = *loop_;
  l.listen_fd = listen_tcp(host, port, false, error);
  if (l.listen_fd < 0) return false;
  port_ = local_port(l.listen_fd);
  l.accept_watcher.init<Loop, &Loop::on_accept>(l.loop, l.listen_fd, &l);
  l.accept_watcher.watch(EV_READ);
  l.accept_pause.init<Loop, &Loop::on_accept_pause_end>(l.loop, &l);
  l.wakeup.init<Loop, &Loop::on_mail>(l.loop, &l);
  l.mailbox->wakeup = &l.wakeup;
  thread_ = std::thread([&l] {
    name_this_thread("rg-admin");
    ev_run(l.loop, 0);
  });
  return true;
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(loop_->mailbox->mutex);
    loop_->mailbox->stop = true;
    loop_->wakeup.send();
  }
  thread_.join();
  loop_.reset();  // closes the listener and the connections, and the mailbox
}

}  // namespace regiongate
