"""Listening endpoint strings, checked before anything starts.

The server hands them to Twisted's ``serverFromString``; a mistake found only there would stop
a server that has already opened its database. This checks the kinds smsc documents (tcp, tcp6,
ssl, unix, each optionally behind ``haproxy:``) the way Twisted reads them, and reads a bare
port number as a TCP listener on the loopback address."""

from __future__ import annotations

import ipaddress
import re
from typing import Final

KINDS: Final = ("tcp", "tcp6", "ssl", "unix")
# A prefix that makes a listener read the PROXY protocol (v1 or v2) header a load balancer such
# as HAProxy sends first: the connection then has the customer's address, not the balancer's.
PROXIED: Final = "haproxy:"
_SPLIT: Final = re.compile(r"(?<!\\):")


class EndpointError(ValueError):
    pass


def _port(text: str, value: str) -> None:
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise EndpointError(f"{value!r}: the port must be a number from 0 to 65535")


def server_endpoint(value: str) -> str:
    """``value`` as a server endpoint string ("2776" becomes "tcp:2776:interface=127.0.0.1");
    EndpointError with what is wrong."""
    text = value.strip()
    if text.startswith(PROXIED):  # behind a load balancer speaking the PROXY protocol
        inner = text[len(PROXIED):]
        if inner.startswith(PROXIED) or not inner or inner.isdigit():
            raise EndpointError(f"{value!r}: haproxy: wraps one endpoint, as in "
                                "haproxy:tcp:2775:interface=0.0.0.0")
        return PROXIED + server_endpoint(inner)
    if text.isascii() and text.isdigit():
        _port(text, value)
        return f"tcp:{int(text)}:interface=127.0.0.1"
    kind, *args = _SPLIT.split(text)
    if kind not in KINDS:
        raise EndpointError(
            f"{value!r} is not an endpoint: use tcp:PORT:interface=ADDRESS (e.g. "
            f"tcp:2775:interface=127.0.0.1), ssl:PORT:privateKey=KEY.pem:certKey=CERT.pem, "
            f"unix:PATH, or a bare port number"
        )
    positional = [a for a in args if "=" not in a]
    named: dict[str, str] = {}
    for arg in args:
        if "=" in arg:
            key, _, val = arg.partition("=")
            named[key] = val
    if kind == "unix":
        if not (positional or named.get("address")):
            raise EndpointError(f"{value!r}: give the socket's path (unix:/run/smsc.sock)")
        return text
    port = named.get("port", positional[0] if positional else None)
    if port is None:
        raise EndpointError(f"{value!r}: give the port ({kind}:2775:interface=127.0.0.1)")
    _port(port, value)
    if "interface" in named:
        try:
            ipaddress.ip_address(named["interface"].strip("[]").replace("\\:", ":"))
        except ValueError:
            raise EndpointError(
                f"{value!r}: interface={named['interface']} is not an IP address "
                "(127.0.0.1, 0.0.0.0, ::1)"
            ) from None
    if "backlog" in named and not named["backlog"].isdigit():
        raise EndpointError(f"{value!r}: backlog must be a number")
    if kind == "ssl" and not named.get("privateKey"):
        raise EndpointError(f"{value!r}: an ssl endpoint needs privateKey=KEY.pem (and certKey)")
    return text


def endpoint_files(value: str) -> list[str]:
    """The files an ssl endpoint reads (privateKey, certKey), for checking that they exist."""
    text = value.strip()
    kind, *args = _SPLIT.split(text[len(PROXIED):] if text.startswith(PROXIED) else text)
    if kind != "ssl":
        return []
    return [arg.partition("=")[2].replace("\\:", ":") for arg in args
            if arg.partition("=")[0] in ("privateKey", "certKey")]
