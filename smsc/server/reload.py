"""The configuration reload: read the files again and swap in what can change while running,
the operators and routes together; and a new router when the store's routing data changed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.config.http import HttpSettings
from smsc.config.loader import Config
from smsc.config.server import ServerSettings
from smsc.config.watch import ConfigWatch
from smsc.config_error import ConfigError
from smsc.core.binds import LockPolicy
from smsc.core.centre import SmscCore, operator_desk
from smsc.core.routebook import RouteBook
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.base import Store

_log = Logger()
# Settings only read at the start: a reload keeps the running values (and says so).
AT_START = ("listen", "database", "synchronous", "message_id_format", "hash_threads",
            "pin_cpu")


class ConfigReload:
    """Owns the config in force and the routing config the next router is built for; a
    reload hands the new settings to ``use_settings`` (the service passes them on)."""

    def __init__(self, settings: ServerSettings, core: SmscCore, store: Store,
                 worker: StoreWorker, health: StoreHealth, *,
                 use_settings: Callable[[ServerSettings], None],
                 announce: Callable[[str], None], routing: RouteBook | None,
                 config: Config | None, read: Callable[[], Config] | None,
                 use_http: Callable[[HttpSettings], None] | None = None) -> None:
        self.settings = settings
        self.use_http = use_http  # takes a reloaded [http] table (its listen kept)
        self.core = core
        self.store = store
        self.worker = worker
        self.health = health
        self.use_settings = use_settings
        self.announce = announce
        self.routing = routing
        self.config = config
        self.read = read  # reads the config files again; None: no reload
        self.stopping = False  # the service is stopping: no reload
        self.watch = ConfigWatch(config.files) if config is not None else None
        # The routing config the next router is built for (a reload changes it at once, so a
        # blacklist rebuild queued after the reload builds the new routes too).
        self.routing_config = routing.config if routing is not None else None

    def poll(self) -> None:
        """Every second: reload if a config file changed."""
        if self.watch is not None and self.read is not None:
            changed = self.watch.poll()
            if changed:
                self.reload(f"{', '.join(p.name for p in changed)} changed")

    def reload(self, why: str = "") -> bool:
        """Read the config again and use it without dropping binds. A config with a mistake is
        refused whole: the running one stays. Returns whether the new one was taken."""
        if self.read is None or self.stopping:
            return False
        try:
            new = self.read()
        except ConfigError as e:
            _log.error("config not reloaded ({why}): {error}", why=why or "asked", error=str(e))
            if self.watch is not None and self.config is not None:
                self.watch.reset(self.config.files)
            return False
        except OSError as e:
            _log.error("config not reloaded ({why}): {error}", why=why or "asked", error=str(e))
            return False
        self._apply_config(new)
        _log.info("config reloaded ({why})", why=why or "asked")
        self.announce(f"config reloaded ({why or 'asked'})")
        return True

    def _apply_config(self, new: Config) -> None:
        old = self.settings
        kept = [name for name in AT_START if getattr(old, name) != getattr(new.server, name)]
        if kept:
            _log.warn("config: {names} take effect at the next start",
                      names=", ".join(kept))
        settings = dataclasses.replace(new.server, listen=old.listen, database=old.database,
                                       synchronous=old.synchronous,
                                       message_id_format=old.message_id_format,
                                       hash_threads=old.hash_threads, pin_cpu=old.pin_cpu)
        old_http = self.config.http if self.config is not None else None
        self.settings = settings
        self.config = new
        self.use_settings(settings)
        if self.use_http is not None and old_http is not None:
            if new.http.listen != old_http.listen:
                _log.warn("config: http.listen takes effect at the next start")
            self.use_http(dataclasses.replace(new.http, listen=old_http.listen))
        core = self.core
        # Operators and routing switch together. Built here and on the store thread (the
        # router reads the blacklist and ported numbers), then: the core (store thread) takes
        # the new operators (all they come with, as a whole) in the same store call that built
        # the router, and intake (the event loop) takes the new operators, which routing's
        # failover asks too, and the router in one callback, so no submit is routed by one
        # config and queued by the other. If the store call fails, neither changes.
        simulator = new.operators.simulator()
        desk = operator_desk(simulator)
        routing = self.routing
        routing_config = new.routing
        self.routing_config = routing_config

        def build() -> Any:  # store thread
            router = routing.load(self.store, routing_config) if routing is not None else None
            core.use_operators(simulator, new.operators.mo_rules, settings.due_batch,
                               settings.receipt_zone)
            core.opt_outs.use(new.opt_out)
            return router

        def switch(router: Any) -> None:  # event loop
            core.intake.use_operators(desk)
            if routing is not None:
                routing.install(router, routing_config)

        d = self.worker.call(build)
        d.addCallbacks(switch, self._switch_failed)
        if self.watch is not None:
            self.watch.reset(new.files)

    def _switch_failed(self, failure: Failure) -> None:
        if self.routing is not None:
            self.routing_config = self.routing.config
        _log.failure("config: the new operators and routing could not be built; the running "
                     "ones stay (reload again)", failure)

    def rebuild_routes(self) -> None:
        """The blacklist or the ported numbers changed in the store: a new router."""
        if self.routing is None:
            return
        config = self.routing_config
        d = self.worker.call(self.routing.load, self.store, config)
        d.addCallback(self.routing.install, config)
        d.addErrback(self._loop_failed)

    def _loop_failed(self, failure: Failure) -> None:
        self.health.failed("a routine store call", failure)


def lock_policy(settings: ServerSettings) -> LockPolicy:
    """The lockout rules of the config (see smsc.core.binds)."""
    return LockPolicy(lock_after=settings.lock_after, lock_for=settings.lock_for,
                      unknown_id_lock_after=settings.unknown_id_lock_after,
                      test_account_lock_after=settings.test_account.lock_after)


__all__ = ["AT_START", "ConfigReload", "lock_policy"]
