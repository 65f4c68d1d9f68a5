"""Rates and their 95 % Wilson intervals: pure arithmetic, no Django.

A report's rate is a count out of another (`Rate(part, whole)`), shown as a
percentage with one decimal, halves rounded up (81.25 -> 81.3), and with its
95 % Wilson score interval: how far the true rate may lie from the one
measured on so few visits. Wilson's interval, unlike the textbook
p +/- 1.96 x SE, stays inside 0-100 % and is honest for small counts and
for rates near 0 or 100 % (0 of 10 is "0 % to 27.8 %", not "0 % to 0 %").

    centre = (p + z^2 / 2n) / (1 + z^2 / n)
    half   = z / (1 + z^2 / n) x sqrt(p (1 - p) / n + z^2 / 4n^2)

with p = part / whole, n = whole and z the 97.5th percentile of the normal
distribution (1.95996...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

Z_95 = NormalDist().inv_cdf(0.975)


def pct(part: int, whole: int) -> float | None:
    """part / whole x 100, one decimal, halves rounded up; None when whole
    is 0."""
    if whole == 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def wilson(part: int, whole: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of part / whole, as fractions (0 to 1);
    None when whole is 0."""
    if whole == 0:
        return None
    if not 0 <= part <= whole:
        raise ValueError(f"{part} out of {whole} is not a rate")
    p, n = part / whole, whole
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 or all of them a bound is exactly 0 or 1: no rounding error off it.
    low = 0.0 if part == 0 else max(0.0, centre - half)
    high = 1.0 if part == whole else min(1.0, centre + half)
    return low, high


def _one_decimal(fraction: float) -> float:
    exact = Decimal(repr(fraction)) * 100
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Rate:
    """`part` out of `whole`: a percentage and its 95 % interval."""

    part: int
    whole: int

    @property
    def pct(self) -> float | None:
        return pct(self.part, self.whole)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % Wilson interval in percent, one decimal; None when
        `whole` is 0."""
        bounds = wilson(self.part, self.whole)
        if bounds is None:
            return None
        return _one_decimal(bounds[0]), _one_decimal(bounds[1])

    @property
    def ci_low(self) -> float | None:
        return None if self.interval is None else self.interval[0]

    @property
    def ci_high(self) -> float | None:
        return None if self.interval is None else self.interval[1]

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.part + other.part, self.whole + other.whole)
