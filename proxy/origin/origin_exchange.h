#pragma once
// One request as the origin side sees it: what OriginSession sends to a data
// centre and tells about the answer. The proxied request (proxy/client/)
// implements it; the origin side knows nothing else of the client side.
//
// Link: an exchange is attached to at most one OriginSession at a time
// (OriginSession::attach). The link is unmade in exactly one place on each
// side: the request ends it first with OriginSession::detach() (the client
// went away, or the gateway answered itself); or the session ends it first,
// forgetting the exchange and then calling exactly one of origin_failed()
// or origin_closed(). After either, origin() is null.
//
// Worker-thread only. Callbacks may attach the exchange elsewhere (failover)
// but never destroy the session that calls them.

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/http2/body_buffer.h"
#include "proxy/http2/header_list.h"

namespace regiongate {

class OriginSession;

class OriginExchange {
 public:
  OriginSession* origin() const { return origin_; }
  std::int32_t origin_stream_id() const { return origin_stream_id_; }
  // The request went on an origin stream (it may have been refused since,
  // and be waiting to be sent again elsewhere).
  bool request_sent() const { return request_sent_; }

  // --- The request, for the origin session to send. ---------------------
  // :method, :scheme, :authority, :path and the headers to forward.
  virtual void origin_request_headers(std::vector<nghttp2_nv>* nv) = 0;
  virtual BodyBuffer& origin_request_body() = 0;
  virtual bool origin_request_ended() const = 0;
  virtual const HeaderList& origin_request_trailers() const = 0;
  // `n` more request body bytes went to the origin.
  virtual void origin_request_body_taken(std::size_t n) = 0;
  // The request is on an origin stream now.
  virtual void origin_request_submitted() = 0;
  // The receive window its origin stream grows to once the response is a
  // large one (the stream opens with OriginSession::kBaseStreamWindow):
  // what its client may have held for it. Asked once per origin stream.
  virtual std::int32_t origin_stream_window() = 0;

  // --- The response. -------------------------------------------------------
  // One response header or trailer field; false past the limits (the origin
  // stream is then reset).
  virtual bool origin_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) = 0;
  virtual void origin_response(bool end_stream) = 0;
  virtual void origin_body(const std::uint8_t* data, std::size_t len) = 0;
  virtual void origin_body_end() = 0;

  // --- The end, once, after the session has let go of the exchange. ------
  // The origin connection failed. `retryable`: nothing of the request was
  // sent, so it may go to another endpoint or data centre.
  virtual void origin_failed(const std::string& why, bool retryable) = 0;
  // The origin stream closed (error_code NO_ERROR after a whole response).
  virtual void origin_closed(std::uint32_t error_code) = 0;

 protected:
  ~OriginExchange() = default;

 private:
  friend class OriginSession;
  OriginSession* origin_ = nullptr;
  std::int32_t origin_stream_id_ = -1;
  std::uint32_t origin_bytes_in_ = 0;  // response bytes, until its window is raised
  bool request_sent_ = false;
  std::size_t origin_slot_ = 0;  // in OriginSession's set of sent streams
};

}  // namespace regiongate
