"""Errors as RFC 9457 problem documents (``application/problem+json``): one table mapping each
SMPP status the core decides to a stable machine ``code`` and an HTTP status, and the problems
of the HTTP layer itself (bad input, authentication, not found ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsc.pdu.constants import CommandStatus

S = CommandStatus
PROBLEM_TYPE_BASE: Final = "https://smsc.invalid/problems/"  # + code; not meant to resolve
CONTENT_TYPE: Final = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Refusal:
    """How an SMPP status is told over HTTP: a machine ``code``, the HTTP status of a request
    refused whole with it, and a title."""

    code: str
    http: int
    title: str


# The one table: every status a submit, cancel or query can be refused with (docs/http.md).
BY_STATUS: Final[dict[int, Refusal]] = {
    S.ESME_RINVMSGLEN: Refusal("invalid_message_length", 422, "The message is too long"),
    S.ESME_RSYSERR: Refusal("system_error", 503, "The store is not answering"),
    S.ESME_RINVSRCADR: Refusal("invalid_sender", 422, "The sender is not valid"),
    S.ESME_RINVDSTADR: Refusal("invalid_destination", 422, "The destination is not a number"),
    S.ESME_RINVMSGID: Refusal("invalid_message_id", 404, "No such message"),
    S.ESME_RCANCELFAIL: Refusal("not_pending", 409, "The message is no longer pending"),
    S.ESME_RMSGQFUL: Refusal("queue_full", 503, "The operator's queue is full"),
    S.ESME_RINVESMCLASS: Refusal("invalid_esm_class", 422, "Not a normal message"),
    S.ESME_RSUBMITFAIL: Refusal("submit_failed", 422, "The message cannot be sent"),
    S.ESME_RINVSRCTON: Refusal("invalid_sender_ton", 422, "The sender's type is not valid"),
    S.ESME_RINVSRCNPI: Refusal("invalid_sender_npi", 422, "The sender's plan is not valid"),
    S.ESME_RINVDSTTON: Refusal("invalid_destination_ton", 422,
                               "The destination's type is not valid"),
    S.ESME_RINVDSTNPI: Refusal("invalid_destination_npi", 422,
                               "The destination's plan is not valid"),
    S.ESME_RTHROTTLED: Refusal("throttled", 429, "The account's throughput is spent"),
    S.ESME_RINVSCHED: Refusal("invalid_schedule", 422, "The schedule is not valid"),
    S.ESME_RINVEXPIRY: Refusal("invalid_validity", 422, "The validity is not valid"),
    S.ESME_RQUERYFAIL: Refusal("not_found", 404, "No such message"),
    S.ESME_RINVOPTPARAMVAL: Refusal("invalid_parameter", 422, "A parameter is not valid"),
    S.ESME_RDELIVERYFAILURE: Refusal("delivery_failure", 422, "The message cannot be sent"),
    S.ESME_RX_T_APPN: Refusal("temporary_error", 503, "Try again later"),
    S.ESME_RX_P_APPN: Refusal("permanent_error", 422, "The message cannot be sent"),
    S.ESME_RX_R_APPN: Refusal("rejected", 422, "The message is rejected"),
    S.ESME_RUNKNOWNERR: Refusal("unknown_error", 422, "The message cannot be sent"),
    S.SMSC_RNOCREDIT: Refusal("no_credit", 402, "Not enough credit"),
    S.SMSC_RSENDERNOTREG: Refusal("sender_not_registered", 422,
                                  "The sender is not registered for the account"),
    S.SMSC_RBLACKLISTED: Refusal("blacklisted", 422, "The destination is blacklisted"),
    S.SMSC_RNOROUTE: Refusal("no_route", 422, "No route to the destination"),
    S.SMSC_RTOOMANYPARTS: Refusal("too_many_parts", 422,
                                  "The message needs more parts than the account allows"),
    S.SMSC_RINVPARTS: Refusal("invalid_parts", 422, "The parts do not fit together"),
    S.SMSC_RCOVERAGE: Refusal("no_coverage", 422, "The destination is not covered"),
    S.SMSC_RACCOUNTDISABLED: Refusal("account_disabled", 403, "The account is disabled"),
    S.SMSC_ROPTEDOUT: Refusal("opted_out", 422,
                              "The number opted out of the account's messages"),
}
UNKNOWN: Final = Refusal("unknown_error", 422, "The message cannot be sent")

# Problems of the HTTP layer itself (no SMPP status).
INVALID_REQUEST: Final = Refusal("invalid_request", 422, "The request is not valid")
UNAUTHORIZED: Final = Refusal("unauthorized", 401, "Not authenticated")
NOT_FOUND: Final = Refusal("not_found", 404, "Not found")
METHOD_NOT_ALLOWED: Final = Refusal("method_not_allowed", 405, "Method not allowed")
UNSUPPORTED_MEDIA: Final = Refusal("unsupported_media_type", 415,
                                   "The body must be application/json")
TOO_LARGE: Final = Refusal("request_too_large", 413, "The request body is too large")
IDEMPOTENCY_REUSED: Final = Refusal("idempotency_key_reused", 422,
                                    "The Idempotency-Key was used for another request")
IDEMPOTENCY_IN_PROGRESS: Final = Refusal("idempotency_in_progress", 409,
                                         "A request with this Idempotency-Key is running")
STORE_UNAVAILABLE: Final = Refusal("store_unavailable", 503, "The store is not answering")
# Contact lists and campaigns.
INVALID_CSV: Final = Refusal("invalid_csv", 422, "The CSV file cannot be imported")
LIST_EXISTS: Final = Refusal("list_exists", 409, "The account has a list of that name")
CAMPAIGN_EXISTS: Final = Refusal("campaign_exists", 409,
                                 "The account has a campaign of that name")
ILLEGAL_TRANSITION: Final = Refusal("illegal_transition", 409,
                                    "The campaign's state does not allow this")
CAMPAIGN_INVALID: Final = Refusal("invalid_campaign", 422, "The campaign is not valid")
CAMPAIGN_NOT_READY: Final = Refusal("campaign_not_ready", 422,
                                    "The campaign cannot run as it is")
OWN: Final = (INVALID_REQUEST, UNAUTHORIZED, NOT_FOUND, METHOD_NOT_ALLOWED, UNSUPPORTED_MEDIA,
              TOO_LARGE, IDEMPOTENCY_REUSED, IDEMPOTENCY_IN_PROGRESS, STORE_UNAVAILABLE,
              INVALID_CSV, LIST_EXISTS, CAMPAIGN_EXISTS, ILLEGAL_TRANSITION, CAMPAIGN_INVALID,
              CAMPAIGN_NOT_READY)


def refusal(status: int) -> Refusal:
    """The code and HTTP status of an SMPP status."""
    return BY_STATUS.get(status, UNKNOWN)


def all_codes() -> list[str]:
    """Every machine code, once each, sorted (the OpenAPI document's enum)."""
    return sorted({r.code for r in BY_STATUS.values()} | {r.code for r in OWN}
                  | {UNKNOWN.code})


__all__ = ["BY_STATUS", "CONTENT_TYPE", "Refusal", "all_codes", "refusal"]
