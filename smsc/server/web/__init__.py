"""The customer HTTP API on twisted.web (docs/http.md): :mod:`smsc.server.web.site` reads
requests and writes answers, :mod:`smsc.server.web.api` runs each endpoint: authenticate on the
store thread, one core call, encode with :mod:`smsc.http`."""
