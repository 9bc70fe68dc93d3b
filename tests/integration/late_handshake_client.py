#!/usr/bin/python3
"""A TLS client that connects first and shakes hands later: for the test of
a connection the gateway accepted before a reload replaced its listener's
certificate, whose handshake comes after.

Usage: late_handshake_client.py PORT CA_FILE SERVER_NAME

Connects to 127.0.0.1:PORT and prints "connected", sends nothing until it
gets SIGUSR1, then does the TLS handshake (SNI SERVER_NAME, ALPN h2, the
certificate verified against CA_FILE for SERVER_NAME) and prints
"handshake ALPN SUBJECT_CN". Exit status 0 when the handshake succeeded, 1
when it failed or nothing came within 15 seconds.
"""

import signal
import socket
import ssl
import sys


def main():
    port, ca_file, server_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    # Blocked before connecting: a SIGUSR1 sent once "connected" is printed waits for sigtimedwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    print("connected", flush=True)
    if signal.sigtimedwait([signal.SIGUSR1], 15) is None:
        print("no SIGUSR1", flush=True)
        return 1
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    try:
        tls = context.wrap_socket(raw, server_hostname=server_name)
    except (ssl.SSLError, OSError) as error:
        print(f"handshake failed: {error}", flush=True)
        return 1
    subject = dict(item[0] for item in tls.getpeercert()["subject"])
    print(f"handshake {tls.selected_alpn_protocol()} {subject.get('commonName')}", flush=True)
    tls.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
