"""How one simulated operator behaves: throughput, delays, outcomes, outages, offline handsets,
validity periods and queue limit; plus the built-in set of operators.

Everything here is plain data with small pure methods; random draws are passed in as floats in
[0, 1) (see :mod:`smsc.operators.draws`), so sampling is deterministic.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import IntEnum
from statistics import NormalDist
from typing import Final

from smsc.pdu.constants import MessageState

MINUTE: Final = 60.0
HOUR: Final = 3_600.0
DAY: Final = 86_400.0

# The smallest draw used where 0 has no meaning (the inverse normal CDF at 0 is -infinity).
_TINY: Final = 2.0**-53
_NORMAL: Final = NormalDist()

# err values (GSM MAP error causes, written as the receipt's err:NNN and as the error code of
# the network_error_code TLV with network type 3, GSM) used by the built-in profiles.
ERR_NONE: Final = 0
ERR_UNKNOWN_SUBSCRIBER: Final = 1
ERR_TELESERVICE_NOT_PROVISIONED: Final = 11
ERR_CALL_BARRED: Final = 13
ERR_FACILITY_NOT_SUPPORTED: Final = 21
ERR_ABSENT_SUBSCRIBER: Final = 27
ERR_DELIVERY_FAILURE: Final = 32
ERR_SYSTEM_FAILURE: Final = 34
# Not a GSM cause: the destination is on a blacklist of this SMS centre, so nothing was sent.
ERR_BLACKLISTED: Final = 250

NETWORK_TYPE_GSM: Final = 3


class DelayKind(IntEnum):
    FIXED = 1
    UNIFORM = 2
    LOGNORMAL = 3
    EXPONENTIAL = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Delay:
    """A distribution of durations in seconds.

    FIXED: always ``a``. UNIFORM: between ``a`` (low) and ``b`` (high). LOGNORMAL: median ``a``,
    shape ``b`` (sigma of the underlying normal). EXPONENTIAL: mean ``a``. A sample is never
    more than ``cap`` seconds when ``cap`` is set.
    """

    kind: DelayKind = DelayKind.FIXED
    a: float = 0.0
    b: float = 0.0
    cap: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.a) and math.isfinite(self.b)) or self.a < 0 or self.b < 0:
            raise ValueError(f"delay parameters must be finite and not negative: {self}")
        if self.kind == DelayKind.UNIFORM and self.b < self.a:
            raise ValueError(f"uniform delay: high {self.b} is below low {self.a}")
        if self.cap is not None and not (math.isfinite(self.cap) and self.cap >= 0):
            raise ValueError(f"delay cap must be a finite duration, not {self.cap}")

    @classmethod
    def fixed(cls, seconds: float) -> Delay:
        return cls(kind=DelayKind.FIXED, a=seconds)

    @classmethod
    def uniform(cls, low: float, high: float) -> Delay:
        return cls(kind=DelayKind.UNIFORM, a=low, b=high)

    @classmethod
    def lognormal(cls, median: float, sigma: float, cap: float | None = None) -> Delay:
        return cls(kind=DelayKind.LOGNORMAL, a=median, b=sigma, cap=cap)

    @classmethod
    def exponential(cls, mean: float, cap: float | None = None) -> Delay:
        return cls(kind=DelayKind.EXPONENTIAL, a=mean, cap=cap)

    def sample(self, u: float) -> float:
        """The duration for a uniform draw ``u`` in [0, 1) (the inverse CDF at ``u``)."""
        kind = self.kind
        if kind == DelayKind.FIXED:
            value = self.a
        elif kind == DelayKind.UNIFORM:
            value = self.a + (self.b - self.a) * u
        elif kind == DelayKind.LOGNORMAL:
            value = self.a * math.exp(self.b * _NORMAL.inv_cdf(u if u > _TINY else _TINY))
        else:
            value = -self.a * math.log1p(-u)
        cap = self.cap
        return value if cap is None or value <= cap else cap


DEFAULT_DELAY: Final = Delay.lognormal(3.0, 0.5, cap=10 * MINUTE)
DEFAULT_OFFLINE_DURATION: Final = Delay.exponential(30 * MINUTE, cap=7 * DAY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """A final result of a delivery attempt: its state, the receipt's err and the error code of
    the network_error_code TLV (``None``: the same as err)."""

    state: MessageState
    err: int = 0
    network_error: int | None = None

    def __post_init__(self) -> None:
        if self.state == MessageState.ENROUTE:
            raise ValueError("ENROUTE is not a final outcome")
        if not 0 <= self.err <= 255:
            raise ValueError(f"err {self.err} is not 0-255 (query_sm_resp carries one octet)")
        if self.network_error is not None and not 0 <= self.network_error <= 0xFFFF:
            raise ValueError(f"network_error {self.network_error} is not 0-65535")

    @property
    def network_error_code(self) -> int:
        return self.err if self.network_error is None else self.network_error


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeMix:
    """Weighted outcomes; ``pick(u)`` chooses one by a uniform draw."""

    entries: tuple[tuple[float, Outcome], ...]
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _total: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValueError("an outcome mix needs at least one outcome")
        total = 0.0
        cumulative = []
        for weight, _ in self.entries:
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight {weight} must be a finite number >= 0")
            total += weight
            cumulative.append(total)
        if total <= 0:
            raise ValueError("the weights of an outcome mix add up to 0")
        object.__setattr__(self, "_cumulative", tuple(cumulative))
        object.__setattr__(self, "_total", total)

    @classmethod
    def only(cls, outcome: Outcome) -> OutcomeMix:
        return cls(entries=((1.0, outcome),))

    @classmethod
    def of(cls, *entries: tuple[float, Outcome]) -> OutcomeMix:
        return cls(entries=tuple(entries))

    def pick(self, u: float) -> Outcome:
        entries = self.entries
        if len(entries) == 1:
            return entries[0][1]
        index = bisect_right(self._cumulative, u * self._total)
        return entries[min(index, len(entries) - 1)][1]

    def probability(self, state: MessageState) -> float:
        """The share of outcomes with ``state`` (for tests and reports)."""
        return sum(w for w, o in self.entries if o.state == state) / self._total


@dataclass(frozen=True, slots=True, kw_only=True)
class OutageWindow:
    """The operator takes nothing from its queue in [start, end) (POSIX seconds)."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError(f"outage end {self.end} is not after its start {self.start}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyOutage:
    """An outage every day from ``start`` to ``end`` seconds after midnight UTC.

    ``end`` below ``start`` means the window runs over midnight (23:30-00:30).
    """

    start: float
    end: float

    def __post_init__(self) -> None:
        if not (0 <= self.start < DAY and 0 <= self.end < DAY) or self.start == self.end:
            raise ValueError(f"daily outage {self.start}-{self.end} is not a window within a day")

    def end_after(self, now: float) -> float | None:
        """When the window containing ``now`` ends, or None when ``now`` is outside it."""
        of_day = now % DAY
        midnight = now - of_day
        start, end = self.start, self.end
        if start < end:
            return midnight + end if start <= of_day < end else None
        if of_day >= start:
            return midnight + DAY + end
        if of_day < end:
            return midnight + end
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflineHandsets:
    """Handsets that are switched off or out of coverage when their message first arrives.

    With ``probability`` a handset is offline from its message's first delivery attempt for a
    ``duration`` drawn per message; the operator retries every ``retry_interval`` seconds until
    it is back (delivered) or the validity period ends (EXPIRED, err 27 absent subscriber).
    """

    probability: float = 0.0
    duration: Delay = DEFAULT_OFFLINE_DURATION
    retry_interval: float = 5 * MINUTE

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"offline probability {self.probability} is not 0-1")
        if not (math.isfinite(self.retry_interval) and self.retry_interval > 0):
            raise ValueError(f"retry interval {self.retry_interval} must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorProfile:
    """One simulated operator. Times are seconds; throughput is messages per second (0: no
    limit); ``burst`` is the depth of its token bucket (0: one second of throughput)."""

    name: str
    title: str = ""
    throughput: float = 100.0
    burst: int = 0
    delay: Delay = DEFAULT_DELAY
    outcomes: OutcomeMix
    outages: tuple[OutageWindow, ...] = ()
    daily_outages: tuple[DailyOutage, ...] = ()
    offline: OfflineHandsets = OfflineHandsets()
    default_validity: float = 24 * HOUR
    max_validity: float = 72 * HOUR
    queue_limit: int = 2_000_000

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an operator needs a name")
        if not (math.isfinite(self.throughput) and self.throughput >= 0):
            raise ValueError(f"{self.name}: throughput {self.throughput} must be >= 0")
        if self.burst < 0 or self.queue_limit < 1:
            raise ValueError(f"{self.name}: burst must be >= 0 and queue_limit >= 1")
        if not 0 < self.default_validity <= self.max_validity:
            raise ValueError(
                f"{self.name}: default validity {self.default_validity} must be > 0 and not "
                f"above the maximum {self.max_validity}"
            )

    @property
    def bucket_depth(self) -> float:
        return float(self.burst) if self.burst else max(1.0, self.throughput)

    def outage_end(self, now: float) -> float | None:
        """When the outage covering ``now`` is over (windows that touch or overlap are joined),
        or None when the operator is up at ``now``."""
        if not self.outages and not self.daily_outages:
            return None
        end: float | None = None
        moment = now
        # Each round moves past one window; windows are finitely many, a day's cycle bounds it.
        for _ in range(2 + 2 * (len(self.outages) + len(self.daily_outages))):
            later = self._window_end(moment)
            if later is None:
                break
            end = moment = later
        return end

    def _window_end(self, moment: float) -> float | None:
        best: float | None = None
        for window in self.outages:
            if window.start <= moment < window.end and (best is None or window.end > best):
                best = window.end
        for daily in self.daily_outages:
            daily_end = daily.end_after(moment)
            if daily_end is not None and (best is None or daily_end > best):
                best = daily_end
        return best


def _standard_mix(
    *,
    delivered: float = 96.0,
    unknown_subscriber: float = 1.5,
    not_provisioned: float = 0.5,
    delivery_failure: float = 0.5,
    absent: float = 0.7,
    barred: float = 0.5,
    system_failure: float = 0.3,
) -> OutcomeMix:
    return OutcomeMix.of(
        (delivered, Outcome(state=MessageState.DELIVERED)),
        (
            unknown_subscriber,
            Outcome(state=MessageState.UNDELIVERABLE, err=ERR_UNKNOWN_SUBSCRIBER),
        ),
        (
            not_provisioned,
            Outcome(state=MessageState.UNDELIVERABLE, err=ERR_TELESERVICE_NOT_PROVISIONED),
        ),
        (delivery_failure, Outcome(state=MessageState.UNDELIVERABLE, err=ERR_DELIVERY_FAILURE)),
        (absent, Outcome(state=MessageState.EXPIRED, err=ERR_ABSENT_SUBSCRIBER)),
        (barred, Outcome(state=MessageState.REJECTED, err=ERR_CALL_BARRED)),
        (system_failure, Outcome(state=MessageState.UNKNOWN, err=ERR_SYSTEM_FAILURE)),
    )


STANDARD_MIX: Final = _standard_mix()
DEFAULT_OPERATOR: Final = "default"


def builtin_profiles() -> dict[str, OperatorProfile]:
    """The six Ukrainian operators of the product's table and a ``default`` operator.

    Validity periods (default = maximum) are the table's; throughputs, delays and outcome mixes
    are plausible values for a simulator, not measurements.
    """
    offline = OfflineHandsets(probability=0.02)
    smaller_network = OfflineHandsets(probability=0.04)
    profiles = (
        OperatorProfile(
            name="lifecell",
            title="lifecell",
            throughput=100.0,
            delay=Delay.lognormal(3.0, 0.5, cap=10 * MINUTE),
            outcomes=STANDARD_MIX,
            offline=offline,
            default_validity=24 * HOUR,
            max_validity=24 * HOUR,
        ),
        OperatorProfile(
            name="kyivstar",
            title="Kyivstar",
            throughput=200.0,
            delay=Delay.lognormal(2.0, 0.5, cap=10 * MINUTE),
            outcomes=STANDARD_MIX,
            offline=offline,
            default_validity=72 * HOUR,
            max_validity=72 * HOUR,
        ),
        OperatorProfile(
            name="vodafone",
            title="Vodafone Ukraine",
            throughput=150.0,
            delay=Delay.lognormal(2.5, 0.5, cap=10 * MINUTE),
            outcomes=STANDARD_MIX,
            offline=offline,
            default_validity=72 * HOUR,
            max_validity=72 * HOUR,
        ),
        OperatorProfile(
            name="utel",
            title="Utel",
            throughput=20.0,
            delay=Delay.lognormal(4.0, 0.6, cap=10 * MINUTE),
            outcomes=_standard_mix(delivered=94.5, unknown_subscriber=3.0),
            offline=smaller_network,
            default_validity=72 * HOUR,
            max_validity=72 * HOUR,
        ),
        OperatorProfile(
            name="peoplenet",
            title="PEOPLEnet",
            throughput=10.0,
            delay=Delay.lognormal(5.0, 0.6, cap=10 * MINUTE),
            outcomes=_standard_mix(delivered=94.5, unknown_subscriber=3.0),
            offline=smaller_network,
            default_validity=72 * HOUR,
            max_validity=72 * HOUR,
        ),
        OperatorProfile(
            name="intertelecom",
            title="Intertelecom",
            throughput=10.0,
            delay=Delay.lognormal(5.0, 0.6, cap=10 * MINUTE),
            outcomes=_standard_mix(delivered=94.5, unknown_subscriber=3.0),
            offline=smaller_network,
            default_validity=24 * HOUR,
            max_validity=24 * HOUR,
        ),
        OperatorProfile(
            name=DEFAULT_OPERATOR,
            title="Default operator",
            throughput=100.0,
            delay=Delay.lognormal(3.0, 0.5, cap=10 * MINUTE),
            outcomes=STANDARD_MIX,
            offline=offline,
            default_validity=24 * HOUR,
            max_validity=72 * HOUR,
        ),
    )
    return {p.name: p for p in profiles}
