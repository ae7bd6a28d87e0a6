"""Number facts from phonenumbers, computed once per distinct number (never per row)."""

from __future__ import annotations

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType

_TYPES = {PhoneNumberType.TOLL_FREE: "tollfree", PhoneNumberType.MOBILE: "mobile"}


def _number_type(value: str | None, region: str) -> str | None:
    if not value or value.startswith(("client:", "sip:")):
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return _TYPES.get(phonenumbers.number_type(number))


def number_types(numbers: pl.Series, region: str = "US") -> pl.DataFrame:
    """(number, number_type) for each distinct value: 'tollfree', 'mobile' or null."""
    distinct = numbers.drop_nulls().unique().sort()
    return pl.DataFrame(
        {
            "number": distinct,
            "number_type": [_number_type(v, region) for v in distinct.to_list()],
        },
        schema={"number": pl.String, "number_type": pl.String},
    )
