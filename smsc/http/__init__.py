"""The customer HTTP API's pure part: the request and answer models (pydantic), the problem
codes, the OpenAPI document and the translation of a request into the core's requests. No
Twisted here: the resources in :mod:`smsc.server.web` parse, call the core and encode with it."""
