"""Wire model of the CDS Hooks 2.0 feedback body (``POST {base}/cds-services/{id}/feedback``).

Spec: CDS Hooks 2.0.1 "Feedback" (see ``shared/reference/cds-hooks-2.0.md`` §7, checklist F1-F2).

Field names are the spec's (camelCase) so the model reads like the standard. Unknown
fields and ``extension`` are accepted and kept ("Use of JSON": services accept and ignore
what they do not understand), but every field we do read is type-strict: a number where
the spec says string is a client bug worth a 400, not something to coerce.

Decisions beyond the spec:

* An empty ``feedback`` array is accepted as a no-op. The spec's "no empty arrays" rule is
  addressed to the sender; rejecting it would only make a client retry something that
  carries no information. (The derived JSON Schema says ``minItems: 1``; this model is
  deliberately more lenient there.)
* Sizes are bounded (entries per request, string lengths, suggestions per entry) so a
  hostile or broken client cannot bloat the feedback database through one request.
* ``outcomeTimestamp`` must be an RFC 3339 date-time *with* an offset (the spec's example is
  UTC ``Z``); it is normalised to UTC so the same instant written with different offsets
  is recognised as the same report.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

#: Most feedback entries one request may carry (a batch normally holds a handful).
MAX_FEEDBACK_ENTRIES = 1000
#: Most accepted suggestions one entry may list (a card rarely offers more than a few).
MAX_ACCEPTED_SUGGESTIONS = 100
MAX_ID_LENGTH = 256
MAX_CODE_LENGTH = 256
MAX_URI_LENGTH = 1024
MAX_DISPLAY_LENGTH = 1024
MAX_COMMENT_LENGTH = 4000
#: Longest plausible RFC 3339 date-time (nanosecond fraction and offset) with room to spare.
MAX_TIMESTAMP_LENGTH = 64

Outcome = Literal["accepted", "overridden"]

# strict=True: refuse numbers/booleans where the spec says string (no silent coercion).
# min_length=1: the spec forbids "" for any element ("Use of JSON").
IdStr = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_ID_LENGTH)
]
CodeStr = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_CODE_LENGTH)
]
UriStr = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_URI_LENGTH)
]
DisplayStr = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_DISPLAY_LENGTH)
]
CommentStr = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=MAX_COMMENT_LENGTH)
]

# RFC 3339 §5.6 "date-time": full-date "T" full-time, where time-offset is "Z" or
# +/-hh:mm; "T" and "Z" may be lower case (§5.6 NOTE). The offset is mandatory, which is
# exactly what rules out naive (zone-less) timestamps.
_RFC3339_DATE_TIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>\d{2}):(?P<off_minute>\d{2}))",
    re.ASCII,  # \d must not match non-ASCII digits, which int() would happily parse
)


def parse_rfc3339(value: object) -> datetime:
    """Parse an RFC 3339 date-time string into an aware UTC ``datetime``.

    Aware ``datetime`` objects (built in Python) are accepted and converted to UTC.
    Raises ``ValueError`` for anything else: numbers, naive datetimes, dates without a
    time, timestamps without an offset, or impossible calendar values.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError("timestamp must carry a time zone offset")
        return value.astimezone(timezone.utc)
    if not isinstance(value, str):
        raise ValueError("timestamp must be an RFC 3339 date-time string")
    if len(value) > MAX_TIMESTAMP_LENGTH:
        raise ValueError("timestamp is too long")
    match = _RFC3339_DATE_TIME.fullmatch(value)
    if match is None:
        raise ValueError(
            "timestamp must be an RFC 3339 date-time with offset, e.g. 2021-12-11T10:05:31Z"
        )
    parts = match.groupdict()
    if parts["offset"] in ("Z", "z"):
        offset = timezone.utc
    else:
        off_hour, off_minute = int(parts["off_hour"]), int(parts["off_minute"])
        if off_hour > 23 or off_minute > 59:
            raise ValueError("timestamp offset out of range")
        delta = timedelta(hours=off_hour, minutes=off_minute)
        offset = timezone(delta if parts["sign"] == "+" else -delta)
    # Python keeps microseconds; finer fractions are truncated, not rounded, so a value
    # never moves into the next second.
    fraction = parts["fraction"] or ""
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    second = int(parts["second"])
    if second == 60:
        # RFC 3339 allows a leap second; datetime cannot hold it. Keep the instant in the
        # same minute rather than rejecting a legitimate client timestamp.
        second, microsecond = 59, 999_999
    try:
        parsed = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            second,
            microsecond,
            tzinfo=offset,
        )
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"timestamp is not a valid date-time: {exc}") from exc


UtcTimestamp = Annotated[datetime, BeforeValidator(parse_rfc3339)]


class _WireModel(BaseModel):
    """Base for inbound CDS Hooks objects: unknown fields are kept, never forbidden."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Coding(_WireModel):
    """CDS Hooks ``Coding``: ``code`` and ``system`` required.

    ``display`` is optional here: the sandbox echoes the chosen override reason without
    it (reference §11.1, checklist F2), although a card's ``overrideReasons`` carry one.
    """

    code: CodeStr
    system: UriStr
    display: DisplayStr | None = None


class OverrideReason(_WireModel):
    """Why the clinician dismissed a card: a chosen reason, a free-text comment, or both."""

    reason: Coding | None = None
    userComment: CommentStr | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> OverrideReason:
        # An empty object is forbidden by "Use of JSON"; an overrideReason that says
        # nothing is a client bug (the derived schema states the same anyOf).
        if self.reason is None and self.userComment is None:
            raise ValueError("overrideReason needs a reason, a userComment, or both")
        return self


class AcceptedSuggestion(_WireModel):
    """Reference to a suggestion the clinician accepted (its ``suggestion.uuid``)."""

    id: IdStr


class FeedbackEntry(_WireModel):
    """One feedback item: what happened to one card (``card`` is the card's ``uuid``)."""

    card: IdStr
    outcome: Outcome
    acceptedSuggestions: (
        Annotated[
            list[AcceptedSuggestion],
            Field(min_length=1, max_length=MAX_ACCEPTED_SUGGESTIONS),
        ]
        | None
    ) = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: UtcTimestamp
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> FeedbackEntry:
        # 2.0.1 Feedback: acceptedSuggestions is CONDITIONAL, "REQUIRED for accepted outcomes".
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self

    @property
    def accepted_suggestion_ids(self) -> tuple[str, ...]:
        """Ids of the accepted suggestions, in the order the client sent them."""
        return tuple(s.id for s in self.acceptedSuggestions or ())


class FeedbackRequest(_WireModel):
    """Body of ``POST /cds-services/{id}/feedback``: ``{"feedback": [...]}``.

    An empty array is accepted and means "nothing to record" (see module docstring).
    """

    feedback: Annotated[list[FeedbackEntry], Field(max_length=MAX_FEEDBACK_ENTRIES)]
