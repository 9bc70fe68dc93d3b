#!/usr/bin/python3
"""Raw HTTP/2 frames, for the RFC 9113 tests: sends exactly the frames a
script gives, none of them checked (stream ids out of order, settings out
of range, upper-case names, pseudo-headers anywhere), then reads what the
server answers. Header blocks are HPACK literals without indexing or
Huffman, so every name and value goes out byte for byte.

Usage: h2_frames.py PORT SCRIPT.json [--tls CA_FILE SERVER_NAME]
       h2_frames.py PORT SCRIPT.json --loop SECONDS HOLD   (see loop())

SCRIPT.json: {"steps": [STEP, ...], "read": "close" | "ping-ack", "rcvbuf": BYTES,
"send_while_reading": B}. rcvbuf sets the socket's SO_RCVBUF before it
connects (a small one fills quickly); send_while_reading sends a PING after
every read of the last phase (a client that keeps talking after a GOAWAY);
"after_fin": "send-until-reset" goes on after the server's FIN, without
closing, sending a PING every 20 ms until a send fails (the server closed
its socket: it had lingered "reset_after" seconds since the FIN).
A STEP:
  {"preface": true}                     the client connection preface
  {"settings": [[id, value], ...]}      SETTINGS ({"settings_ack": true}: an ACK)
  {"headers": [[name, value], ...], "stream": N, "end_stream": B, "end_headers": B}
  {"continuation": [[name, value], ...], "stream": N, "end_headers": B}
  {"data": "text", "stream": N, "end_stream": B}
  {"window_update": INCREMENT, "stream": N}
  {"rst_stream": CODE, "stream": N}
  {"priority": DEPENDS_ON, "stream": N}
  {"ping": "8 bytes"}                   (with "ack": true, a PING ACK)
  {"goaway": CODE, "last_stream": N}
  {"frame": {"type": T, "flags": F, "stream": N, "payload": "hex"}}
  {"raw": "latin-1 bytes"}  or  {"hex": "16030100"}
  {"wait_for": {"type": "HEADERS", "stream": N}}   reads until such a frame comes
  {"pause": true}       prints "paused" and waits (60 s at most) for SIGUSR1
  {"flood": BYTES}      sends PING frames, about BYTES of them, without reading
  {"repeat": STEP, "times": N}   STEP's bytes N times, in one write
  {"hpack_bomb": [[name, value], ...], "stream": N, "size": S, "refs": R, "name": NAME}
                        HEADERS (END_STREAM, END_HEADERS) with the fields given,
                        then NAME ("x-bomb" unless given) with S bytes, added
                        to the dynamic table,
                        then R references to it: a few bytes that decode to R*S
  {"fill": BYTES}       reads nothing until at least BYTES wait in the socket's
                        receive queue (FIONREAD) and the count has stayed the
                        same for 100 ms: the receive window is closed, and what
                        the server writes from then on waits in its own socket
end_stream defaults to false, end_headers to true. Names and values are
latin-1 text (any byte can be sent).

The server's SETTINGS are acknowledged as they are read. After the steps
it reads until the server closes the connection (10 s at
most); with "read": "ping-ack" it sends a PING instead and reads until its
ACK comes, which shows the connection is still up.

Prints one JSON object: {"frames": [...], "end": E, "send_error": null | text}
with each frame received as {"type": "GOAWAY", "flags": F, "stream": N, ...}:
GOAWAY adds "error" (the code's name) and "last_stream", RST_STREAM "error",
HEADERS "headers" ({name: value}, after its CONTINUATIONs), DATA "length",
SETTINGS "settings" ([[id, value], ...]), WINDOW_UPDATE "increment". E is
"closed" (the server's FIN, after everything it sent), "reset" (ECONNRESET:
what the server sent may be cut short), "timeout", or "ping-ack".
Exit status 0 when the script ran, whatever the server did with it; 1 when
it could not (no connection, the deadline of a wait_for or a pause).
"""

import fcntl
import json
import signal
import socket
import ssl
import struct
import sys
import termios
import time

import h2.errors
import hpack

TYPES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
         5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def error_name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream & 0x7FFFFFFF) + payload


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def header_block(pairs):
    """Literal header fields without indexing, names and values as given."""
    out = b""
    for name, value in pairs:
        n, v = name.encode("latin-1"), value.encode("latin-1")
        out += b"\x00" + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v
    return out


def step_bytes(step):
    stream = step.get("stream", 0)
    end_stream = END_STREAM if step.get("end_stream") else 0
    end_headers = END_HEADERS if step.get("end_headers", True) else 0
    if "preface" in step:
        return PREFACE
    if "settings" in step:
        return frame(4, 0, 0, b"".join(struct.pack(">HI", i, v) for i, v in step["settings"]))
    if "settings_ack" in step:
        return frame(4, ACK, 0)
    if "headers" in step:
        return frame(1, end_stream | end_headers, stream, header_block(step["headers"]))
    if "continuation" in step:
        return frame(9, end_headers, stream, header_block(step["continuation"]))
    if "data" in step:
        return frame(0, end_stream, stream, step["data"].encode("latin-1"))
    if "window_update" in step:
        return frame(8, 0, stream, struct.pack(">I", step["window_update"]))
    if "rst_stream" in step:
        return frame(3, 0, stream, struct.pack(">I", step["rst_stream"]))
    if "priority" in step:
        return frame(2, 0, stream, struct.pack(">IB", step["priority"], 15))
    if "ping" in step:
        return frame(6, ACK if step.get("ack") else 0, 0, step["ping"].encode("latin-1")[:8].ljust(8, b"\0"))
    if "goaway" in step:
        return frame(7, 0, 0, struct.pack(">II", step.get("last_stream", 0), step["goaway"]))
    if "frame" in step:
        f = step["frame"]
        return frame(f["type"], f.get("flags", 0), f.get("stream", 0), bytes.fromhex(f.get("payload", "")))
    if "repeat" in step:
        return step_bytes(step["repeat"]) * step["times"]
    if "hpack_bomb" in step:
        value = b"b" * step["size"]
        name = step.get("name", "x-bomb").encode()
        added = b"\x40" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value
        block = header_block(step["hpack_bomb"]) + added + b"\xbe" * step["refs"]  # index 62: the newest
        return frame(1, END_STREAM | END_HEADERS, stream, block)
    if "raw" in step:
        return step["raw"].encode("latin-1")
    if "hex" in step:
        return bytes.fromhex(step["hex"])
    raise ValueError("unknown step %r" % (step,))


class Connection:
    def __init__(self, port, tls, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        if tls:
            context = ssl.create_default_context(cafile=tls[0])
            context.set_alpn_protocols(["h2"])
            self.sock = context.wrap_socket(self.sock, server_hostname=tls[1])
        self.buffer = b""
        self.frames = []
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.block = None  # a header block waiting for its CONTINUATION
        self.end = None
        self.send_error = None

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as error:
            if self.send_error is None:
                self.send_error = str(error)

    def queued(self):
        """Bytes in the kernel's receive queue, not yet read."""
        return int.from_bytes(fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0" * 4), "little")

    def receive(self, deadline):
        """Reads once; False when the connection ended (self.end says how)."""
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            self.end = "timeout"
            return False
        except ConnectionResetError:
            self.end = "reset"
            return False
        except ssl.SSLError as error:
            self.end = "tls: " + str(error)
            return False
        if not data:
            self.end = "closed"
            return False
        self.buffer += data
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                break
            kind, flags = self.buffer[3], self.buffer[4]
            stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            payload = self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            self.parsed(kind, flags, stream, payload)
        return True

    def parsed(self, kind, flags, stream, payload):
        if kind == 9 and self.block is not None:
            self.block["fragment"] += payload
            if flags & END_HEADERS:
                self.finish_block()
            return
        f = {"type": TYPES.get(kind, str(kind)), "flags": flags, "stream": stream}
        if kind == 4 and not flags & ACK:
            self.send(frame(4, ACK, 0))  # as every client does
        if kind == 7:
            f["last_stream"] = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            f["error"] = error_name(int.from_bytes(payload[4:8], "big"))
            f["debug"] = payload[8:].decode("latin-1")
        elif kind == 3:
            f["error"] = error_name(int.from_bytes(payload[:4], "big"))
        elif kind == 0:
            f["length"] = len(payload)
        elif kind == 4:
            f["settings"] = [list(struct.unpack(">HI", payload[i:i + 6]))
                             for i in range(0, len(payload) - 5, 6)]
        elif kind == 8:
            f["increment"] = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
        elif kind == 6:
            f["data"] = payload.decode("latin-1")
        elif kind == 1:
            if flags & 0x8:  # PADDED
                payload = payload[1:len(payload) - payload[0]]
            if flags & 0x20:  # PRIORITY
                payload = payload[5:]
            f["fragment"] = payload
            self.block = f
            if flags & END_HEADERS:
                self.finish_block()
            return
        self.frames.append(f)

    def finish_block(self):
        f, self.block = self.block, None
        fragment = f.pop("fragment")
        f["headers"] = {n.decode("latin-1") if isinstance(n, bytes) else n:
                        v.decode("latin-1") if isinstance(v, bytes) else v
                        for n, v in self.decoder.decode(fragment, raw=True)}
        self.frames.append(f)

    def has(self, want, start):
        return any(f["type"] == want.get("type") and
                   ("stream" not in want or f["stream"] == want["stream"]) and
                   ("data" not in want or f.get("data") == want["data"])
                   for f in self.frames[start:])


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        script = json.load(f)
    tls = sys.argv[4:6] if sys.argv[3:4] == ["--tls"] else None
    # Blocked from the start, so a SIGUSR1 sent once "paused" is printed waits for sigtimedwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    if sys.argv[3:4] == ["--loop"]:
        return loop(port, script, float(sys.argv[4]), float(sys.argv[5]))
    return run(port, script, tls)


def loop(port, script, seconds, hold):
    """For a benchmark's abuser (bench/e2e/abuse.sh): the script again and
    again, each time on a new connection, for `seconds`; a pause step holds
    the connection `hold` seconds instead of waiting for SIGUSR1. One
    process for the whole run, so the abuser costs what it sends, not a
    Python start per connection. Prints {"connections": N, "failed": F}."""
    steps = [{"hold": hold} if "pause" in step else step for step in script["steps"]]
    end, connections, failed = time.monotonic() + seconds, 0, 0
    while time.monotonic() < end:
        connections += 1
        try:
            with open("/dev/null", "w") as quiet:
                stdout, sys.stdout = sys.stdout, quiet
                try:
                    run(port, dict(script, steps=steps), None)
                finally:
                    sys.stdout = stdout
        except OSError:
            failed += 1
    print(json.dumps({"connections": connections, "failed": failed}))
    return 0


def run(port, script, tls):
    conn = Connection(port, tls, script.get("rcvbuf"))
    deadline = time.monotonic() + 15
    for step in script["steps"]:
        if "wait_for" in step:
            start = 0
            while not conn.has(step["wait_for"], start):
                if not conn.receive(deadline):
                    print(json.dumps({"frames": conn.frames, "end": conn.end,
                                      "send_error": conn.send_error,
                                      "failed": "wait_for %r" % (step["wait_for"],)}))
                    return 1
        elif "pause" in step:
            print("paused", flush=True)
            if signal.sigtimedwait([signal.SIGUSR1], 60) is None:
                print(json.dumps({"failed": "no SIGUSR1"}))
                return 1
            deadline = time.monotonic() + 15
        elif "hold" in step:
            time.sleep(step["hold"])  # holding the connection is the point, not a wait for something
            conn.sock.close()
            return 0
        elif "fill" in step:
            last, same = -1, 0
            while same < 5:
                if time.monotonic() > deadline:
                    print(json.dumps({"failed": "fill: %d bytes queued" % conn.queued()}))
                    return 1
                time.sleep(0.02)  # polls the kernel's count: nothing can notify us of it
                now = conn.queued()
                same = same + 1 if now == last and now >= step["fill"] else 0
                last = now
        elif "flood" in step:
            ping = frame(6, 0, 0, b"floodfld")
            conn.send(ping * max(1, step["flood"] // len(ping)))
        else:
            conn.send(step_bytes(step))
    read_deadline = time.monotonic() + 10
    if script.get("read") == "ping-ack":
        start = len(conn.frames)
        conn.send(frame(6, 0, 0, b"alive?!!"))
        while not conn.has({"type": "PING", "data": "alive?!!"}, start):
            if not conn.receive(read_deadline):
                break
        else:
            conn.end = "ping-ack"
    else:
        ping = frame(6, 0, 0, b"talking!")
        while conn.receive(read_deadline):
            if script.get("send_while_reading"):
                conn.send(ping)
    result = {"frames": conn.frames, "end": conn.end, "send_error": conn.send_error}
    if script.get("after_fin") == "send-until-reset" and conn.end == "closed":
        fin, ping = time.monotonic(), frame(6, 0, 0, b"still?!!")
        conn.send_error = None
        while conn.send_error is None and time.monotonic() < fin + 10:
            conn.send(ping)
            time.sleep(0.02)  # paces the PINGs
        result["reset_after"] = round(time.monotonic() - fin, 3) if conn.send_error else None
    print(json.dumps(result))
    conn.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
