#pragma once
// The origin side of one connection: the gateway speaking HTTP/2 to one
// endpoint of a data centre. Pooled per worker by OriginPool and shared by
// many client streams at once (multiplexed), up to the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS.
//
// A stream attached while the connection is still connecting waits; if the
// connection fails before it is established, every waiting stream is handed
// back (origin_failed) with nothing of it sent, so the caller may fail over.

#include <string>
#include <unordered_map>
#include <vector>

#include "maps/datacenter.h"
#include "maps/ip_network.h"
#include "proxy/client_session.h"
#include "proxy/h2_connection.h"
#include "proxy/stream_set.h"

namespace regiongate {

class OriginPool;
struct ClientStream;

class OriginSession final : public H2Connection {
 public:
  enum class State { kConnecting, kReady, kDraining };

  // Starts a non-blocking connect to `address` (TLS when ssl is non-null).
  OriginSession(OriginPool& pool, std::string key, std::unique_ptr<Transport> transport);
  ~OriginSession() override;

  const std::string& key() const { return key_; }
  State state() const { return state_; }
  // Room for one more stream now or once connected.
  bool has_capacity() const;
  std::size_t active_streams() const { return active_.size() + waiting_.size(); }

  // Sends the request (at once, or when connected). The stream is told of
  // the response, the body and the end through its ClientSession.
  void attach(ClientStream& stream);
  // The client side is gone: cancel the origin stream (RST_STREAM CANCEL).
  void detach(ClientStream& stream);
  // Opens the window for `n` more bytes of the response (the client took them).
  void consume(std::int32_t stream_id, std::size_t n);
  // More request body (or its end) is available for this stream.
  void resume(std::int32_t stream_id);

  // nghttp2 callbacks.
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  ssize_t read_request_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                            std::uint32_t* flags);

 private:
  void on_connected() override;
  void on_ready() override;
  void on_closed(const std::string& why) override;
  void on_idle_timeout();
  void submit(ClientStream& stream);

  OriginPool& pool_;
  std::string key_;
  State state_ = State::kConnecting;
  Timer idle_timer_;
  Timer connect_timer_;
  std::vector<ClientStream*> waiting_;                       // attached before connected
  // Streams sent on this connection; each is also the nghttp2 stream user data.
  StreamSet<ClientStream, &ClientStream::origin_slot> active_;
  ClientStream* stream_of(std::int32_t stream_id) const;
  std::vector<nghttp2_nv> nv_scratch_;  // reused for every request's headers
};

}  // namespace regiongate
