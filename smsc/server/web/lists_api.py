"""``/v1/lists``: an account's contact lists over HTTP: create, list, show, delete, import
contacts (CSV or JSON) and read them back (pages, or all as CSV). The import is the CLI's
(:class:`smsc.core.contacts.ContactImport`), run a batch per store call so other work runs
between batches; an API key sees only its own account's lists (another's is a 404)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import IO, Final

from pydantic import BaseModel, ConfigDict, Field

from smsc.core.contacts import ContactImport, CsvProblem, ImportSummary, read_csv, records
from smsc.http import list_answers as la
from smsc.http import list_models as lm
from smsc.http import problems as p
from smsc.http.openapi_parts import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX
from smsc.http.replies import ProblemReply, Reply, ok, problem
from smsc.routing.numbers import home_country_problem
from smsc.server.web.api import Caller, HttpApi
from smsc.server.web.endpoints import (
    CSV,
    AnyReply,
    StreamReply,
    accepts_csv,
    check_utf8,
    field_problem,
    json_body,
    media_type,
    on_store,
    parse_query,
    path_id,
    take_content,
)
from smsc.server.web.web_request import WebRequest
from smsc.store.base import ContactListExists
from smsc.store.contact_records import Contact, ContactList

_LIST: Final = re.compile(r"/v1/lists/([^/]{1,40})(/contacts)?")
EXPORT_PAGE: Final = 1000


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number_column: str | None = Field(default=None, min_length=1, max_length=100)


def _lines(body: IO[bytes]) -> Iterator[str]:
    """A body checked by :func:`check_utf8` as text lines (a byte order mark dropped)."""
    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
    try:
        yield from text
    finally:
        text.detach()


class ListsApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api

    def methods(self, path: str) -> tuple[str, ...] | None:
        if path == "/v1/lists":
            return ("GET", "POST")
        found = _LIST.fullmatch(path)
        if found is None:
            return None
        return ("GET", "POST") if found.group(2) else ("GET", "DELETE")

    async def answer(self, caller: Caller, method: str, path: str,
                     request: WebRequest) -> AnyReply:
        if path == "/v1/lists":
            if method == "POST":
                return await self.create(caller, json_body(lm.NewList, request))
            return await self.all(caller)
        found = _LIST.fullmatch(path)
        assert found is not None
        target = await self.own(caller, path_id(found.group(1), "list"))
        if found.group(2) is None:
            if method == "DELETE":
                return await self.delete(target)
            return ok(la.contact_list(target))
        if method == "POST":
            return await self.import_(caller, target, request)
        if accepts_csv(request):
            return StreamReply(CSV, self._export(target))
        return await self.contacts(target, parse_query(PageQuery, request))

    async def own(self, caller: Caller, list_id: int) -> ContactList:
        """The caller's list ``list_id`` (a 404 when there is none, or it is another's)."""
        found = await on_store(self.api, "reading a contact list",
                               self.api.store.contact_list_by_id, list_id)
        if found is None or found.account != caller.account.system_id:
            raise ProblemReply(problem(p.NOT_FOUND, f"no list {list_id} of yours"))
        return found  # type: ignore[no-any-return]

    async def create(self, caller: Caller, new: lm.NewList) -> Reply:
        if new.country:
            why = home_country_problem(new.country)
            if why is not None:
                raise field_problem(p.INVALID_REQUEST, why, "country")
        store, now = self.api.store, self.api.clock.seconds()
        try:
            made = await on_store(self.api, "creating a contact list",
                                  lambda: store.create_contact_list(
                                      caller.account.system_id, new.name,
                                      country=new.country, now=now),
                                  passing=(ContactListExists,))
        except ContactListExists:
            raise field_problem(p.LIST_EXISTS, f"you have a list {new.name!r}",
                                "name") from None
        return ok(la.contact_list(made))

    async def all(self, caller: Caller) -> Reply:
        lists = await on_store(self.api, "reading contact lists",
                               self.api.store.contact_lists, caller.account.system_id)
        return ok(lm.ContactLists(lists=[la.contact_list(x) for x in lists]))

    async def delete(self, target: ContactList) -> Reply:
        gone = await on_store(self.api, "deleting a contact list",
                              self.api.store.delete_contact_list, target.id)
        if not gone:
            raise ProblemReply(problem(p.NOT_FOUND, f"no list {target.id} of yours"))
        return ok(lm.Deleted(id=target.id, deleted=True))

    # --- POST /v1/lists/{id}/contacts -----------------------------------------------------------
    async def import_(self, caller: Caller, target: ContactList, request: WebRequest) -> Reply:
        store, account = self.api.store, caller.account
        kind = media_type(request)
        if kind in ("text/csv", "application/csv", "text/plain"):
            number_column = parse_query(ImportQuery, request).number_column
            body = take_content(request)  # read on the store thread; closed below

            def begin() -> Iterator[ImportSummary]:
                why = check_utf8(body)
                if why is not None:
                    raise CsvProblem(why)
                header, rows = read_csv(_lines(body), number_column)
                return ContactImport(store, target, account).batches(header, rows)

            try:
                summary = await self._run(begin)
            finally:
                body.close()
        else:
            given = json_body(lm.ContactsIn, request)

            def begin() -> Iterator[ImportSummary]:
                header, rows = records((c.number, c.fields) for c in given.contacts)
                return ContactImport(store, target, account).batches(header, rows)

            summary = await self._run(begin)
        after = await on_store(self.api, "reading a contact list", store.contact_list_by_id,
                               target.id)
        return ok(la.import_summary(summary, after or target))

    async def _run(self, begin: Callable[[], Iterator[ImportSummary]]) -> ImportSummary:
        """An import begun and run a batch per store call; its summary."""
        try:
            steps = await on_store(self.api, "importing contacts", begin,
                                   passing=(CsvProblem,))
        except CsvProblem as e:
            raise field_problem(p.INVALID_CSV, str(e), "body") from None
        summary = ImportSummary()
        while True:
            done = await on_store(self.api, "importing contacts", next, steps, None)
            if done is None:
                return summary
            summary = done

    # --- GET /v1/lists/{id}/contacts ------------------------------------------------------------
    async def contacts(self, target: ContactList, q: PageQuery) -> Reply:
        after = int(la.decode_cursor("c1", q.cursor)) if q.cursor is not None else 0
        page = await on_store(self.api, "reading contacts",
                              lambda: self.api.store.contacts(target.id, after=after,
                                                              limit=q.limit + 1))
        return ok(la.contact_page(page, q.limit))

    def _page(self, list_id: int, after: int) -> list[Contact]:
        return self.api.store.contacts(list_id, after=after, limit=EXPORT_PAGE)

    async def _export(self, target: ContactList) -> AsyncIterator[bytes]:
        columns = target.columns
        yield la.csv_rows([["number", *columns]])
        after = 0
        while True:
            page = await on_store(self.api, "reading contacts", self._page, target.id, after)
            if not page:
                return
            after = page[-1].id
            yield la.contacts_csv(page, columns)


__all__ = ["ListsApi"]
