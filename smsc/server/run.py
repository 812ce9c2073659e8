"""Building the server from its config and running it until Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import gc
import re
import resource
import signal
import sys
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.logger import (
    FilteringLogObserver,
    ILogFilterPredicate,
    ILogObserver,
    LogEvent,
    Logger,
    LogLevel,
    PredicateResult,
    formatEvent,
    globalLogBeginner,
    textFileLogObserver,
)
from zope.interface import implementer

from smsc.config.loader import Config
from smsc.config.node import node_id
from smsc.core.centre import SmscCore
from smsc.core.ids import IdBlock, MessageIdFormat
from smsc.core.routebook import RouteBook
from smsc.server.binding import Runner
from smsc.server.reload import lock_policy
from smsc.server.service import SmscService
from smsc.server.worker import StoreWorker
from smsc.store.base import Store

_log = Logger()


def build_service(reactor: Any, config: Config, store: Store, *,
                  announce: Callable[[str], None] = print,
                  worker: StoreWorker | None = None,
                  reload_config: Callable[[], Config] | None = None,
                  hasher: Runner | None = None) -> SmscService:
    """Everything wired, nothing started. ``reload_config`` reads the config again (SIGHUP,
    a changed file); without it the server keeps the config it was given."""
    settings = config.server
    simulator = config.operators.simulator()
    core_ref: list[SmscCore] = []

    def operator_up(name: str, now: float) -> bool:  # by the operators submits are queued by
        return core_ref[0].intake.operator_up(name, now)

    routing = RouteBook(config.routing, operator_up=operator_up)
    routing.install(routing.load(store))
    ids = IdBlock()
    core = SmscCore(store, simulator=simulator, route=routing.route,
                    id_format=MessageIdFormat(hex_ids=settings.hex_ids),
                    lock_policy=lock_policy(settings),
                    due_batch=settings.due_batch, take_id=ids.take,
                    mo_rules=config.operators.mo_rules, receipt_zone=settings.receipt_zone,
                    opt_out=config.opt_out)
    core_ref.append(core)
    # A node among several on one database needs an id that outlives a restart.
    node = node_id(settings) if store.shared_by_nodes else settings.node or "local"
    return SmscService(reactor, settings, store, core, ids, announce=announce, worker=worker,
                       routing=routing, config=config, reload_config=reload_config,
                       hasher=hasher, node=node)


def start_error(error: BaseException) -> str:
    """One line for why the server could not start."""
    if isinstance(error, CannotListenError):
        reason = error.socketError
        text = getattr(reason, "strerror", None) or str(reason)
        if getattr(reason, "errno", None) == errno.EADDRINUSE:
            text = ("the address is in use (another smsc or another program listens there: "
                    "stop it, or give another port with --listen or server.listen)")
        host = error.interface or "*"
        return f"cannot listen on {host}:{error.port}: {text}"
    return str(error) or type(error).__name__


# Young collections run after this many more container objects were allocated than freed
# (CPython's default: 700). The traffic's objects are short-lived and freed by their reference
# counts, so at 700 the collector ran about once per 20 single-message HTTP POSTs and found
# nothing: 0.15 s of 4.5 s of server CPU over 20,000 of them; at 10,000, one collection.
YOUNG_COLLECTION_AFTER = 10_000


def settle_heap() -> None:
    """Once the server is up: move everything loaded so far (modules, number plans, routes,
    config) out of the garbage collector's sight, so a full collection walks only what the
    traffic allocates. Without it every full collection walks some 70,000 start-up objects,
    tens of milliseconds that land on whichever submits are waiting. Then young collections
    are made rarer (``YOUNG_COLLECTION_AFTER``); cyclic garbage waits at most that many
    allocations for them, the older generations keep their ratios."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, older, oldest)


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one (each connection holds one); the
    soft limit in effect afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:  # not on Linux; some systems refuse "unlimited"
        hard = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else soft
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, resource.getrlimit(
                resource.RLIMIT_NOFILE)[1]))
            soft = hard
        except (ValueError, OSError) as e:
            _log.warn("could not raise the open files limit from {soft} to {hard}: {error}",
                      soft=soft, hard=hard, error=str(e))
    return soft


# Twisted's own start and stop chatter, which says nothing the server does not say itself
# ("listening on ...", "smsc could not start: ..."): a listener "starting on", a port
# "Closed", the reactor's "Main loop terminated".
_CHATTER = re.compile(r"\S+ starting on \d+|\(\S+ Port \d+ Closed\)|Main loop terminated\.")


@implementer(ILogFilterPredicate)
class _NotChatter:
    def __call__(self, event: LogEvent) -> Any:  # a PredicateResult constant
        if event.get("log_level") == LogLevel.info and _CHATTER.fullmatch(formatEvent(event)):
            return PredicateResult.no
        return PredicateResult.maybe


def log_observer(log_to: Any) -> ILogObserver:
    """The server's log: text lines to ``log_to``, without Twisted's start and stop chatter."""
    return FilteringLogObserver(textFileLogObserver(log_to), [_NotChatter()])


def serve(config: Config, store: Store, *, log_to: Any = sys.stderr,
          announce: Callable[[str], None] = print,
          reload_config: Callable[[], Config] | None = None) -> int:
    """Run the server in the global reactor until a signal stops it; returns the exit code."""
    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor
    globalLogBeginner.beginLoggingTo([log_observer(log_to)], redirectStandardIO=False)
    raise_fd_limit()  # before the service reads the limit it keeps connections under
    service = build_service(reactor, config, store, announce=announce,
                            reload_config=reload_config)
    exit_code = [0]

    def started_failed(failure: Any) -> None:
        exit_code[0] = 1
        announce(f"smsc could not start: {start_error(failure.value)}")
        reactor.stop()

    def stop(*_: object) -> None:
        d = defer.maybeDeferred(service.stopService)
        d.addErrback(lambda f: _log.failure("stopping failed", f))
        d.addBoth(lambda _: reactor.stop())

    service.started.addCallback(lambda _: settle_heap())
    service.started.addErrback(started_failed)
    reactor.callWhenRunning(service.startService)
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(stop))
    signal.signal(signal.SIGINT, lambda *_: reactor.callFromThread(stop))
    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(service.reload, "SIGHUP"))
    reactor.run(installSignalHandlers=False)
    return exit_code[0]
