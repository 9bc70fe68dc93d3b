#pragma once
// The client side of one connection: a phone (or a load balancer) speaking
// HTTP/2 to the gateway. Parses requests with nghttp2, enforces header limits
// while headers arrive, asks for the residency decision and answers.
//
// Owned by its Worker; lives on the worker's loop. Streams are created in
// on_begin_headers, attached with nghttp2_session_set_stream_user_data and
// destroyed in on_stream_close (STYLE 8).

#include <memory>
#include <string>
#include <vector>

#include "maps/ip_network.h"
#include "proxy/h2_connection.h"
#include "proxy/request_decision.h"
#include "proxy/server_config.h"

namespace regiongate {

class Worker;

// One request on the client side.
struct ClientStream {
  explicit ClientStream(std::int32_t id) : id(id) {}
  ~ClientStream();

  std::int32_t id;
  // Header storage is nghttp2's own (reference-counted), never copied.
  struct Header {
    nghttp2_rcbuf* name;
    nghttp2_rcbuf* value;
  };
  std::vector<Header> headers;  // regular headers to forward (hop-by-hop and x-regiongate-* dropped)
  std::string_view method, scheme, authority, path, account_id, forwarded_for;
  std::size_t header_bytes = 0;
  bool headers_done = false;

  // A response the gateway makes itself (denials).
  std::string local_body;
  std::size_t local_sent = 0;

  RoutedRequest routed;
  int status = 0;  // the response status sent to the client
  std::uint64_t started_ns = 0;

 private:
  std::vector<nghttp2_rcbuf*> held_;  // pseudo-header buffers kept for the views above
  friend class ClientSession;
};

class ClientSession final : public H2Connection {
 public:
  ClientSession(Worker& worker, std::unique_ptr<Transport> transport, const IpAddress& peer);
  ~ClientSession() override;

  void begin() { start(); }

  // nghttp2 callbacks (called through the static table; never throw).
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);

 private:
  bool on_raw_input(const std::uint8_t* data, std::size_t len) override;
  void on_ready() override;
  bool may_send() const override;
  void on_closed(const std::string& why) override;
  void on_idle_timeout();

  void handle_request(ClientStream& stream);
  void respond_locally(ClientStream& stream, int status, std::string_view reason_code,
                       const std::string& detail);

  Worker& worker_;
  IpAddress peer_;
  Timer idle_timer_;
  std::size_t preface_checked_ = 0;  // bytes of the client preface verified so far
  std::size_t open_streams_ = 0;
};

}  // namespace regiongate
