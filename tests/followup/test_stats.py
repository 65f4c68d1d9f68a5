"""Rates and their 95 % Wilson intervals (followup/stats.py), checked
against published values; no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.stats import Rate, pct, wilson


def test_wilson_matches_the_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81 of 263
    # gives 0.2553 to 0.3662 by the Wilson score method.
    low, high = wilson(81, 263) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # The same table: 15 of 148 gives 0.0624 to 0.1605, and 0 of 20 gives 0
    # to 0.1611.
    low, high = wilson(15, 148) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.0624, 0.1605)
    assert wilson(0, 20) == (0.0, pytest.approx(0.1611, abs=5e-5))


def test_a_rate_is_a_percentage_with_its_interval_in_percent() -> None:
    assert (Rate(0, 10).pct, Rate(0, 10).interval) == (0.0, (0.0, 27.8))
    assert (Rate(5, 10).pct, Rate(5, 10).interval) == (50.0, (23.7, 76.3))
    assert (Rate(10, 10).ci_low, Rate(10, 10).ci_high) == (72.2, 100.0)
    assert Rate(13, 16).pct == 81.3  # 81.25, halves rounded up


def test_nothing_to_measure_is_none_not_zero() -> None:
    empty = Rate(0, 0)

    assert (empty.pct, empty.interval, empty.ci_low, empty.ci_high) == (
        None,
        None,
        None,
        None,
    )
    assert pct(0, 0) is None


def test_more_than_the_whole_is_refused() -> None:
    with pytest.raises(ValueError, match="11 out of 10 is not a rate"):
        wilson(11, 10)


def test_rates_add_up_their_counts() -> None:
    assert Rate(1, 5) + Rate(2, 4) == Rate(3, 9)


@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_the_interval_holds_the_rate_and_stays_within_0_and_100(
    counts: tuple[int, int],
) -> None:
    part, whole = counts
    low, high = wilson(part, whole) or (-1.0, -1.0)

    assert 0.0 <= low <= part / whole <= high <= 1.0
    mirrored = wilson(whole - part, whole) or (-1.0, -1.0)
    assert mirrored == (pytest.approx(1 - high), pytest.approx(1 - low))
