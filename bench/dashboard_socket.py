"""An open dashboard connection for the ingest benchmark: Streamlit's websocket through
`beacon web`'s port, held (answering the server's pings, as a browser does) while the
hits are measured and pinged afterwards, so the figures are those of a process whose
dashboard is open and working. Plain sockets, RFC 6455 framing (client frames masked),
no websocket library needed."""

from __future__ import annotations

import base64
import os
import socket
import struct
import threading
import time

PATH = "/dashboard/_stcore/stream"


class DashboardSocket:
    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Origin: http://127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Protocol: streamlit\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the dashboard closed the websocket handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"no websocket: {status.decode(errors='replace')}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]
        self.sock.settimeout(None)
        self.lock = threading.Lock()
        self.pongs: list[bytes] = []
        self.closed = threading.Event()
        threading.Thread(target=self._listen, daemon=True).start()

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the dashboard closed the websocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.lock:
            self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _listen(self) -> None:
        """Read frames as a browser does: answer the server's pings (it closes a
        connection whose pongs stop), note pongs, stop at a close or an error."""
        try:
            while True:
                first, second = self._read(2)
                length = second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read(8))[0]
                body, opcode = self._read(length), first & 0x0F
                if opcode == 0x9:
                    self._send(0xA, body)
                elif opcode == 0xA:
                    self.pongs.append(body)
                elif opcode == 0x8:
                    return
        except OSError:
            return
        finally:
            self.closed.set()

    def ping(self, timeout: float = 10.0) -> bool:
        """Whether the connection is still open and answers a ping."""
        payload = os.urandom(8)
        try:
            self._send(0x9, payload)
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed.is_set():
            if payload in self.pongs:
                return True
            time.sleep(0.05)
        return payload in self.pongs

    def close(self) -> None:
        self.sock.close()
