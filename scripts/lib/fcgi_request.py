#!/usr/bin/env python3
"""fcgi_request.py -- send one request straight to a lexrag worker over FastCGI (no web server).

  fcgi_request.py [-X METHOD] [-H 'Name: value']... [-d @FILE|-d DATA] [-t SECONDS] ADDR URI

ADDR is a unix socket path or HOST:PORT; URI is path[?query]. Prints the worker's CGI response
(its header lines, a blank line, the body) to stdout and its FCGI_STDERR to stderr. Exit status:
0 when the worker ended the request (FCGI_END_REQUEST), 1 when the connection failed, was closed
early or timed out, 2 on bad usage. Used by scripts/lib/services.sh (readiness) and the tests.
"""
import argparse
import socket
import struct
import sys

BEGIN, END, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1


def record(rtype, content=b"", rid=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), pad, 0) + content + b"\0" * pad


def pair(name, value):
    out = b""
    for n in (len(name), len(value)):
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def stream(rtype, data):
    out = b""
    for i in range(0, len(data), 65528):
        out += record(rtype, data[i:i + 65528])
    return out + record(rtype)  # the empty record ends the stream


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("-X", dest="method", default=None)
    ap.add_argument("-H", dest="headers", action="append", default=[])
    ap.add_argument("-d", dest="data", default=None)
    ap.add_argument("-t", dest="timeout", type=float, default=10.0)
    ap.add_argument("addr")
    ap.add_argument("uri")
    a = ap.parse_args()

    body = b""
    if a.data is not None:
        if a.data.startswith("@"):
            with open(a.data[1:], "rb") as f:
                body = f.read()
        else:
            body = a.data.encode()
    method = a.method or ("POST" if a.data is not None else "GET")
    path, _, query = a.uri.partition("?")
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "fcgi_request.py", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "1",
        "REQUEST_METHOD": method, "REQUEST_URI": a.uri, "SCRIPT_NAME": path,
        "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)),
    }
    for h in a.headers:
        name, _, value = h.partition(":")
        key = name.strip().upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            params["CONTENT_TYPE"] = value.strip()
        else:
            params["HTTP_" + key] = value.strip()
    if body and "CONTENT_TYPE" not in params:
        params["CONTENT_TYPE"] = "application/json"

    try:
        if "/" in a.addr or ":" not in a.addr:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(a.timeout)
            s.connect(a.addr)
        else:
            host, _, port = a.addr.rpartition(":")
            s = socket.create_connection((host, int(port)), timeout=a.timeout)
        s.sendall(record(BEGIN, struct.pack(">HB5x", RESPONDER, 0))
                  + stream(PARAMS, b"".join(pair(k.encode(), v.encode())
                                            for k, v in params.items()))
                  + stream(STDIN, body))
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                print("fcgi_request: connection closed before FCGI_END_REQUEST", file=sys.stderr)
                return 1
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == STDOUT:
                    sys.stdout.buffer.write(content)
                    sys.stdout.buffer.flush()
                elif rtype == STDERR:
                    sys.stderr.buffer.write(content)
                elif rtype == END:
                    return 0
    except (OSError, socket.timeout) as e:
        print(f"fcgi_request: {a.addr}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
