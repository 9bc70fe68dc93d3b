#!/usr/bin/python3
"""A data centre for the residency tests: an HTTP/2 server (cleartext, prior
knowledge) on 127.0.0.1 that reads paths as lenient servers do. It
percent-decodes everything (%2F included), reads '\\' as '/', strips segment
parameters (';jsessionid=1', as Tomcat and Spring do), removes dot segments
and merges slashes. A gateway that classified a path one way while this
server serves it another way would be caught by the tests that use it.

Usage: normalising_origin.py NAME [--silent] [--delay=MS]

Binds port 0 and prints "listening on PORT" once it accepts connections,
then one line per request: "request " + JSON with the data centre's name,
the :path and :authority exactly as received, the path it would serve and
every other header (bytes as latin-1). Answers each request with that JSON.
A request for a path with a slow/ segment gets its headers and a first chunk of
body, then nothing more until the client goes away (a stream left open).
A request for a path with a hang/ segment gets no response at all. A request
for a path with a held/ segment is printed and then held, unanswered, until
the server gets SIGUSR1: every request held then is answered in full (so a
test can wait until N requests are in flight, act, and let them finish). A stream
the client resets prints "reset STREAM_ID ERROR_CODE". With --silent the
server accepts connections (printing "accepted") and reads them, but never
says anything: no SETTINGS, no response (a data centre whose HTTP/2
never comes up). With --delay=MS every response (health probes' too) is
sent MS milliseconds after its request arrived: a data centre further away
on the network than on the map.
"""

import asyncio
import json
import posixpath
import signal
import sys
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.exceptions

NAME = sys.argv[1] if len(sys.argv) > 1 else "origin"
SILENT = "--silent" in sys.argv[2:]
# Requests with a held/ segment, waiting for SIGUSR1: (origin, stream id, body).
HELD = []
DELAY = next((int(a.split("=", 1)[1]) / 1000 for a in sys.argv[2:] if a.startswith("--delay=")), 0)


def served_path(raw):
    path = raw.split("?", 1)[0]
    path = urllib.parse.unquote(path, encoding="latin-1")
    path = path.replace("\\", "/")
    path = "/".join(segment.split(";", 1)[0] for segment in path.split("/"))
    path = posixpath.normpath("/" + path)
    return "/" + path.lstrip("/")


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Origin(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        config = h2.config.H2Configuration(client_side=False, header_encoding=None,
                                           validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.requests = {}
        self.trailers = {}
        if SILENT:
            print("accepted", flush=True)
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if SILENT:
            return
        if data:
            self.transport.write(data)

    def data_received(self, data):
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.requests[event.stream_id] = event.headers
                if event.stream_ended:
                    self.respond(event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                self.trailers[event.stream_id] = event.headers
                self.respond(event.stream_id)
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                if event.stream_id in self.requests:
                    self.respond(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                code = getattr(event.error_code, "name", event.error_code)
                print(f"reset {event.stream_id} {code}", flush=True)
        self.flush()

    def respond(self, stream_id):
        headers = [(text(n), text(v)) for n, v in self.requests.pop(stream_id)]
        pseudo = {n: v for n, v in headers if n.startswith(":")}
        path = pseudo.get(":path", "")
        record = {
            "dc": NAME,
            "path": path,
            "authority": pseudo.get(":authority"),
            "served": served_path(path),
            "headers": [[n, v] for n, v in headers if not n.startswith(":")],
            "trailers": [[text(n), text(v)] for n, v in self.trailers.pop(stream_id, [])],
        }
        print("request " + json.dumps(record), flush=True)
        body = (json.dumps(record) + "\n").encode()
        if "/hang/" in record["served"] or SILENT:
            return
        if "/held/" in record["served"]:
            HELD.append((self, stream_id, body))
            return
        slow = "/slow/" in record["served"]
        if DELAY:
            asyncio.get_running_loop().call_later(DELAY, self.answer, stream_id, body, slow)
        else:
            self.answer(stream_id, body, slow)

    def answer(self, stream_id, body, slow=False):
        response = [(":status", "200"), ("content-type", "application/json")]
        if not slow:
            response.append(("content-length", str(len(body))))
        try:
            self.conn.send_headers(stream_id, response)
            self.conn.send_data(stream_id, body, end_stream=not slow)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            return  # the client reset the stream or left while we waited
        if DELAY:
            self.flush()  # outside data_received, which flushes otherwise

    def connection_lost(self, exc):
        HELD[:] = [held for held in HELD if held[0] is not self]


def release_held():
    held = HELD[:]
    HELD.clear()
    for origin, stream_id, body in held:
        try:
            origin.answer(stream_id, body)
        except h2.exceptions.ProtocolError:
            continue  # the stream was reset (or the connection ended) meanwhile
        origin.flush()
    print(f"released {len(held)}", flush=True)


async def main():
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, release_held)
    server = await loop.create_server(Origin, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
