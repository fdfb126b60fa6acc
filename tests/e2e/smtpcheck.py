#!/usr/bin/env python3
"""smtpcheck.py HOST PORT - exit 0 when a 220 greeting arrives within 5 s."""
import socket
import sys

try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), 5) as s:
        s.settimeout(5)
        data = b""
        while not data.endswith(b"\r\n") or data[3:4] == b"-":
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
            if b"\r\n220 " in b"\r\n" + data:
                break
        s.sendall(b"QUIT\r\n")
        sys.exit(0 if data.startswith(b"220") else 1)
except OSError:
    sys.exit(1)
