#!/usr/bin/env python3
"""Write the sample records of `sample_exports/records/` (see README.md there): three systems'
own logs of the calls they placed in November 2025, held against the sample Twilio exports with
`auditor audit ... --records FILE --records-format FORMAT`, each with planted problems.

Standard library only, and no auditor import: the call SIDs, numbers and times below are those of
the sample Twilio exports (`sample_exports/`), written out by hand; the expected answers are in
README.md and tests/test_records_samples.py. `python sample_exports/records/generate.py` rewrites
every file here byte-identically (`--out DIR` writes them elsewhere).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
NEW_YORK = ZoneInfo("America/New_York")
# A folder holding this file is left out when a folder above it is audited: these files are read
# only through --records.
SKIP_MARKER = ".auditor-skip"
SKIP_TEXT = (
    "This folder holds your-own-records samples, read with --records only: auditing\n"
    "sample_exports/ as a folder leaves it out (see README.md).\n"
)


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def local(t: datetime) -> str:
    """A naive New York wall time, as the dispatcher writes it."""
    return t.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")


def epoch(t: datetime) -> float:
    return round(t.timestamp(), 1)


# --- 1. Notification dispatch log (notification_log) -------------------------------------------
# (alert_id, campaign, sid, phone, caller_id, sent_at (UTC), outcome, amd, talk_seconds)
TOLLFREE = "+18885550100"
NOTIFICATIONS = [
    # clean: CallSid match, sent 2 s before Twilio started (console CSV line 8)
    (
        "AL-1101",
        "water-main",
        "CA4554c4a8655046b617f270f342a26eb6",
        "+16175550191",
        TOLLFREE,
        utc("2025-11-02 14:02:17"),
        "delivered",
        "human",
        "854",
    ),
    # slow: Twilio started 95 s after the dispatcher sent it (API page 0, record 43)
    (
        "AL-1102",
        "water-main",
        "CA43aa37de958f75da787e6f5a6f3c9793",
        "+34915550175",
        TOLLFREE,
        utc("2025-11-12 16:27:43"),
        "delivered",
        "human",
        "40",
    ),
    # undelivered: the dispatcher says delivered, Twilio says busy (Bulk Export 11-18, line 7)
    (
        "AL-1103",
        "water-main",
        "CA235f2cd0621fc4d35802b5019b2a8734",
        "+13055550166",
        TOLLFREE,
        utc("2025-11-18 18:08:24"),
        "delivered",
        "",
        "",
    ),
    # no CallSid (the API call timed out): matched by number + time; 100 s talk vs Twilio's 124 s
    # is a duration finding, 2 vs 3 billed minutes (Bulk Export 11-19, line 1)
    (
        "AL-1104",
        "school-closing",
        "",
        "(908) 555-0146",
        TOLLFREE,
        utc("2025-11-19 13:30:55"),
        "delivered",
        "human",
        "100",
    ),
    # machine-answered: the dispatcher's own AMD said human, Twilio's says machine_start
    (
        "AL-1105",
        "school-closing",
        "CA117acdb48cd78e790fa2c0dd60a209c5",
        "+19175550186",
        TOLLFREE,
        utc("2025-11-19 22:41:06"),
        "delivered",
        "human",
        "14",
    ),
    # records-only (and so undelivered): a CallSid Twilio never logged
    (
        "AL-1106",
        "school-closing",
        "CA9e2b7c41d05a4f6b8e3d2c1b0a987654",
        "+13055550190",
        TOLLFREE,
        utc("2025-11-20 15:00:00"),
        "delivered",
        "human",
        "35",
    ),
    # rejected: 31 November does not exist (the time does not parse)
    ("AL-1107", "school-closing", "", "+19175550188", TOLLFREE, None, "delivered", "", ""),
    # ambiguous: the same alert logged twice without a CallSid, both 2 s before the one leg to
    # that number (a forwarded call from the toll-free number, API Parquet row 56)
    (
        "AL-1108",
        "it-outage",
        "",
        "+1 908 555 0174",
        TOLLFREE,
        utc("2025-11-29 14:57:20"),
        "no answer",
        "",
        "",
    ),
    (
        "AL-1108",
        "it-outage",
        "",
        "+1 908 555 0174",
        TOLLFREE,
        utc("2025-11-29 14:57:20"),
        "no answer",
        "",
        "",
    ),
    # status: the dispatcher says failed, Twilio says no-answer (Parquet row 57)
    (
        "AL-1109",
        "it-outage",
        "CA23870baa8de0d54c6ff84ee754c0f7cb",
        "+13055550153",
        TOLLFREE,
        utc("2025-11-29 21:38:42"),
        "failed",
        "",
        "",
    ),
]
# twilio-only: CAbf154fa16475c16848e811aa0a5ddc77 (Console CSV line 30, 2025-11-04), a call from
# the toll-free number that no alert claims.
BAD_TIME = "2025-11-31 10:15:00"


def notifications() -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "alert_id",
            "campaign",
            "twilio_sid",
            "phone",
            "caller_id",
            "sent_at",
            "outcome",
            "amd",
            "talk_seconds",
        ]
    )
    for aid, campaign, sid, phone, caller, sent, outcome, amd, talk in NOTIFICATIONS:
        w.writerow(
            [
                aid,
                campaign,
                sid,
                phone,
                caller,
                BAD_TIME if sent is None else local(sent),
                outcome,
                amd,
                talk,
            ]
        )
    return out.getvalue().encode("utf-8")


# --- 2. Salesforce Task export of a dialer (salesforce_task) ------------------------------------
OWNER_A, OWNER_B = "005Hs00000Kq1xTIAR", "005Hs00000Kq1xUIAR"
# (Id, OwnerId, CallObject, dialled number, CallDurationInSeconds, CallDisposition, created UTC)
TASKS = [
    (
        "00THs00001aB3cDMA1",
        OWNER_A,
        "CAff8cefadf1c82d4643915e1fa3852acd",
        "(516) 555-0110",
        "220",
        "Connected",
        utc("2025-11-01 18:26:57"),
    ),
    (
        "00THs00001aB3cEMA1",
        OWNER_A,
        "CA5dcb3b99a94dd24b4c69d236283a548f",
        "(718) 555-0158",
        "0",
        "No Answer",
        utc("2025-11-04 14:54:13"),
    ),
    (
        "00THs00001aB3cFMA1",
        OWNER_B,
        "CA73985c7ed2f33119d8417caaef7ffb9a",
        "(973) 555-0142",
        "23",
        "Connected",
        utc("2025-11-04 16:25:04"),
    ),
    # duration: 880 s in Salesforce, 946 s at Twilio: 15 vs 16 billed minutes
    (
        "00THs00001aB3cGMA1",
        OWNER_B,
        "CA7f48ca68d0a6ef55aef6a7f6f2e84e10",
        "(732) 555-0137",
        "880",
        "Connected",
        utc("2025-11-07 16:34:54"),
    ),
    (
        "00THs00001aB3cHMA1",
        OWNER_A,
        "CA6bfcbf11b0d24acf68249fe000635c15",
        "(312) 555-0168",
        "65",
        "Connected",
        utc("2025-11-09 16:28:50"),
    ),
    # undelivered: Connected in Salesforce, failed at Twilio
    (
        "00THs00001aB3cIMA1",
        OWNER_A,
        "CAf7c11626b53315a78b921a4f8067be3f",
        "(415) 555-0191",
        "60",
        "Connected",
        utc("2025-11-12 17:07:34"),
    ),
    (
        "00THs00001aB3cJMA1",
        OWNER_B,
        "CA06e3e290693dacce1f339123482014fc",
        "(917) 555-0114",
        "187",
        "Left Voicemail",
        utc("2025-11-15 23:41:05"),
    ),
    # status: Busy in Salesforce, failed at Twilio
    (
        "00THs00001aB3cKMA1",
        OWNER_B,
        "CAe4f3dca1a39052e5224c36667dd5f525",
        "(203) 555-0197",
        "0",
        "Busy",
        utc("2025-11-16 14:33:26"),
    ),
    # rejected: a CallObject cut short (18 characters: not CA + 32 hex)
    (
        "00THs00001aB3cLMA1",
        OWNER_A,
        "CA7f48ca68d0a6ef55",
        "(732) 555-0137",
        "0",
        "No Answer",
        utc("2025-11-17 15:00:00"),
    ),
    (
        "00THs00001aB3cMMA1",
        OWNER_A,
        "CAcff1b7642551b25ca7bcc439155ba9a7",
        "(718) 555-0165",
        "879",
        "Connected",
        utc("2025-11-18 16:01:54"),
    ),
    # no CallObject (the CTI adapter lost it): matched by number + time, clean
    (
        "00THs00001aB3cNMA1",
        OWNER_B,
        "",
        "(312) 555-0111",
        "31",
        "Connected",
        utc("2025-11-20 14:42:24"),
    ),
    # slow: the Task was written 150 s before Twilio started the call
    (
        "00THs00001aB3cOMA1",
        OWNER_B,
        "CAdfdc8ffa14c35576da11862a99f5ac97",
        "+34 915 55 01 98",
        "0",
        "No Answer",
        utc("2025-11-21 17:02:00"),
    ),
    # records-only (and undelivered): a Connected Task with no CallObject and no call to it
    (
        "00THs00001aB3cPMA1",
        OWNER_A,
        "",
        "(646) 555-0188",
        "45",
        "Connected",
        utc("2025-11-24 15:00:00"),
    ),
    (
        "00THs00001aB3cQMA1",
        OWNER_A,
        "CA4ff1c381dd642eaeff4548ea7a1d536c",
        "(516) 555-0173",
        "0",
        "Failed",
        utc("2025-11-28 15:19:40"),
    ),
]
# twilio-only: CA891ef0bb641e09f4f559f1519ab7faff (Parquet row 30, 2025-11-26), a dialer call
# (outbound-api from +12125550101) with no Task.


def tasks() -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # as Data Loader writes
    w.writerow(
        [
            "Id",
            "OwnerId",
            "Subject",
            "CallType",
            "CallObject",
            "Dialed_Number__c",
            "CallDurationInSeconds",
            "CallDisposition",
            "ActivityDate",
            "CreatedDate",
        ]
    )
    for tid, owner, sid, number, seconds, disposition, created in TASKS:
        w.writerow(
            [
                tid,
                owner,
                f"Call {number}",
                "Outbound",
                sid,
                number,
                seconds,
                disposition,
                created.strftime("%Y-%m-%d"),
                created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            ]
        )
    return out.getvalue().encode("utf-8")


# --- 3. AI voice agent session log (ai_agent_sessions) ------------------------------------------
AGENT = "+12125550100"
# (session, call_sid, customer, start UTC, end UTC or None, end_reason, detected, intent)
SESSIONS = [
    # no CallSid (the agent crashed before logging it): matched by number + time; the agent says
    # the dial failed, Twilio completed it (and billed the minimum): status
    (
        "ses_01JC9Q3T8V",
        None,
        "+1 516 555 0194",
        utc("2025-11-10 15:02:08"),
        None,
        "dial_failed",
        None,
        "appointment-reminder",
    ),
    # clean: 368 s session vs Twilio's 366 s, within the 2 s tolerance
    (
        "ses_01JCC2K1ZP",
        "CA5bb3277d4bc5e3f3fccb03e84f0fe2fd",
        "+18455550156",
        utc("2025-11-11 20:55:31"),
        utc("2025-11-11 21:01:39"),
        "completed",
        "human",
        "payment-reminder",
    ),
    # ambiguous: the same CallSid logged again when the agent reconnected
    (
        "ses_01JCC2P7QW",
        "CA5bb3277d4bc5e3f3fccb03e84f0fe2fd",
        "+18455550156",
        utc("2025-11-11 20:58:00"),
        utc("2025-11-11 21:01:39"),
        "completed",
        "human",
        "payment-reminder",
    ),
    # duration: the session lasted 120 s, Twilio kept the line 257 s (2 vs 5 billed minutes)
    (
        "ses_01JCN8D4RM",
        "CA3c8e48fe33b59761c5939df68e874127",
        "+12015550149",
        utc("2025-11-15 19:28:47"),
        utc("2025-11-15 19:30:47"),
        "completed",
        "human",
        "appointment-reminder",
    ),
    # rejected: a CallSid of 31 hex digits (Bulk Export 11-18, line 12, logged truncated; that
    # leg is then twilio-only)
    (
        "ses_01JCX0B2HC",
        "CAd2b1fcb3ba0e4e013b74e55a7e265e3",
        "+17325550166",
        utc("2025-11-18 22:56:32"),
        utc("2025-11-18 22:57:02"),
        "no_answer",
        None,
        "payment-reminder",
    ),
    # records-only (and undelivered): a session whose CallSid Twilio never logged
    (
        "ses_01JD2V9N6K",
        "CA0c1d2e3f405162738495a6b7c8d9e0f1",
        "+17185550177",
        utc("2025-11-20 16:00:00"),
        utc("2025-11-20 16:01:30"),
        "completed",
        "human",
        "appointment-reminder",
    ),
    # machine-answered: the agent believed it talked to a human; Twilio: machine_end_beep
    (
        "ses_01JDFW1C3T",
        "CA5baec762b69a1699ae6e24b6d5242463",
        "+19085550162",
        utc("2025-11-25 20:13:52"),
        utc("2025-11-25 20:14:34"),
        "completed",
        "human",
        "appointment-reminder",
    ),
    # clean: the agent knew it reached voicemail
    (
        "ses_01JDJ6E8WA",
        "CAa5e669cf09b2829e7ca313406f6e301d",
        "+19085550126",
        utc("2025-11-26 20:27:21"),
        utc("2025-11-26 20:30:15"),
        "voicemail",
        "voicemail",
        "payment-reminder",
    ),
    # rejected: the session ends before it starts (clock step on the agent's host)
    (
        "ses_01JDJ9R2YB",
        "CAf3020bcaa0574416b090430b1039be09",
        "+442079460171",
        utc("2025-11-26 21:21:30"),
        utc("2025-11-26 21:20:10"),
        "busy",
        None,
        "payment-reminder",
    ),
    # undelivered: the session says completed, Twilio says failed
    (
        "ses_01JDM4T0GX",
        "CAd1c48f066f0ebe1cff19a942c1e69547",
        "+19085550132",
        utc("2025-11-27 16:14:03"),
        utc("2025-11-27 16:16:03"),
        "completed",
        "human",
        "appointment-reminder",
    ),
    # slow: the session opened 134 s before Twilio started the call (queued); no end logged
    (
        "ses_01JDTQ5S1E",
        "CA7ef677f291c9a44eea2106155ece6d0f",
        "+17325550168",
        utc("2025-11-30 15:18:30"),
        None,
        "completed",
        "human",
        "payment-reminder",
    ),
]
# twilio-only: CAd2b1fcb3ba0e4e013b74e55a7e265e3b (the truncated one above: its record is
# rejected, so no record claims the leg).


def sessions() -> bytes:
    lines = []
    for sid_, call, customer, start, end, reason, detected, intent in SESSIONS:
        record = {
            "session_id": sid_,
            "call_sid": call,
            "agent": "reminder-bot-v2",
            "customer_number": customer,
            "agent_number": AGENT,
            "session_start": epoch(start) + (0.4 if sid_.endswith("8V") else 0.0),
            "session_end": None if end is None else epoch(end),
            "end_reason": reason,
            "detected_party": detected,
            "intent": intent,
        }
        lines.append(json.dumps(record, separators=(", ", ": ")))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return gzip.compress(data, compresslevel=9, mtime=0)


FILES = {
    "notifications_2025-11.csv": notifications,
    "salesforce_tasks_2025-11.csv": tasks,
    "ai_sessions_2025-11.jsonl.gz": sessions,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in FILES.items():
        (args.out / name).write_bytes(make())
    (args.out / SKIP_MARKER).write_text(SKIP_TEXT, encoding="utf-8")


if __name__ == "__main__":
    main()
