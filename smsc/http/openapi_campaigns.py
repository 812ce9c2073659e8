"""The OpenAPI paths of contact lists, campaigns and opt-outs (``/v1/lists``,
``/v1/campaigns``, ``/v1/opt-outs``), merged into :func:`smsc.http.openapi.document`; their
schemas come from :mod:`smsc.http.list_models` and :mod:`smsc.http.campaign_models`."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from smsc.http import campaign_models as c
from smsc.http import list_models as lm
from smsc.http.openapi_parts import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, ok_response, operation

CAMPAIGN_INPUTS: Final[tuple[type[BaseModel], ...]] = (
    lm.NewList, lm.ContactsIn, lm.OptOutsIn, c.NewCampaign, c.CleanIn)
CAMPAIGN_OUTPUTS: Final[tuple[type[BaseModel], ...]] = (
    lm.ContactList, lm.ContactLists, lm.Deleted, lm.ImportSummary, lm.ContactPage,
    lm.OptOutsAdded, lm.OptOutPage, lm.OptedIn, c.Campaign, c.Campaigns, c.Preview, c.Report,
    c.Cleaned)
ACTIONS: Final = ("start", "pause", "resume", "cancel")

_ID = {"name": "id", "in": "path", "required": True,
       "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
_NUMBER = {"name": "number", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^[0-9]{1,15}$"},
           "description": "International digits."}
_PAGE = [
    {"name": "cursor", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 200},
     "description": "The ``next`` of the previous page."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX,
                "default": PAGE_LIMIT_DEFAULT}},
]
_NUMBER_COLUMN = {"name": "number_column", "in": "query", "required": False,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                  "description": "The CSV column holding the numbers (default: the first "
                                 "named number, phone, msisdn, to, mobile ...)."}
_CSV_IN = ("A CSV file: a header row naming the columns (one of them the numbers), then a "
           "contact a row; separator ',', ';' or tab; UTF-8.")
_CONTACTS_CSV = "Every contact (Accept: text/csv): number, then the list's columns."
_REPORT_CSV = ("Every contact with its outcome (Accept: text/csv): number, mark, note, "
               "message_id, stat, err, parts, charged.")
_ACTION_SUMMARY = {
    "start": "Start a draft campaign (after checking its sender, lists and values)",
    "pause": "Pause a running campaign",
    "resume": "Resume a paused campaign (after the same checks as start)",
    "cancel": "Cancel a campaign for good",
}


def campaign_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v1/lists": {
            "post": operation("create_list", "Create an empty contact list",
                              ok_response("ContactList", "The list"),
                              (401, 409, 413, 415, 422, 503), body="NewList"),
            "get": operation("list_lists", "The account's contact lists",
                             ok_response("ContactLists", "The lists"), (401, 503)),
        },
        "/v1/lists/{id}": {
            "get": operation("get_list", "One contact list", ok_response("ContactList",
                                                                         "The list"),
                             (401, 404, 503), parameters=[_ID]),
            "delete": operation("delete_list", "Delete a list and its contacts",
                                ok_response("Deleted", "Deleted"), (401, 404, 503),
                                parameters=[_ID]),
        },
        "/v1/lists/{id}/contacts": {
            "post": operation("import_contacts", "Import contacts (CSV or JSON) into a list",
                              ok_response("ImportSummary", "What the import did"),
                              (401, 404, 413, 415, 422, 503), body="ContactsIn",
                              csv_body=_CSV_IN, parameters=[_ID, _NUMBER_COLUMN]),
            "get": operation("list_contacts", "A list's contacts, a page at a time (or all "
                                              "as CSV)",
                             ok_response("ContactPage", "A page of contacts",
                                         csv=_CONTACTS_CSV),
                             (401, 404, 422, 503), parameters=[_ID, *_PAGE]),
        },
        "/v1/campaigns": {
            "post": operation("create_campaign", "Create a campaign (a draft)",
                              ok_response("Campaign", "The campaign"),
                              (401, 409, 413, 415, 422, 503), body="NewCampaign"),
            "get": operation("list_campaigns", "The account's campaigns",
                             ok_response("Campaigns", "The campaigns"), (401, 503)),
        },
        "/v1/campaigns/{id}": {
            "get": operation("get_campaign", "One campaign with its counts",
                             ok_response("Campaign", "The campaign"), (401, 404, 503),
                             parameters=[_ID]),
        },
        "/v1/campaigns/{id}/preview": {
            "post": operation("preview_campaign", "What the campaign would send and cost now; "
                                                  "nothing is sent or billed",
                              ok_response("Preview", "The preview"), (401, 404, 422, 503),
                              parameters=[_ID]),
        },
        "/v1/campaigns/{id}/report": {
            "get": operation("campaign_report", "The campaign's counts, cost and delivery rate "
                                                "(or every contact's outcome as CSV)",
                             ok_response("Report", "The report", csv=_REPORT_CSV),
                             (401, 404, 503), parameters=[_ID]),
        },
        "/v1/campaigns/{id}/clean": {
            "post": operation("clean_campaign", "Take contacts whose message ended REJECTD, or "
                                                "UNDELIV for an unknown subscriber, out of "
                                                "their lists",
                              ok_response("Cleaned", "What was taken out"),
                              (401, 404, 413, 415, 422, 503), body="CleanIn",
                              body_required=False, parameters=[_ID]),
        },
        "/v1/opt-outs": {
            "get": operation("list_opt_outs", "The account's opt-out list, by number",
                             ok_response("OptOutPage", "A page of numbers"), (401, 422, 503),
                             parameters=_PAGE),
            "post": operation("add_opt_outs", "Opt numbers out of the account's messages",
                              ok_response("OptOutsAdded", "How many were added"),
                              (401, 413, 415, 422, 503), body="OptOutsIn"),
        },
        "/v1/opt-outs/{number}": {
            "delete": operation("remove_opt_out", "Take a number off the opt-out list",
                                ok_response("OptedIn", "Taken off"), (401, 404, 503),
                                parameters=[_NUMBER]),
        },
    }
    for action in ACTIONS:
        paths[f"/v1/campaigns/{{id}}/{action}"] = {
            "post": operation(f"{action}_campaign", _ACTION_SUMMARY[action],
                              ok_response("Campaign", "The campaign after the change"),
                              (401, 404, 409, 422, 503), parameters=[_ID]),
        }
    return paths


__all__ = ["ACTIONS", "CAMPAIGN_INPUTS", "CAMPAIGN_OUTPUTS", "campaign_paths"]
