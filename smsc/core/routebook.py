"""The routing in force: the config's routes and prices with the store's blacklist and number
portability, as one Router, rebuilt when either changes.

``load`` reads the store (run it on the store thread); ``install`` swaps the result in on the
event loop, where ``route`` answers intake's questions without touching the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from smsc.pdu.constants import MessageState
from smsc.routing.config import RoutingConfig
from smsc.routing.forced_outcomes import ERR_UNKNOWN_SUBSCRIBER
from smsc.routing.numbers import NumberPlan
from smsc.routing.router import Router
from smsc.slotted import slot_constructor
from smsc.store.base import Store
from smsc.store.records import Account


@dataclass(frozen=True, slots=True, kw_only=True)
class Routed:
    """What routing decided for one destination of one submit."""

    source_addr: str
    source_ton: int
    source_npi: int
    destination_addr: str
    time_zone: str | None
    operator: str
    route: str
    price: int  # per part, minor units
    forced_state: int = 0
    forced_error: int = 0
    blacklisted: bool = False


class RouteFn(Protocol):
    """How intake routes one destination (:meth:`RouteBook.route`, or a test's stand-in)."""

    def __call__(self, account: Account, *, source_addr: str, source_ton: int, source_npi: int,
                 destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed: ...


_routed = slot_constructor(Routed)
_UNDELIVERABLE = int(MessageState.UNDELIVERABLE)


class RouteBook:
    def __init__(self, config: RoutingConfig, *,
                 operator_up: Callable[[str, float], bool] | None = None) -> None:
        self.config = config
        self.numbers = NumberPlan()
        self._operator_up = operator_up
        self._now = 0.0
        self.router: Router = self._build([], [])

    def _up(self, operator: str) -> bool:
        return self._operator_up is None or self._operator_up(operator, self._now)

    def _build(self, blacklist: list[object], ported: list[object],
               config: RoutingConfig | None = None) -> Router:
        return (config or self.config).router(
            ported=ported, blacklist=blacklist,  # type: ignore[arg-type]
            numbers=self.numbers, operator_up=self._up)

    def load(self, store: Store, config: RoutingConfig | None = None) -> Router:
        """A router for ``config`` (default: the one in force) with the store's current
        blacklist and ported numbers (store thread)."""
        return self._build(list(store.blacklist()), list(store.ported()), config)

    def install(self, router: Router, config: RoutingConfig | None = None) -> None:
        if config is not None:
            self.config = config
        self.router = router

    def route(self, account: Account, *, source_addr: str, source_ton: int, source_npi: int,
              destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
        self._now = now
        d = self.router.decide(account, source_addr=source_addr, source_ton=source_ton,
                               source_npi=source_npi, destination_addr=destination_addr,
                               dest_ton=dest_ton, dest_npi=dest_npi, now=now)
        choice = d.route
        forced = choice.forced
        state, error = (int(forced.state), forced.error_code) if forced is not None else (0, 0)
        if not state and not d.destination.valid:  # a subscriber lookup would find nobody
            state, error = _UNDELIVERABLE, ERR_UNKNOWN_SUBSCRIBER
        zones = d.destination.time_zones
        return _routed(source_addr=d.source.addr, source_ton=d.source.ton,
                      source_npi=d.source.npi, destination_addr=d.destination.number,
                      time_zone=zones[0] if zones else None, operator=choice.operator,
                      route=choice.route, price=d.price,
                      forced_state=state, forced_error=error,
                      blacklisted=d.blacklisted)
