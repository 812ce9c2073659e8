"""``/v1/opt-outs``: the account's opt-out list over HTTP: read it a page at a time, add
numbers (as ``smsc optout add`` does), take one off (as ``smsc optout rm``). Campaigns and
HTTP sends skip the numbers on it (:mod:`smsc.core.batch`, :mod:`smsc.core.campaign_runner`)."""

from __future__ import annotations

import re
from typing import Final

from smsc.http import list_answers as la
from smsc.http import list_models as lm
from smsc.http import problems as p
from smsc.http.replies import ProblemReply, Reply, ok, problem
from smsc.server.web.api import Caller, HttpApi
from smsc.server.web.endpoints import json_body, on_store, parse_query
from smsc.server.web.lists_api import PageQuery
from smsc.server.web.web_request import WebRequest

_NUMBER: Final = re.compile(r"/v1/opt-outs/([^/]{1,40})")
_DIGITS: Final = re.compile(r"[0-9]{1,15}")


class OptOutsApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api

    def methods(self, path: str) -> tuple[str, ...] | None:
        if path == "/v1/opt-outs":
            return ("GET", "POST")
        if _NUMBER.fullmatch(path):
            return ("DELETE",)
        return None

    async def answer(self, caller: Caller, method: str, path: str, request: WebRequest) -> Reply:
        store, system_id = self.api.store, caller.account.system_id
        if path != "/v1/opt-outs":
            found = _NUMBER.fullmatch(path)
            assert found is not None
            number = found.group(1)
            removed = _DIGITS.fullmatch(number) is not None and await on_store(
                self.api, "taking a number off the opt-out list", store.opt_in, system_id,
                number)
            if not removed:
                raise ProblemReply(problem(p.NOT_FOUND, f"{number[:40]} is not on your "
                                                        "opt-out list"))
            return ok(lm.OptedIn(number=number, opted_out=False))
        if method == "POST":
            given = json_body(lm.OptOutsIn, request)
            now = self.api.clock.seconds()
            try:
                added = await on_store(self.api, "adding opt-outs", lambda: sum(
                    store.opt_out(system_id, n, now, given.note) for n in dict.fromkeys(
                        given.numbers)))
            finally:  # the next send reads the list again (some may be added, even so)
                self.api.opt_outs.forget()
            return ok(lm.OptOutsAdded(added=added, numbers=len(set(given.numbers))))
        q = parse_query(PageQuery, request)
        after = la.decode_cursor("o1", q.cursor) if q.cursor is not None else ""
        rows = await on_store(self.api, "reading opt-outs",
                              lambda: store.opt_outs(system_id, after=after, limit=q.limit + 1))
        return ok(la.opt_out_page(rows, q.limit))


__all__ = ["OptOutsApi"]
