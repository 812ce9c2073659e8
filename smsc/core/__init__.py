"""The use cases of the SMS centre, one module each, each the single owner of its decisions.

No Twisted, no sockets, no SQL: the modules talk to a :class:`~smsc.store.base.Store` and to the
pure routing and operator packages; the server package runs them on its threads and timers.
Import from the modules (this package re-exports nothing).
"""
