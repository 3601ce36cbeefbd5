"""Runs `phoenix serve` (arize-phoenix) for the tests, on loopback only.

Phoenix's HTTP server binds PHOENIX_HOST (set to 127.0.0.1 by tests/backends/phoenix.mjs), but
its OTLP gRPC receiver always binds "[::]:PHOENIX_GRPC_PORT", every interface, with no setting
to change it (phoenix/server/grpc_server.py): the gRPC server's add_insecure_port is patched to
bind 127.0.0.1 instead. loopback.py refuses every outgoing connection and name lookup that is
not loopback, on top of PHOENIX_TELEMETRY_ENABLED=false and
PHOENIX_ALLOW_EXTERNAL_RESOURCES=false, which the launcher sets.
"""
import loopback  # noqa: F401  (first)

import sys
import warnings

warnings.simplefilter("ignore")

import grpc.aio._server as grpc_server  # noqa: E402

_add_insecure_port = grpc_server.Server.add_insecure_port


def add_insecure_port(self, address):
    port = address.rsplit(":", 1)[1]
    return _add_insecure_port(self, f"127.0.0.1:{port}")


grpc_server.Server.add_insecure_port = add_insecure_port

from phoenix.server.main import main  # noqa: E402

sys.argv = ["phoenix", "serve"]
sys.exit(main())
