"""The customer HTTP API (docs/http.md): :mod:`smsc.server.web.lean_server` reads requests
(llhttp through httptools) and writes answers, :mod:`smsc.server.web.site` routes them to the
resources, :mod:`smsc.server.web.api` runs each endpoint: authenticate on the store thread, one
core call, encode with :mod:`smsc.http`."""
