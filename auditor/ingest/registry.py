"""Every known reader, most specific first. A new format is one module plus one line here."""

from __future__ import annotations

from auditor.ingest.base import Reader
from auditor.ingest.pbx_asterisk import AsteriskCdrCsv
from auditor.ingest.pbx_cucm import CucmCdr
from auditor.ingest.pbx_custom import CustomCdrCsv
from auditor.ingest.pbx_freeswitch import FreeSwitchCdrCsv
from auditor.ingest.twilio_api_call import TwilioApiCall
from auditor.ingest.twilio_api_calls import TwilioApiCalls
from auditor.ingest.twilio_api_usage import TwilioApiUsage
from auditor.ingest.twilio_bulk_export import TwilioBulkExport
from auditor.ingest.twilio_console_csv import TwilioConsoleCsv
from auditor.ingest.twilio_parquet import TwilioCallsParquet, TwilioUsageParquet
from auditor.ingest.twilio_usage_csv import TwilioUsageCsv

READERS: list[Reader] = [
    TwilioCallsParquet(),
    TwilioUsageParquet(),
    TwilioApiCalls(),
    TwilioApiCall(),
    TwilioApiUsage(),
    TwilioBulkExport(),
    TwilioConsoleCsv(),
    TwilioUsageCsv(),
    CucmCdr(),
    AsteriskCdrCsv(),
    FreeSwitchCdrCsv(),
    CustomCdrCsv(),  # never sniffed: chosen by --format or a --cdr-format file
]


def reader_names() -> list[str]:
    return [r.name for r in READERS]


def by_name(name: str) -> Reader | None:
    return next((r for r in READERS if r.name == name), None)
