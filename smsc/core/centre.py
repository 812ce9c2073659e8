"""The SMS centre's use cases behind one object, :class:`SmscCore`, which the server calls once
per event. Each use case is a module of its own and the single owner of its decisions:

- on the event loop, never touching the store: :attr:`SmscCore.intake` (submit checks, parts and
  answers, :mod:`smsc.core.submit`) and the queue depths it judges queue room by
  (:mod:`smsc.core.depths`);
- on the store thread (the server's single store worker): :meth:`SmscCore.commit` (the group
  commit's plan, :mod:`smsc.core.accept`), :meth:`SmscCore.due_round` (the operator queues,
  :mod:`smsc.core.rounds`), :meth:`SmscCore.query`, :meth:`SmscCore.cancel`,
  :meth:`SmscCore.replace` (:mod:`smsc.core.messages`), :meth:`SmscCore.reserve_ids`, and
  :attr:`SmscCore.binds`' store steps (:mod:`smsc.core.binds`). What these share (the operators
  in force, parts held in memory, the account cache) has one owner, :mod:`smsc.core.queues`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo

from smsc.config.opt_out import DEFAULT_OPT_OUT, OptOutSettings
from smsc.core.accept import Acceptance, Committed
from smsc.core.binds import DEFAULT_LOCK_POLICY, BindDesk, BindVerdict, LockPolicy
from smsc.core.depths import QueueDepths
from smsc.core.ids import MessageIdFormat
from smsc.core.messages import Messages
from smsc.core.optout import OptOuts
from smsc.core.queues import Queues
from smsc.core.rounds import DueRound, Rounds
from smsc.core.routebook import RouteFn
from smsc.core.submit import Intake, OperatorDesk
from smsc.operators.mo import NO_MO_RULES, MoRules
from smsc.operators.simulation import OperatorSimulator
from smsc.store.base import Store


class SmscCore:
    def __init__(self, store: Store, *, simulator: OperatorSimulator, route: RouteFn,
                 id_format: MessageIdFormat, lock_policy: LockPolicy = DEFAULT_LOCK_POLICY,
                 due_batch: int = 2000, take_id: Callable[[], int | None],
                 mo_rules: MoRules = NO_MO_RULES, hot_limit: int = 50_000,
                 hot_horizon: float = 10.0, receipt_zone: tzinfo = UTC,
                 opt_out: OptOutSettings = DEFAULT_OPT_OUT) -> None:
        self.store = store
        self.id_format = id_format
        self.binds = BindDesk(store, lock_policy)  # binds and lockout (smsc.core.binds)
        self.queues = Queues(store, simulator=simulator, mo_rules=mo_rules, due_batch=due_batch,
                             receipt_zone=receipt_zone, id_format=id_format,
                             hot_limit=hot_limit, hot_horizon=hot_horizon)
        acceptance = self.acceptance = Acceptance(self.queues)
        self.opt_outs = OptOuts(store, opt_out)  # handsets' STOP/START (smsc.core.optout)
        rounds = Rounds(self.queues, self.opt_outs)
        messages = Messages(self.queues, rounds)
        self.queue_depths = QueueDepths()  # the event loop's count (smsc.core.depths)
        self.intake = Intake(route=route, operators=operator_desk(simulator), take_id=take_id,
                             queue_depths=self.queue_depths, format_id=id_format.format)
        # One call per event (store thread).
        self.begin = self.queues.begin
        self.commit = acceptance.commit
        self.due_round = rounds.due_round
        self.query = messages.query
        self.cancel = messages.cancel
        self.replace = messages.replace
        self.replace_pending = messages.replace_pending

    @property
    def simulator(self) -> OperatorSimulator:
        """The operator simulation in force on the store thread."""
        return self.queues.simulator

    def reserve_ids(self, count: int) -> tuple[int, int]:
        return self.store.reserve_ids(count), count

    def use_operators(self, simulator: OperatorSimulator, mo_rules: MoRules,
                      due_batch: int, receipt_zone: tzinfo = UTC) -> None:
        """A reloaded operators config (store thread): queues keep their parts; the pacing of
        an operator whose settings did not change carries on."""
        self.queues.use_operators(simulator, mo_rules, due_batch, receipt_zone)


def operator_desk(simulator: OperatorSimulator) -> OperatorDesk:
    """The operator simulation as intake sees it."""
    return _SimulatorForIntake(simulator)


class _SimulatorForIntake:
    """The operator simulator behind the :class:`~smsc.core.submit.OperatorDesk` intake asks: queue
    room, first attempt times, profiles, and the test numbers' submit statuses."""

    def __init__(self, simulator: OperatorSimulator) -> None:
        self._s = simulator
        self.queue_has_room = simulator.queue_has_room
        self.first_attempt_at = simulator.first_attempt_at
        self.profile = simulator.profile

    def test_submit_status(self, destination_addr: str) -> int:
        behaviour = self._s.test_behaviour(destination_addr)
        return behaviour.submit_status if behaviour is not None else 0

    def operator_up(self, operator: str, now: float) -> bool:
        return self._s.outage_end(operator, now) is None


__all__ = [
    "BindVerdict", "Committed", "DueRound", "LockPolicy", "OperatorDesk", "SmscCore",
]
