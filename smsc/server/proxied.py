"""Listeners behind a load balancer that speaks the PROXY protocol (HAProxy's ``send-proxy``
or ``send-proxy-v2``): an endpoint string ``haproxy:tcp:2775:...`` (docs/cluster.md).

Twisted's wrapper reads the header but connects the protocol before it has: a connection
would be counted, limited and locked out under the balancer's address. This one connects the
protocol only once the header named the customer's address, so every per-address rule (the
connection caps, the bind locks, an account's allowed addresses) sees the customer. A
connection whose first bytes are not a PROXY header is closed unread.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import endpoints
from twisted.internet.defer import Deferred
from twisted.protocols.haproxy._wrapper import HAProxyProtocolWrapper, HAProxyWrappingFactory
from twisted.python.failure import Failure

from smsc.config.endpoints import PROXIED


class HeaderFirst(HAProxyProtocolWrapper):
    """A connection whose protocol is connected after the PROXY header."""

    _made = False

    def makeConnection(self, transport: Any) -> None:
        # ProtocolWrapper.makeConnection, but the wrapped protocol waits for the header.
        self.connected = 1
        self.transport = transport
        self.factory.registerProtocol(self)

    def dataReceived(self, data: bytes) -> None:
        wrapped: Any = self.wrappedProtocol
        if self._made:
            wrapped.dataReceived(data)
            return
        held: list[bytes] = []
        wrapped.dataReceived = held.append  # what follows the header, until connected
        try:
            super().dataReceived(data)
        finally:
            del wrapped.dataReceived
        if self._proxyInfo is not None and not self._made:
            self._made = True
            wrapped.makeConnection(self)
            for chunk in held:
                wrapped.dataReceived(chunk)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        if self._made:
            super().connectionLost(reason)  # type: ignore[no-untyped-call]
        else:
            self.factory.unregisterProtocol(self)


class HeaderFirstFactory(HAProxyWrappingFactory):
    protocol: Any = HeaderFirst

    def buildProtocol(self, addr: Any) -> Any:
        return HeaderFirst(self, self.wrappedFactory.buildProtocol(addr))  # type: ignore[arg-type]


def listen(reactor: Any, description: str, factory: Any) -> Deferred[Any]:
    """Listen on an endpoint string; behind ``haproxy:`` with :class:`HeaderFirstFactory`."""
    wrapped = description.startswith(PROXIED)
    endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
        reactor, description[len(PROXIED):] if wrapped else description)
    listening: Deferred[Any] = endpoint.listen(
        HeaderFirstFactory(factory) if wrapped else factory)  # type: ignore[no-untyped-call]
    return listening


__all__ = ["HeaderFirst", "HeaderFirstFactory", "listen"]
