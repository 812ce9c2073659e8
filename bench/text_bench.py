"""Micro-benchmark: cost per call of part counting and splitting on typical message texts.

    .venv/bin/python -m bench.text_bench [--repeat N] [--min-time SECONDS]

Texts: 153 GSM characters (one part), 153 GSM characters of which nine are escaped (162 septets:
two parts, so the split must look for escape pairs at the boundary), 70 UCS2 characters (one
part) and 300 UCS2 characters (five parts). For each it times ``count_parts`` and ``split_text``
and prints microseconds per call. Each figure is the best of ``--repeat`` runs of
``timeit``, each long enough (``--min-time``) to swamp the timer.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from functools import partial

from smsc.pdu.text import count_parts, split_text

GSM_153 = (
    "Dear customer, your parcel 4471-0093 is out for delivery today between 10:00 and 14:00. "
    "Reply STOP to opt out. Track it online at example.com/t/4471-0093 any time."
)[:153]
GSM_153_EURO = GSM_153[:142] + " {€€} [€]|~"  # escaped characters push it past 160 septets
UCS2_70 = "Ваша посилка 4471-0093 сьогодні буде доставлена між 10:00 та 14:00. Дякуємо!"[:70]
UCS2_300 = (UCS2_70 * 5)[:300]


def best_us(call: Callable[[], object], repeat: int, min_time: float) -> float:
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    while number * (timer.timeit(number) / number) < min_time:
        number *= 2
    return min(timer.repeat(repeat, number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    args = parser.parse_args()
    texts = {
        "GSM 153 chars": GSM_153,
        "GSM 153 chars with escapes": GSM_153_EURO,
        "UCS2 70 chars": UCS2_70,
        "UCS2 300 chars": UCS2_300,
    }
    print(f"{'text':28} {'parts':>5} {'count_parts':>12} {'split_text':>12}")
    for name, text in texts.items():
        assert len(text) in (70, 153, 300), (name, len(text))
        parts = count_parts(text).parts
        assert parts == len(split_text(text, reference=1))
        count = best_us(partial(count_parts, text), args.repeat, args.min_time)
        split = best_us(partial(split_text, text, reference=1), args.repeat, args.min_time)
        print(f"{name:28} {parts:>5} {count:>9.2f} us {split:>9.2f} us")


if __name__ == "__main__":
    main()
