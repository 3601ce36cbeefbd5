"""Keeps a Python test process on 127.0.0.1, and points the reference client at a local receiver.

Import this before anything else. It
- refuses every socket connection and name lookup that is not loopback (so nothing reaches the
  reference client's cloud API, telemetry endpoints or anything else, whatever the code does);
- rewrites the reference client's cloud base URL to AGENSIGHT_TEST_BASE, when set.

Why at the `requests` level: agensight 0.6.3 has no setting for its URL. The span exporter
builds it from a module constant (agensight.tracing.exporter_prod.BASE_URL), but the token
validation in agensight.init() and the session posts in init() and in the trace decorator
pass the full cloud URL as a literal to requests.post. Every one of them goes through
requests.Session.request, which is the one place to redirect them all.
"""
import os
import socket

CLOUD = "https://1vrnlwnych.execute-api.ap-south-1.amazonaws.com/prod/api/v1"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class BlockedNetwork(OSError):
    pass


def _host(address):
    return address[0] if isinstance(address, tuple) else address


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
        raise BlockedNetwork(f"blocked: a test process may only connect to 127.0.0.1, not {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in LOOPBACK and host is not None:
        raise socket.gaierror(socket.EAI_NONAME, f"blocked: no name lookups in tests ({host})")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo

BASE = os.environ.get("AGENSIGHT_TEST_BASE")
if BASE:
    import requests

    _request = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(CLOUD):
            url = BASE + url[len(CLOUD):]
        return _request(self, method, url, *args, **kwargs)

    requests.Session.request = request
