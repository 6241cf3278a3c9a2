"""Timestamps read alike on every Python the project supports (3.10 and up).

``datetime.fromisoformat`` on Python 3.10 refuses a "Z" zone and fractions of
other than 3 or 6 digits, which RFC 3339 (and AT Protocol clients) allow.
The tests run on 3.11 too, so ``fromisoformat`` is swapped for one that
refuses exactly what 3.10 refuses.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from pelican_engage import model
from pelican_engage.model import parse_timestamp

UTC = timezone.utc


class Python310Datetime(datetime):
    """``fromisoformat`` as Python 3.10 has it."""

    @classmethod
    def fromisoformat(cls, value: str) -> datetime:  # type: ignore[override]
        fraction = re.search(r"T[\d:]+\.(\d+)", value)
        if value[-1:] in "Zz" or (fraction and len(fraction[1]) not in (3, 6)):
            raise ValueError(f"Invalid isoformat string: {value!r}")
        return datetime.fromisoformat(value)


@pytest.fixture(params=["this Python", "Python 3.10"])
def python(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "Python 3.10":
        monkeypatch.setattr(model, "datetime", Python310Datetime)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-21T09:15:02.1Z", datetime(2024, 11, 21, 9, 15, 2, 100000, UTC)),
        ("2024-11-21T09:16:00.123456789Z", datetime(2024, 11, 21, 9, 16, 0, 123456, UTC)),
        ("2024-11-21T09:17:00.000Z", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),
        ("2024-11-21T09:17:00Z", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),
        ("2024-11-21T09:17:00z", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),
        ("2024-11-21T09:17:00.12+02:00", datetime(2024, 11, 21, 7, 17, 0, 120000, UTC)),
        ("2024-11-21T09:17:00+05:30", datetime(2024, 11, 21, 3, 47, tzinfo=UTC)),
        ("2024-11-21T09:17:00", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),  # no zone: UTC
        ("2024-11-21 09:17:00", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),  # WordPress
        ("2024-11-21T09:17:00.000000+00:00", datetime(2024, 11, 21, 9, 17, tzinfo=UTC)),
        # pelican_comment_system's comment files: minutes, or the day alone.
        ("2014-03-21 21:07", datetime(2014, 3, 21, 21, 7, tzinfo=UTC)),
        ("2014-03-21T21:07", datetime(2014, 3, 21, 21, 7, tzinfo=UTC)),
        ("2014-03-21T21:07+01:00", datetime(2014, 3, 21, 20, 7, tzinfo=UTC)),
        ("2014-03-21", datetime(2014, 3, 21, tzinfo=UTC)),
        # Hour 24 is the next midnight (dateutil); fromisoformat refuses it.
        ("2014-03-21T24:00", datetime(2014, 3, 22, tzinfo=UTC)),
        ("2014-03-21 24:00:00", datetime(2014, 3, 22, tzinfo=UTC)),
        ("2014-03-21T24:00+01:00", datetime(2014, 3, 21, 23, tzinfo=UTC)),
    ],
)
def test_rfc3339_forms(python: None, value: str, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected and parsed.utcoffset() is not None
    # What the archive writes reads back the same.
    assert parse_timestamp(parsed.isoformat()) == parsed


def test_offsets_are_kept_as_standard_zones(python: None) -> None:
    parsed = parse_timestamp("2024-11-21T09:17:00.5+05:30")
    assert parsed.tzinfo == timezone(timedelta(hours=5, minutes=30))
    assert parse_timestamp("2024-11-21T09:17:00Z").tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "2024-13-01T00:00:00Z", "2024-13-01", "2024-02-30 10:00", "21/11/2024"],
)
def test_what_is_no_timestamp_says_so(python: None, value: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        parse_timestamp(value)


@pytest.mark.parametrize(
    "value",
    [
        "2014-03-21 21:07",
        "2014-03-21T21:07",
        "2014-03-21T21:07:05+01:00",
        "2014-03-21",
        "2014-03-21T24:00",
    ],
)
def test_fast_forms_read_as_dateutil_reads_them(value: str) -> None:
    """The forms read by ``fromisoformat`` give what dateutil's ``isoparse`` gives."""
    from dateutil.parser import isoparse

    expected = isoparse(value)
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)
    assert parse_timestamp(value) == expected
