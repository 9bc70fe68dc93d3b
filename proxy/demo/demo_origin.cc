#include "proxy/demo/demo_origin.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "maps/ip_network.h"
#include "proxy/http2/callbacks.h"
#include "proxy/http2/h2_connection.h"
#include "proxy/net/sockets.h"
#include "util/json.h"

namespace regiongate {
namespace {

struct Reply {
  std::string body;
  std::size_t sent = 0;
};

}  // namespace

// One client connection (the gateway) to one demo data centre.
struct DemoOrigins::Connection final : H2Connection {
  Connection(struct ev_loop* loop, int fd, const std::string& label)
      : H2Connection(loop, std::make_unique<Transport>(fd, nullptr)), label_(label) {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
                const std::uint8_t* v, std::size_t vl, std::uint8_t, void* u) noexcept {
          return guarded([&] {
            auto* self = static_cast<Connection*>(u);
            std::string_view name(reinterpret_cast<const char*>(n), nl);
            std::string_view value(reinterpret_cast<const char*>(v), vl);
            if (name == "x-regiongate-country") self->country_[f->hd.stream_id] = std::string(value);
            if (name == ":path") self->path_[f->hd.stream_id] = std::string(value);
            return 0;
          });
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) noexcept {
          return guarded([&] {
            auto* self = static_cast<Connection*>(u);
            if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
              self->reply(f->hd.stream_id);
            }
            return 0;
          });
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, std::int32_t id, std::uint32_t, void* u) noexcept {
          return guarded([&] {
            auto* self = static_cast<Connection*>(u);
            self->replies_.erase(id);
            self->country_.erase(id);
            self->path_.erase(id);
            return 0;
          });
        });
    nghttp2_session_server_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
    start();
  }

  void reply(std::int32_t id) {
    Reply& r = replies_[id];
    r.body = "{\"datacenter\":" + json_string(label_) + ",\"account_country\":" +
             json_string(country_[id]) + ",\"path\":" + json_string(path_[id]) + "}\n";
    const nghttp2_nv nv[] = {
        {(std::uint8_t*)":status", (std::uint8_t*)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(std::uint8_t*)"content-type", (std::uint8_t*)"application/json", 12, 16,
         NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider p;
    p.source.ptr = &r;
    p.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                         std::uint32_t* flags, nghttp2_data_source* src, void*) noexcept -> ssize_t {
      auto* rr = static_cast<Reply*>(src->ptr);
      std::size_t n = std::min(len, rr->body.size() - rr->sent);
      std::memcpy(buf, rr->body.data() + rr->sent, n);
      rr->sent += n;
      if (rr->sent == rr->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    };
    nghttp2_submit_response(session_, id, nv, 2, &p);
  }

  void on_closed(const std::string&) override {
    // Deleted on the next loop turn by the site; just mark it.
  }

  std::string label_;
  std::map<std::int32_t, Reply> replies_;
  std::map<std::int32_t, std::string> country_, path_;
};

struct DemoOrigins::Site {
  struct ev_loop* loop = nullptr;
  int fd = -1;
  std::string label;
  IoWatcher watcher;
  std::vector<std::unique_ptr<Connection>> connections;

  void on_accept(int) {
    // Closed connections are dropped here, on a later accept: the demo is small.
    std::erase_if(connections, [](const auto& c) { return c->closed(); });
    for (;;) {
      int client = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;
      set_tcp_nodelay(client);
      connections.push_back(std::make_unique<Connection>(loop, client, label));
    }
  }
  ~Site() {
    watcher.stop();
    connections.clear();
    if (fd >= 0) close(fd);
  }
};

DemoOrigins::DemoOrigins() : loop_(event_loop_.get()) {
  stop_.init<DemoOrigins, &DemoOrigins::on_stop>(loop_, this);
}

DemoOrigins::~DemoOrigins() {
  stop();
  sites_.clear();
}

bool DemoOrigins::start(const DataCenterMap& datacenters, std::string* error) {
  for (const DataCenter& dc : datacenters.all) {
    for (const OriginEndpoint& ep : dc.endpoints) {
      if (ep.tls || !IpAddress::parse(ep.host)) continue;
      int fd = listen_tcp(ep.host, ep.port, false, error);
      if (fd < 0) return false;
      auto site = std::make_unique<Site>();
      site->loop = loop_;
      site->fd = fd;
      site->label = dc.id;
      site->watcher.init<Site, &Site::on_accept>(loop_, fd, site.get());
      site->watcher.watch(EV_READ);
      sites_.push_back(std::move(site));
    }
  }
  thread_ = std::thread([this] { ev_run(loop_, 0); });
  return true;
}

void DemoOrigins::stop() {
  if (!thread_.joinable()) return;
  stop_.send();
  thread_.join();
}

void DemoOrigins::on_stop() {
  sites_.clear();
  ev_break(loop_, EVBREAK_ALL);
}

}  // namespace regiongate
