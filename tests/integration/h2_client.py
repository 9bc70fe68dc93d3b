#!/usr/bin/python3
"""A raw HTTP/2 client for the residency tests: sends header blocks exactly
as given (no validation, no normalisation: doubled headers, odd paths, a
host header beside :authority), each request on its own stream of one
cleartext connection, all at once.

Usage: h2_client.py PORT REQUESTS.json [--close-after-headers]

REQUESTS.json holds a list of requests, each a list of [name, value] header
pairs (values as latin-1 text, so any byte can be sent), or an object
{"headers": [...], "trailers": [...]} for a request that ends with trailers. Prints one JSON
list, a result per request in order:
  {"status": 200, "headers": {...}, "body": "...", "reset": null}
where "reset" names the RST_STREAM error code, or "goaway" when the
connection ended before the stream did. With --close-after-headers the
client closes the connection as soon as every stream has its response
headers (a phone that went away mid-download).

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
import h2.events


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        requests = json.load(f)
    close_after_headers = "--close-after-headers" in sys.argv[3:]

    config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                       validate_outbound_headers=False,
                                       normalize_outbound_headers=False,
                                       validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    results, by_stream = [], {}
    def encode(pairs):
        return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs]

    for request in requests:
        stream_id = conn.get_next_available_stream_id()
        if isinstance(request, dict):
            conn.send_headers(stream_id, encode(request["headers"]), end_stream=False)
            conn.send_headers(stream_id, encode(request["trailers"]), end_stream=True)
        else:
            conn.send_headers(stream_id, encode(request), end_stream=True)
        result = {"status": None, "headers": {}, "body": "", "reset": None}
        results.append(result)
        by_stream[stream_id] = result
    sock.sendall(conn.data_to_send())

    open_streams = set(by_stream)
    deadline = time.monotonic() + 15
    ok = True
    while open_streams:
        if close_after_headers and all(by_stream[s]["status"] is not None for s in open_streams):
            break
        if time.monotonic() > deadline:
            ok = False
            break
        data = sock.recv(65536)
        if not data:
            ok = False
            break
        for event in conn.receive_data(data):
            result = by_stream.get(getattr(event, "stream_id", None))
            if isinstance(event, h2.events.ResponseReceived):
                for n, v in event.headers:
                    n, v = n.decode("latin-1"), v.decode("latin-1")
                    if n == ":status":
                        result["status"] = int(v)
                    else:
                        result["headers"][n] = v
            elif isinstance(event, h2.events.DataReceived):
                result["body"] += event.data.decode("latin-1")
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                if isinstance(event, h2.events.StreamReset):
                    result["reset"] = str(event.error_code.name if hasattr(event.error_code, "name")
                                          else event.error_code)
                open_streams.discard(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                for s in open_streams:
                    by_stream[s]["reset"] = "goaway"
                open_streams.clear()
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    sock.close()
    print(json.dumps(results))
    return 0 if ok or close_after_headers else 1


if __name__ == "__main__":
    sys.exit(main())
