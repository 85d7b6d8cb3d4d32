"""`--ray-address`: which cluster it names, and whether a Ray cluster answers there, decided in
seconds before `ray.init` is called.

Why: `ray.init` given an address where no Ray cluster answers (a closed port behind `auto`, a
stale RAY_ADDRESS, another program's port) retries for minutes with no word to the user. So the
address is resolved as Ray resolves it (RAY_ADDRESS, then the clusters started on this machine),
then checked with a plain connection and an HTTP/2 greeting, which a cluster's head (its GCS, a
gRPC server) answers at once and nothing else does.
"""

from __future__ import annotations

import socket
from typing import Tuple

from alphaction_demo.errors import DemoError, UsageError

CONNECT_TIMEOUT_S = 5.0
AUTO = "auto"
# the HTTP/2 client preface and an empty SETTINGS frame; a gRPC server's first frame is SETTINGS
_HTTP2_GREETING = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_SETTINGS_FRAME = 4
START_HINT = "start one with `ray start --head` and pass the address it prints"


class ClusterNotFoundError(DemoError):
    """No Ray cluster answers at the address given (or none was found for `auto`)."""


def resolve(address: str) -> str:
    """`auto` as Ray reads it (RAY_ADDRESS, else the cluster started on this machine), as HOST:PORT;
    any other address unchanged."""
    if address != AUTO:
        return address
    try:  # the resolution `ray.init(address="auto")` itself uses (Ray 2.x)
        from ray._private.services import canonicalize_bootstrap_address_or_die
    except ImportError:  # a Ray that moved it: ray.init resolves `auto` itself, unchecked
        return address
    try:
        return canonicalize_bootstrap_address_or_die(AUTO)
    except ConnectionError as error:
        if "multiple" in str(error).lower():
            raise ClusterNotFoundError(f"--ray-address auto: {error}") from None
        raise ClusterNotFoundError("--ray-address auto found no Ray cluster (RAY_ADDRESS is not set and none runs on "
                                   f"this machine); {START_HINT}, or pass HOST:PORT") from None


def split(address: str) -> Tuple[str, int]:
    host, _, port = address.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise UsageError(f"--ray-address must be HOST:PORT or auto, got {address!r}")
    return host.strip("[]") or "127.0.0.1", number


def check_answers(address: str, shown: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ClusterNotFoundError unless a Ray cluster's head answers at HOST:PORT within `timeout_s`."""
    host, port = split(address)
    where = shown if shown == address else f"{shown} ({address})"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as connection:
            connection.settimeout(timeout_s)
            connection.sendall(_HTTP2_GREETING)
            header = b""
            while len(header) < 9:
                chunk = connection.recv(9 - len(header))
                if not chunk:
                    break
                header += chunk
    except socket.timeout:
        raise ClusterNotFoundError(f"no Ray cluster answers at {where} within {timeout_s:g} s; {START_HINT}") from None
    except OSError as error:
        raise ClusterNotFoundError(f"cannot reach the Ray cluster at {where} ({error.strerror or error}); "
                                   f"{START_HINT}") from None
    if len(header) < 9 or header[3] != _SETTINGS_FRAME:
        raise ClusterNotFoundError(f"what answers at {where} is not a Ray cluster (check the port: it is the one "
                                   "`ray start --head` prints, 6379 by default)")


def find_cluster(address: str) -> str:
    """The HOST:PORT of the cluster `address` names, checked to answer; Ray client addresses
    (`ray://...`) are left to Ray."""
    if "://" in address:
        return address
    resolved = resolve(address)
    if resolved != AUTO and "://" not in resolved:  # RAY_ADDRESS may name a Ray client address too
        check_answers(resolved, address)
    return resolved
