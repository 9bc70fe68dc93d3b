#!/usr/bin/python3
"""A raw HTTP/2 client for the residency tests: sends header blocks exactly
as given (no validation, no normalisation: doubled headers, odd paths, a
host header beside :authority), each request on its own stream of one
cleartext connection.

Usage: h2_client.py PORT REQUESTS.json [--one-at-a-time] [--close-after-headers]

REQUESTS.json holds a list of requests, each a list of [name, value] header
pairs (values as latin-1 text, so any byte can be sent), or an object
  {"headers": [...], "body": "...", "trailers": [...], "reset": "..."}
with any of body (sent as DATA), trailers (ending the request), and reset:
"at-once" (RST_STREAM CANCEL right after what the request sends, the
request left open) or "after-response-headers" (once they arrive).
Prints one JSON list, a result per request in order:
  {"status": 200, "headers": {...}, "body": "...", "reset": null}
where "reset" names the RST_STREAM error code, or "goaway" when the
connection ended before the stream did.

All requests are sent at once, unless --one-at-a-time: then each is sent
when the one before it has ended (so the gateway finishes them in order).
With --close-after-headers the client closes the connection as soon as
every stream has its response headers (a phone that went away
mid-download).

Before it closes (unless --close-after-headers), it sends a PING and reads
its ACK, so the gateway has read every frame it sent (a stream reset at
once included) by the time the script exits.

Exit status 0 when every stream ended (answered, reset or ended by
GOAWAY), 1 at the 15-second deadline or on a closed connection with
streams still open.
"""

import json
import socket
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events


def encode(pairs):
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs]


class Client:
    def __init__(self, port):
        config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                           validate_outbound_headers=False,
                                           normalize_outbound_headers=False,
                                           validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.by_stream = {}
        self.open_streams = set()
        self.cancel_on_response = set()
        self.deadline = time.monotonic() + 15
        self.ping_acked = False
        self.terminated = False

    def send(self, request):
        stream_id = self.conn.get_next_available_stream_id()
        if not isinstance(request, dict):
            request = {"headers": request}
        body, trailers, reset = request.get("body"), request.get("trailers"), request.get("reset")
        # "at-once" leaves the request open: the reset ends it.
        left_open = reset == "at-once"
        self.conn.send_headers(stream_id, encode(request["headers"]),
                               end_stream=not (body or trailers or left_open))
        if body:
            self.conn.send_data(stream_id, body.encode("latin-1"),
                                end_stream=not trailers and not left_open)
        if trailers:
            self.conn.send_headers(stream_id, encode(trailers), end_stream=True)
        result = {"status": None, "headers": {}, "body": "", "reset": None}
        self.by_stream[stream_id] = result
        self.open_streams.add(stream_id)
        if reset == "at-once":
            self.cancel(stream_id)
        elif reset == "after-response-headers":
            self.cancel_on_response.add(stream_id)
        self.sock.sendall(self.conn.data_to_send())
        return result

    def cancel(self, stream_id):
        self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
        self.by_stream[stream_id]["reset"] = "sent CANCEL"
        self.open_streams.discard(stream_id)

    def pump(self, done):
        """Reads and handles frames until done() holds; False at the deadline
        or when the connection closes first."""
        while not done():
            if time.monotonic() > self.deadline:
                return False
            data = self.sock.recv(65536)
            if not data:
                return False
            for event in self.conn.receive_data(data):
                self.handle(event)
            pending = self.conn.data_to_send()
            if pending:
                self.sock.sendall(pending)
        return True

    def handle(self, event):
        result = self.by_stream.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.ResponseReceived):
            for n, v in event.headers:
                n, v = n.decode("latin-1"), v.decode("latin-1")
                if n == ":status":
                    result["status"] = int(v)
                else:
                    result["headers"][n] = v
            if event.stream_id in self.cancel_on_response:
                self.cancel(event.stream_id)
        elif isinstance(event, h2.events.DataReceived):
            if result["reset"]:  # we cancelled it: late bytes
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                return
            result["body"] += event.data.decode("latin-1")
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            if result is None:
                return
            result["reset"] = str(getattr(event.error_code, "name", event.error_code))
            self.open_streams.discard(event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.open_streams.discard(event.stream_id)
        elif isinstance(event, h2.events.PingAckReceived):
            self.ping_acked = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            for s in self.open_streams:
                self.by_stream[s]["reset"] = "goaway"
            self.open_streams.clear()
            self.terminated = True

    def settle(self):
        """A PING, and its ACK read: the gateway has read everything sent
        before it (frames are handled in order), so a stream the client
        reset at once has reached it too before the test goes on (to stop
        the gateway, say). True when the ACK came, or the connection had
        ended anyway."""
        if self.terminated:
            return True
        self.conn.ping(b"settled!")
        self.sock.sendall(self.conn.data_to_send())
        return self.pump(lambda: self.ping_acked or self.terminated) or self.terminated


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        requests = json.load(f)
    flags = sys.argv[3:]
    client = Client(port)
    results, ok = [], True
    if "--one-at-a-time" in flags:
        for request in requests:
            results.append(client.send(request))
            ok = ok and client.pump(lambda: not client.open_streams)
    else:
        results = [client.send(request) for request in requests]
        if "--close-after-headers" in flags:
            ok = client.pump(lambda: all(r["status"] is not None or r["reset"] for r in results))
        else:
            ok = client.pump(lambda: not client.open_streams)
    if "--close-after-headers" not in flags:
        ok = client.settle() and ok
    client.sock.close()
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
