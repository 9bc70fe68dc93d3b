#!/usr/bin/python3
"""Raw bytes over TCP, for tests of what a server does with them.

Usage: raw_tcp.py PORT BYTES [--half-close]

Connects to 127.0.0.1:PORT, sends BYTES (latin-1), with --half-close shuts
its sending side, then reads until the server closes (10 s at most) and
prints one JSON object: {"closed": true|false, "seconds": from the send to
the close, "received": what came back, latin-1}."""

import json
import socket
import sys
import time


def main():
    port, data = int(sys.argv[1]), sys.argv[2].encode("latin-1")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    if "--half-close" in sys.argv[3:]:
        s.shutdown(socket.SHUT_WR)
    start = time.monotonic()
    received = b""
    closed = True
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    except socket.timeout:
        closed = False
    json.dump({"closed": closed, "seconds": round(time.monotonic() - start, 3),
               "received": received.decode("latin-1")}, sys.stdout)


if __name__ == "__main__":
    main()
