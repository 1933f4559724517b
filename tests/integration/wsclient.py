"""A minimal RFC 6455 client on a plain socket: enough to open OpenMetadata's push feed
through httpd, send one text frame and read the echo. No websocket package needed."""

import base64
import hashlib
import os
import socket
import ssl
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handshake:
    def __init__(self, status, headers, sock, rest):
        self.status, self.headers, self.sock, self._buf = status, headers, sock, rest
        self.body = rest if status != 101 else b""

    def close(self):
        try:
            self.sock.sendall(frame(0x8, struct.pack("!H", 1000)))
        except OSError:
            pass
        self.sock.close()

    def send_text(self, text):
        self.sock.sendall(frame(0x1, text.encode()))

    def recv_frame(self):
        """(opcode, payload bytes) of the next frame from the server."""
        head = self._read(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        assert not head[1] & 0x80, "the server masked its frame (RFC 6455 5.1 forbids it)"
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return opcode, self._read(length)

    def _read(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed mid-frame")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def frame(opcode, payload):
    """A client frame: FIN set, masked with a random key."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def open_socket(host, port, path, headers=None, timeout=10, ca_file=None):
    """Sends the upgrade request; returns a Handshake (status, headers; the socket stays
    open for frames when the status is 101, the caller closes it). ca_file: speak TLS,
    verifying the server with that CA (wss://)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             f"Origin: {'https' if ca_file else 'http'}://{host}:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock = socket.create_connection((host, port), timeout=timeout)
    if ca_file is not None:
        sock = ssl.create_default_context(cafile=str(ca_file)).wrap_socket(
            sock, server_hostname=host)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    status = int(status_line.split()[1]) if status_line else 0
    hdrs = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        hdrs[name.strip().lower()] = value.strip()
    if status == 101:
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert hdrs.get("sec-websocket-accept") == accept, hdrs
    else:
        # Read the body too (Content-Length), for the caller's assertions.
        length = int(hdrs.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return Handshake(status, hdrs, sock, rest)
