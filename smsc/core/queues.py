"""The operator queues as the store thread keeps them: the one owner of what acceptance
(:mod:`smsc.core.accept`), the rounds (:mod:`smsc.core.rounds`) and cancel/replace
(:mod:`smsc.core.messages`) share.

- the operators in force (simulator, MO rules, round size, receipt time zone, pacing), swapped
  as a whole by :meth:`Queues.use_operators`;
- accepted parts due soon, held in memory (a heap by due time) for the rounds to take without
  reading them back, and which of them changed elsewhere since (cancel, replace);
- the operators whose queues in the store had due parts at the last round (their new parts
  wait their turn) and every operator name with a queue;
- a cache of the accounts, dropped when the store says accounts changed.

Everything here runs on the store thread.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo

from smsc.core.ids import MessageIdFormat
from smsc.core.shares import SharedPacing, SharePolicy
from smsc.operators.mo import MoRules
from smsc.operators.pacing import OperatorPacing
from smsc.operators.simulation import OperatorSimulator
from smsc.pdu.constants import MessageState
from smsc.slotted import slot_constructor
from smsc.store.base import Store
from smsc.store.records import AcceptOutcome, Account, FinalAtAcceptance, NewMessage, StoredMessage

_ENROUTE = int(MessageState.ENROUTE)


class Queues:
    shares: SharePolicy | None = None  # set (share_pacing): operators paced across a cluster
    claim_lease = 0.0  # a node of a cluster claims the parts it takes for this long (clustered)

    def __init__(self, store: Store, *, simulator: OperatorSimulator, mo_rules: MoRules,
                 due_batch: int, receipt_zone: tzinfo, id_format: MessageIdFormat,
                 hot_limit: int, hot_horizon: float) -> None:
        self.store = store
        self.id_format = id_format
        self.operators: set[str] | None = None  # operator names with queues
        self.use_operators(simulator, mo_rules, due_batch, receipt_zone)
        self._accounts: dict[str, Account] = {}
        self._accounts_version = -1
        self.generation = 0
        self.hot_limit = hot_limit
        self.hot_horizon = hot_horizon
        self.hot: list[tuple[float, int, StoredMessage]] = []
        self.held_ids: set[int] = set()
        # Operators whose queues in the store had due parts at the last round; new parts for
        # them wait their turn instead of being final at acceptance.
        self.backlog: set[str] = set()
        self.stale: set[int] = set()  # held parts changed elsewhere (cancel, replace)

    # --- the operators in force ----------------------------------------------------------------
    def use_operators(self, simulator: OperatorSimulator, mo_rules: MoRules, due_batch: int,
                      receipt_zone: tzinfo = UTC) -> None:
        """A (reloaded) operators config, all of it at once: queues keep their parts; the
        pacing starts again from the new profiles."""
        self.simulator = simulator
        self.mo_rules = mo_rules
        self.due_batch = due_batch
        self.receipt_zone = receipt_zone  # the dates in receipt texts
        self.pacing: OperatorPacing | SharedPacing = (
            OperatorPacing(simulator.profiles) if self.shares is None
            else SharedPacing(simulator.profiles, self.store.take_tokens, self.shares))
        if self.operators is not None:
            self.operators.update(simulator.profiles)

    def clustered(self, policy: SharePolicy, claim_lease: float) -> None:
        """A node among several on one database: operators paced in shares of buckets in the
        store (:meth:`share_pacing`), every part taken with a claim (``claim_lease``), and no
        part held in memory (another node's rounds could not tell it is held: every part
        waits in the store, where claims keep two nodes from taking it)."""
        self.share_pacing(policy)
        self.claim_lease = claim_lease
        self.hot_limit = 0

    def share_pacing(self, policy: SharePolicy) -> None:
        """A node of a cluster: the operators' throughput is drawn in shares from buckets in
        the store (:class:`smsc.core.shares.SharedPacing`), from now on and after reloads."""
        self.shares = policy
        self.pacing = SharedPacing(self.simulator.profiles, self.store.take_tokens, policy)

    # --- accounts ------------------------------------------------------------------------------
    def refresh_accounts(self) -> None:
        """Forget cached accounts when the store says accounts changed (once per round)."""
        version = self.store.change_counter()
        if version != self._accounts_version:
            self._accounts.clear()
            self._accounts_version = version

    def account(self, system_id: str) -> Account | None:
        account = self._accounts.get(system_id)
        if account is None:
            account = self.store.get_account(system_id)
            if account is not None:
                self._accounts[system_id] = account
        return account

    # --- the queues ----------------------------------------------------------------------------
    def begin(self) -> dict[str, int]:
        """At start: a new generation, so parts a previous run held in memory go back to the
        store's queues, and this run may hold its own. Returns the queue depths."""
        self.generation = self.store.begin_generation()
        depths = self.store.queue_depths()
        self.operators = set(self.simulator.profiles) | set(depths)
        self.backlog = {operator for operator, depth in depths.items() if depth}
        return depths

    def saw(self, parts: Iterable[NewMessage]) -> None:
        """Parts accepted: their operators have queues."""
        if self.operators is not None:
            self.operators.update(p.operator for p in parts)

    def operators_with_work(self) -> set[str]:
        """Every configured operator and any name found in the queues (an operator taken out
        of the config still gets its waiting parts handled, by the default profile). Operators
        in an outage are included: their due parts are told to wait for its end (or expire on
        time), which moves them out of the way until then."""
        if self.operators is None:
            self.operators = set(self.simulator.profiles) | set(self.store.queue_depths())
        return self.operators

    def changed(self, ids: Iterable[int]) -> None:
        """Parts changed in the store (cancelled, replaced, released): a copy held in memory
        is out of date, and the store's queue has them now."""
        held = self.held_ids
        self.stale.update(i for i in ids if i in held)

    # --- parts held in memory ------------------------------------------------------------------
    def hold(self, parts: Sequence[NewMessage], outcomes: list[AcceptOutcome],
             hot_until: float, decided: list[FinalAtAcceptance | None] | None) -> None:
        """Keep accepted parts due by ``hot_until`` in memory: the queue rounds take them from
        here instead of reading them back from the store. Parts final at acceptance are not held."""
        by_key: dict[tuple[int, str], list[NewMessage | None]] = {}
        for n, p in enumerate(parts):
            kept = p if decided is None or decided[n] is None else None
            by_key.setdefault((p.message_id, p.destination_addr), []).append(kept)
        push = heapq.heappush
        hot = self.hot
        for outcome in outcomes:
            if outcome.status or not outcome.part_ids:
                continue
            group = by_key[outcome.message_id, outcome.destination_addr]
            for row_id, part in zip(outcome.part_ids, group, strict=True):
                if part is not None and part.next_at <= hot_until:
                    push(hot, (part.next_at, row_id, held_part(part, row_id)))
                    self.held_ids.add(row_id)

    def take_hot(self, now: float, limit: int
                 ) -> tuple[list[StoredMessage], bool, dict[str, int]]:
        """Due parts held in memory, within each operator's throughput: the parts, whether more
        were due than ``limit``, and per operator how much of its throughput they take (the
        pacing is charged only once the round is decided)."""
        hot = self.hot
        if not hot or hot[0][0] > now:
            return [], False, {}
        pacing = self.pacing
        room: dict[str, float] = {}
        taken: list[StoredMessage] = []
        waiting: list[tuple[float, int, StoredMessage]] = []
        pop = heapq.heappop
        stale = self.stale
        while hot and hot[0][0] <= now and len(taken) < limit:
            entry = pop(hot)
            self.held_ids.discard(entry[1])
            if stale and entry[1] in stale:
                stale.discard(entry[1])
                continue
            operator = entry[2].operator
            left = room.get(operator)
            if left is None:
                left = pacing.available(operator, now)
            if left >= 1:
                room[operator] = left - 1
                taken.append(entry[2])
            else:
                room[operator] = left
                waiting.append(entry)
        for entry in waiting:
            heapq.heappush(hot, entry)
            self.held_ids.add(entry[1])
        taken_now = {op: int(pacing.available(op, now) - left) for op, left in room.items()}
        full = bool(hot) and hot[0][0] <= now and len(taken) >= limit
        return taken, full, taken_now


_stored = slot_constructor(StoredMessage)


def held_part(p: NewMessage, row_id: int) -> StoredMessage:
    """The stored form of a part just accepted (how its charge was split between the credit
    buckets is the store's to know; refunds read it there)."""
    return _stored(
        id=row_id, message_id=p.message_id, account=p.account, credit_owner=p.credit_owner,
        source_addr_ton=p.source_addr_ton, source_addr_npi=p.source_addr_npi,
        source_addr=p.source_addr, dest_addr_ton=p.dest_addr_ton, dest_addr_npi=p.dest_addr_npi,
        destination_addr=p.destination_addr, esm_class=p.esm_class, protocol_id=p.protocol_id,
        priority_flag=p.priority_flag, data_coding=p.data_coding,
        registered_delivery=p.registered_delivery, short_message=p.short_message, tlvs=p.tlvs,
        service_type=p.service_type, part_ref=p.part_ref, part_total=p.part_total,
        part_index=p.part_index, operator=p.operator, route=p.route, price=p.price,
        charged_subscription=0, charged_bought=p.price, submitted_at=p.submitted_at,
        scheduled_at=p.scheduled_at, expires_at=p.expires_at, next_at=p.next_at,
        state=_ENROUTE, attempts=0, done_at=None, error_code=0, text_snippet=p.text_snippet,
        blacklisted=p.blacklisted, refunded=0, forced_state=p.forced_state,
        forced_error=p.forced_error, hook_url=p.hook_url, hook_style=p.hook_style,
        reference=p.reference)
