"""R4 data types, as checks over raw JSON: the primitives (with the regular expressions of
https://hl7.org/fhir/R4/datatypes.html) and the complex types extraction reads.

A primitive follows the R4 JSON rules with the leniencies of the R4B models (a ``null``
counts as absent, a decimal may be a numeric string), except ``boolean``, which must be a
JSON boolean, and dates, which must be JSON strings. Used by ``shape``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

Check = Callable[[Any], bool]

# --- primitives (R4 datatypes.html regular expressions) ----------------------------------

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_DATE_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATETIME_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?")
_INSTANT_RE = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}")
_CODE_RE = re.compile(r"[^\s]+(\s[^\s]+)*")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]+")
_DECIMAL_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _calendar_day(value: str) -> bool:
    """A full date part names a real day (2023-02-29 does not)."""
    if len(value) < 10:
        return True
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def string(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def uri(value: Any) -> bool:
    return isinstance(value, str)


def code(value: Any) -> bool:
    return isinstance(value, str) and _CODE_RE.fullmatch(value) is not None


def fhir_id(value: Any) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def decimal(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and _DECIMAL_RE.fullmatch(value) is not None


def fhir_date(value: Any) -> bool:
    return isinstance(value, str) and _DATE_RE.fullmatch(value) is not None and _calendar_day(value)


def date_time(value: Any) -> bool:
    return isinstance(value, str) and _DATETIME_RE.fullmatch(value) is not None and _calendar_day(value)


def instant(value: Any) -> bool:
    return isinstance(value, str) and _INSTANT_RE.fullmatch(value) is not None and _calendar_day(value)


def anything(_: Any) -> bool:
    """An element extraction never reads: any content."""
    return True


# --- complex data types ------------------------------------------------------------------

def extension_entry(value: Any) -> bool:
    # Extensions are not read; each still needs its url (R4: Extension.url 1..1).
    return isinstance(value, dict) and isinstance(value.get("url"), str)


def primitive_extension(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def passes(spec: tuple[Check, bool], item: Any) -> bool:
    """One present (non-null) child against its (check, repeats): a repeating element is a
    JSON array whose items are all non-null and pass."""
    check, repeats = spec
    if not repeats:
        return check(item)
    if not isinstance(item, list):
        return False
    for entry in item:
        if entry is None or not check(entry):
            return False
    return True


class Element:
    """A complex data type or backbone element: its known children and their checks.

    ``fields`` maps each child name to its check; ``lists`` names the repeating ones (the
    value must then be a JSON array whose items pass, :func:`passes`). ``id``,
    ``extension`` and the ``_name`` primitive extensions are always allowed. ``None``
    counts as absent.
    """

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, Check], lists: Iterable[str] = (),
                 *, backbone: bool = False) -> None:
        self.fields: dict[str, tuple[Check, bool]] = {
            "id": (string, False), "extension": (extension_entry, True),
        }
        if backbone:  # BackboneElement (and Dosage) may carry modifier extensions
            self.fields["modifierExtension"] = (extension_entry, True)
        listed = frozenset(lists)
        for name, check in fields.items():
            self.fields[name] = (check, name in listed)

    def __call__(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        fields = self.fields
        for key, item in value.items():
            if item is None:
                continue
            spec = fields.get(key)
            if spec is None:
                if key[:1] == "_" and key[1:] in fields and primitive_extension(item):
                    continue
                return False
            if not passes(spec, item):
                return False
        return True


CODING = Element({"system": uri, "version": string, "code": code, "display": string,
                  "userSelected": boolean})
CODEABLE_CONCEPT = Element({"coding": CODING, "text": string}, lists=("coding",))
QUANTITY = Element({"value": decimal, "comparator": code, "unit": string, "system": uri,
                    "code": code})
PERIOD = Element({"start": date_time, "end": date_time})
IDENTIFIER = Element({"use": code, "type": CODEABLE_CONCEPT, "system": uri, "value": string,
                      "period": PERIOD, "assigner": anything})
REFERENCE = Element({"reference": string, "type": uri, "identifier": IDENTIFIER,
                     "display": string})
DOSE_AND_RATE = Element({"type": CODEABLE_CONCEPT, "doseRange": anything, "doseQuantity": QUANTITY,
                         "rateRatio": anything, "rateRange": anything, "rateQuantity": anything})
DOSAGE = Element({
    "sequence": anything, "text": string, "additionalInstruction": anything,
    "patientInstruction": anything, "timing": anything, "asNeededBoolean": anything,
    "asNeededCodeableConcept": anything, "site": anything, "route": anything,
    "method": anything, "doseAndRate": DOSE_AND_RATE, "maxDosePerPeriod": anything,
    "maxDosePerAdministration": anything, "maxDosePerLifetime": anything,
}, lists=("doseAndRate",), backbone=True)
REFERENCE_RANGE = Element({"low": QUANTITY, "high": QUANTITY, "type": anything,
                           "appliesTo": anything, "age": anything, "text": string},
                          backbone=True)
DISPENSE_REQUEST = Element({
    "initialFill": anything, "dispenseInterval": anything, "validityPeriod": PERIOD,
    "numberOfRepeatsAllowed": anything, "quantity": anything,
    "expectedSupplyDuration": QUANTITY, "performer": anything,
}, backbone=True)
