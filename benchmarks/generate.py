#!/usr/bin/env python3
"""Generate a realistic Twilio account at N call legs, with usage records, PBX CDRs and planted
discrepancies, for benchmarking the auditor at scale.

One fictional contact centre ("Brightline", New York): 20 numbers of its own (16 local, 6 of them
behind an Elastic SIP trunk to its Asterisk PBX, and 4 toll-free), 120 browser agents
(`client:agentNNN`), 40 SIP desk phones, many distinct callers and callees (+1 NANP mostly, some
international E.164). Scenarios, each one or two legs: inbound calls to a local or toll-free number
(70 % of the answered ones forwarded by `<Dial>` to an agent's mobile, a client or a SIP phone: a
child leg with `parent_call_sid`), REST API calls (`outbound-api`), agents dialling out from the
browser or a desk phone (a client / SIP leg plus its PSTN child), and trunk calls
(`trunking-originating` / `trunking-terminating`). Every status occurs: `completed` mostly, then
`no-answer`, `busy`, `canceled`, `failed`, and the last few legs of the range still `in-progress`,
`ringing` or `queued`. A handful of the latest completed legs of each month still have no price.

Outputs under `--out` (each format holds the same calls):

- `bulk_export/YYYY-MM-DD.json.gz`: Bulk Export day files (gzipped JSON lines, the fields and
  shapes of `sample_exports/bulk_export/`: times end in `Z`, `.000Z` or `+00:00`, duration text
  or a JSON number, varying by file);
- `parquet/calls_YYYY-MM.parquet`: one file per month, API field names, UTC timestamps;
- `csv/console_calls_YYYY-MM.csv`: Console CSV header, times written as UTC with an explicit
  offset (`2025-01-06 14:03:07+00:00`) so no `--tz` is needed;
- `usage/monthly/YYYY-MM.json`, `usage/daily/YYYY-MM.json`: REST API Usage Records pages
  (Monthly, Daily) for every voice category, parents included, plus two non-voice categories;
- `pbx/asterisk/Master.csv` (`--pbx`): Asterisk cdr_csv, 21 columns, no header, local times in
  `--pbx-tz`: one PBX call per trunk leg plus a few internal calls;
- `records/calls.csv` and `records/format.toml` (`--records`): your own records, a CRM call log
  with one record per leg (about 10 % without the CallSid, matched by number and time), and five
  planted cases of each finding;
- `expected.json`: the true figures, the planted discrepancies and what an audit must report.

The billing model (independent of the auditor, which this file never imports): a leg bills only
when `completed`, max(1, ceil(seconds / 60)) minutes (a 0 s completed leg bills the minimum), at a
per-minute rate of its category; it belongs to the UTC month and day of its start.

Deterministic: numpy's PCG64 seeded with `--seed`, gzip without timestamps; the same arguments give
the same files. Vectorised (numpy, polars): 10 M legs take a few minutes, mostly gzip.

Usage: python benchmarks/generate.py --legs 1000000 [--months 1] [--start 2025-01] [--out DIR]
       [--seed S] [--formats bulk,parquet,csv] [--pbx] [--pbx-tz ZONE] [--trunk-share F]
       [--records]
"""

from __future__ import annotations

import argparse
import calendar
import json
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data"
SCHEMA_VERSION = 1

ACCOUNT = "AC7e1b0c4d9a2f35e68b1c0d2e3f4a5b6c"
API = f"/2010-04-01/Accounts/{ACCOUNT}"
PBX_HOST = "pbx.brightline.example"
SIP_DOMAIN = "brightline.sip.twilio.com"
AGENTS = 120  # browser agents: client:agent001 ..
DESK_PHONES = 40  # SIP desk phones: sip:desk001@SIP_DOMAIN ..
AGENT_MOBILES = 200  # where inbound calls are forwarded to
EXTENSIONS = 200  # PBX extensions 2001 ..

# The account's own numbers (the fictional 555-01xx block, so no drawn number can equal one).
LOCAL_DIDS = [f"+1{a}55501{n:02d}" for n, a in enumerate(["212"] * 4 + ["646"] * 3 + ["718"] * 3)]
PBX_DIDS = [f"+121255501{n}" for n in range(50, 56)]
TOLLFREE = ["+18005550100", "+18885550101", "+18775550102", "+18665550103"]
OWN_NUMBERS = LOCAL_DIDS + PBX_DIDS + TOLLFREE

# fmt: off
AREA_CODES = np.array([
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225,
    228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 272, 276,
    281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320,
    321, 323, 325, 330, 331, 334, 336, 337, 339, 346, 347, 351, 352, 360, 361, 385, 386, 401, 402,
    404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 430, 432, 434,
    435, 440, 442, 443, 458, 469, 470, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508,
    509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 531, 534, 539, 540, 541, 551, 559, 561, 562,
    563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610,
    612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 657, 660,
    661, 662, 667, 678, 681, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717,
    718, 719, 720, 724, 727, 731, 732, 734, 737, 740, 747, 754, 757, 760, 762, 763, 765, 770, 772,
    773, 774, 775, 779, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815,
    816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863,
    864, 865, 870, 872, 878, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917,
    918, 919, 920, 925, 928, 929, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956, 970, 971,
    972, 973, 978, 979, 980, 984, 985, 989,
    416, 437, 438, 514, 604, 613, 647, 778, 905,  # Canada (+1 NANP as well)
], dtype=np.int64)
# International E.164 prefixes, each followed by 8 digits (possible numbers of those countries).
INTL_PREFIXES = ["+4420", "+4930", "+349", "+331", "+5255", "+612", "+3902", "+3120"]
# fmt: on

# Enumerations, as small integer codes in the arrays.
DIRECTIONS = (
    "inbound",
    "outbound-api",
    "outbound-dial",
    "trunking-originating",
    "trunking-terminating",
)
STATUSES = (
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
    "in-progress",
    "ringing",
    "queued",
)
UNSETTLED = ("in-progress", "ringing", "queued")
ANSWERED_BY = ("", "human", "machine_start", "machine_end_beep")

# Scenario kinds (root legs): inbound local, inbound toll-free, outbound-api, a browser agent
# dialling out, a SIP desk phone dialling out, then the trunk kinds (originating, terminating).
K_IN_LOCAL, K_IN_TF, K_API, K_CLIENT, K_SIP, K_T_ORIG, K_T_TERM = range(7)
NON_TRUNK_WEIGHTS = np.array([30, 9, 20, 11, 7], dtype=float)
# Child leg targets.
C_NONE, C_PSTN, C_CLIENT, C_SIP, C_DIAL = range(5)

# Leaf usage categories (the billing model), their parents, and per-minute rates in 1e-5 USD.
LEAVES = (
    "calls-inbound-local",
    "calls-inbound-tollfree",
    "calls-outbound",
    "calls-client",
    "calls-sip-inbound",
    "calls-sip-outbound",
    "trunking-origination",
    "trunking-termination",
    "calls-inbound-mobile",  # never used by this account's numbers: usage records of 0
)
L_IN_LOCAL, L_IN_TF, L_OUT, L_CLIENT, L_SIP_IN, L_SIP_OUT, L_T_ORIG, L_T_TERM, L_MOBILE = range(9)
INBOUND_LEAVES = ("calls-inbound-local", "calls-inbound-tollfree", "calls-inbound-mobile")
PARENTS = {  # parent -> every leaf below it
    "calls": (*INBOUND_LEAVES, "calls-outbound"),
    "calls-inbound": INBOUND_LEAVES,
    "calls-sip": ("calls-sip-inbound", "calls-sip-outbound"),
}
CATEGORIES = (
    "calls",
    "calls-inbound",
    "calls-inbound-local",
    "calls-inbound-tollfree",
    "calls-inbound-mobile",
    "calls-outbound",
    "calls-client",
    "calls-sip",
    "calls-sip-inbound",
    "calls-sip-outbound",
    "trunking-origination",
    "trunking-termination",
)
RATE_E5 = np.array([850, 2200, 1400, 400, 400, 400, 340, 500, 1300], dtype=np.int64)
RATE_E5_INTL = {L_OUT: 4500, L_T_TERM: 3000}  # international destinations cost more
DESCRIPTIONS = {
    "calls": "Total Calls",
    "calls-inbound": "Inbound Voice Calls",
    "calls-inbound-local": "Inbound Local Calls",
    "calls-inbound-tollfree": "Inbound Toll-Free Calls",
    "calls-inbound-mobile": "Inbound Mobile Calls",
    "calls-outbound": "Outbound Voice Calls",
    "calls-client": "Client Calls",
    "calls-sip": "SIP Calls",
    "calls-sip-inbound": "SIP Inbound Calls",
    "calls-sip-outbound": "SIP Outbound Calls",
    "trunking-origination": "Trunking Origination Minutes",
    "trunking-termination": "Trunking Termination Minutes",
    "sms-outbound": "Outbound SMS",
    "totalprice": "Total Price",
}
# fmt: off
SUBRESOURCES = [
    ("all_time", "AllTime"), ("daily", "Daily"), ("last_month", "LastMonth"),
    ("monthly", "Monthly"), ("this_month", "ThisMonth"), ("today", "Today"),
    ("yearly", "Yearly"), ("yesterday", "Yesterday"),
]
CONSOLE_HEADER = [
    "Call Sid", "Date Created", "Start Time", "End Time", "Duration", "From", "To", "Direction",
    "Status", "Price", "Price Unit", "Parent Call Sid",
]
# fmt: on
UTC_HOUR_WEIGHTS = np.array(
    [4, 2, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 2, 4, 8, 12, 14, 14, 12, 12, 13, 13, 12, 10, 8, 6]
)
WEEKDAY_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.25])  # Monday .. Sunday
# How a Bulk Export day file writes its times (each file picks one, as in sample_exports/).
TIME_STYLES = {
    "z": "%Y-%m-%dT%H:%M:%SZ",
    "ms": "%Y-%m-%dT%H:%M:%S.000Z",
    "offset": "%Y-%m-%dT%H:%M:%S+00:00",
}
FORMATS = ("bulk", "parquet", "csv")


@dataclass(frozen=True)
class Spec:
    """What to generate; `expected.json` records it, so a folder can be reused when it matches."""

    legs: int
    months: int = 1
    start: str = "2025-01"
    seed: int = 20250101
    trunk_share: float = 0.2  # share of calls (root legs) crossing the SIP trunk
    formats: tuple[str, ...] = ("bulk", "parquet")
    pbx: bool = False
    pbx_tz: str = "America/New_York"
    records: bool = False  # also your own records (records/calls.csv): one per leg, planted cases

    @property
    def range_start(self) -> datetime:
        year, month = (int(x) for x in self.start.split("-"))
        return datetime(year, month, 1, tzinfo=UTC)

    @property
    def range_end(self) -> datetime:
        return add_months(self.range_start, self.months)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "formats": list(self.formats)}


def add_months(t: datetime, n: int) -> datetime:
    month = t.month - 1 + n
    return t.replace(year=t.year + month // 12, month=month % 12 + 1)


def epoch(t: datetime) -> int:
    return int(t.timestamp())


def month_periods(spec: Spec) -> list[str]:
    return [add_months(spec.range_start, i).strftime("%Y-%m") for i in range(spec.months)]


# Numbers -----------------------------------------------------------------------------------------
def nanp(rng: np.random.Generator, k: int) -> pl.Series:
    """`k` random +1 NANP geographic numbers (no N11 or 555 exchange), as E.164 text."""
    area = rng.choice(AREA_CODES, size=k)
    exch = rng.integers(200, 1000, size=k)
    exch = np.where(exch % 100 == 11, exch + 1, exch)
    exch = np.where(exch == 555, 556, exch)
    line = rng.integers(0, 10_000, size=k)
    digits = pl.Series(area * 10**7 + exch * 10**4 + line).cast(pl.String)
    return ("+1" + digits).alias("number")


def international(rng: np.random.Generator, k: int) -> pl.Series:
    prefix = pl.Series(INTL_PREFIXES).gather(rng.integers(0, len(INTL_PREFIXES), size=k))
    digits = pl.Series(rng.integers(10_000_000, 100_000_000, size=k)).cast(pl.String)
    return (prefix + digits).alias("number")


def external(rng: np.random.Generator, k: int, intl_share: float) -> tuple[pl.Series, np.ndarray]:
    """`k` fresh outside numbers, a share of them international; (numbers, is_international)."""
    intl = rng.random(k) < intl_share
    numbers = pl.select(
        pl.when(pl.Series(intl)).then(international(rng, k)).otherwise(nanp(rng, k))
    ).to_series()
    return numbers.alias("number"), intl


def hex_ids(rng: np.random.Generator, prefix: str, k: int) -> pl.Series:
    """`k` SIDs: prefix + 32 lowercase hex digits (128 random bits)."""
    buf = pa.py_buffer(rng.bytes(16 * k))
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), k, [None, buf])
    hexed = pl.Series(pl.from_arrow(arr)).cast(pl.Binary).bin.encode("hex")
    return (prefix + hexed).alias("sid")


# Legs --------------------------------------------------------------------------------------------
def _choose(rng: np.random.Generator, k: int, weights: Sequence[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=k, p=p / p.sum())


def _statuses(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Root status codes (completed, busy, no-answer, failed, canceled) by scenario kind."""
    table = {
        K_IN_LOCAL: [94, 1, 0, 2, 3],
        K_IN_TF: [94, 1, 0, 2, 3],
        K_API: [68, 8, 12, 6, 6],
        K_CLIENT: [1, 0, 0, 0, 0],
        K_SIP: [1, 0, 0, 0, 0],
        K_T_ORIG: [86, 5, 6, 3, 0],
        K_T_TERM: [80, 6, 9, 3, 2],
    }
    status = np.zeros(len(kind), dtype=np.int8)
    for k, weights in table.items():
        idx = np.flatnonzero(kind == k)
        status[idx] = _choose(rng, len(idx), weights)
    return status


def _talk(rng: np.random.Generator, k: int) -> np.ndarray:
    """Talk seconds: most calls short, a few up to 30 minutes, 2 % answered and dropped at 0 s."""
    u = rng.random(k)
    return np.select(
        [u < 0.02, u < 0.30, u < 0.80],
        [0, rng.integers(1, 60, size=k), rng.integers(60, 301, size=k)],
        rng.integers(301, 1801, size=k),
    ).astype(np.int64)


def billed_minutes(seconds: np.ndarray) -> np.ndarray:
    """Per leg: whole minutes rounded up, at least one (60 s minimum, 60 s increment)."""
    return np.maximum(1, -(-np.maximum(seconds, 0) // 60))


@dataclass
class Legs:
    """Every leg of the account, sorted by start then SID, plus the per-leg facts the writers and
    the expected figures need."""

    frame: pl.DataFrame
    notes: dict[str, object] = field(default_factory=dict)


def _scenarios(rng: np.random.Generator, n: int, trunk_share: float) -> dict[str, np.ndarray]:
    """Scenario kinds, root statuses and child targets for exactly `n` legs."""
    weights = np.concatenate(
        [
            NON_TRUNK_WEIGHTS / NON_TRUNK_WEIGHTS.sum() * (1 - trunk_share),
            np.array([0.48, 0.52]) * trunk_share,
        ]
    )
    # Expected legs per scenario, to draw enough of them at once.
    child_rate = (weights[0] + weights[1]) * 0.94 * 0.7 + weights[3] + weights[4]
    count = int(n / (1 + child_rate) * 1.05) + 16
    kind = _choose(rng, count, weights).astype(np.int8)
    status = _statuses(rng, kind)
    inbound = (kind == K_IN_LOCAL) | (kind == K_IN_TF)
    forwarded = inbound & (status == 0) & (rng.random(count) < 0.7)
    target = np.where(forwarded, 1 + _choose(rng, count, [50, 25, 25]), C_NONE)
    target = np.where((kind == K_CLIENT) | (kind == K_SIP), C_DIAL, target).astype(np.int8)
    per = 1 + (target != C_NONE)
    total = np.cumsum(per)
    keep = int(np.searchsorted(total, n, side="right"))
    if keep == len(kind):
        raise RuntimeError("scenario draw too small")  # never with the 5 % margin above
    kind, status, target = kind[: keep + 1], status[: keep + 1], target[: keep + 1]
    have = int(total[keep - 1]) if keep else 0
    if have == n:
        kind, status, target = kind[:keep], status[:keep], target[:keep]
    else:  # one leg short: the next scenario comes without its child
        target[-1] = C_NONE
        if kind[-1] in (K_CLIENT, K_SIP):
            kind[-1] = K_API
    return {"kind": kind, "status": status, "target": target}


def _ambiguous_local(seconds: np.ndarray, tz: str) -> np.ndarray:
    """True where the UTC instant's wall time in `tz` is ambiguous (a DST overlap)."""
    utc = pl.Series(seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))
    wall = utc.dt.convert_time_zone(tz).dt.replace_time_zone(None)
    back = wall.dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
    return back.is_null().to_numpy()


def build_legs(spec: Spec) -> Legs:
    """All legs of the account over the spec's months, as one sorted frame (no strings beyond
    numbers and SIDs: the writers render each file's shape)."""
    if spec.legs < 1:
        raise ValueError("legs must be >= 1")
    rng = np.random.default_rng(spec.seed)
    sc = _scenarios(rng, spec.legs, spec.trunk_share)
    kind, status, target = sc["kind"], sc["status"], sc["target"]
    s = len(kind)
    trunk = kind >= K_T_ORIG

    # When: a day weighted by weekday, an hour by a New York business-day profile (in UTC).
    start0, end0 = epoch(spec.range_start), epoch(spec.range_end)
    days = (end0 - start0) // 86_400
    first = spec.range_start.date()
    day_w = np.array([WEEKDAY_WEIGHTS[(first + timedelta(days=d)).weekday()] for d in range(days)])
    day = _choose(rng, s, day_w)
    hour = _choose(rng, s, UTC_HOUR_WEIGHTS)
    start = start0 + day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, size=s)

    # How long: talk time when answered, ring time when not; a forwarded call spans its child.
    completed = status == 0
    talk = _talk(rng, s)
    ring = rng.integers(3, 31, size=s)
    has_child = target != C_NONE
    child_status = np.where(
        target == C_DIAL, _choose(rng, s, [80, 6, 9, 2, 3]), _choose(rng, s, [76, 7, 10, 3, 4])
    ).astype(np.int8)
    child_delay = rng.integers(2, 10, size=s)
    child_talk = _talk(rng, s)
    child_ring = rng.integers(4, 26, size=s)
    child_done = child_status == 0
    child_len = np.where(child_done, child_talk, child_ring)
    tail = np.where(child_done, rng.integers(0, 4, size=s), rng.integers(15, 81, size=s))
    root_len = np.where(
        has_child, child_delay + child_len + tail, np.where(completed, talk, ring)
    ).astype(np.int64)
    # A scenario whose child would start after the range moves an hour earlier.
    late = has_child & (start + child_delay >= end0)
    start = np.where(late, start - 3_600, start)

    # Trunk calls whose PBX times would fall in a DST overlap of --pbx-tz move two hours later:
    # Asterisk writes ambiguous local times, which no audit can place (see expected.json).
    shifted = np.zeros(s, dtype=bool)
    for _ in range(4):
        lo, hi = start - 5, start + root_len + 3
        bad = trunk & (_ambiguous_local(lo, spec.pbx_tz) | _ambiguous_local(hi, spec.pbx_tz))
        if not bad.any():
            break
        shifted |= bad
        start = np.where(bad, start + 7_200, start)

    # Who: outside parties (a pool of repeat customers, mostly fresh numbers), own numbers, agents.
    pool_size = max(100, spec.legs // 25)
    pool, pool_intl = external(rng, pool_size, 0.05)
    fresh, fresh_intl = external(rng, s, 0.0)
    intl_share = np.select(
        [kind == K_IN_LOCAL, kind == K_IN_TF, kind == K_API, kind == K_T_ORIG, kind == K_T_TERM],
        [0.05, 0.02, 0.08, 0.10, 0.12],
        0.06,
    )
    abroad, abroad_intl = international(rng, s), rng.random(s) < intl_share
    use_pool = (rng.random(s) < np.where(kind <= K_IN_TF, 0.35, 0.5)) & ~trunk
    pick = rng.integers(0, pool_size, size=s)
    ext = pl.select(
        pl.when(pl.Series(use_pool))
        .then(pool.gather(pick))
        .when(pl.Series(abroad_intl))
        .then(abroad)
        .otherwise(fresh)
    ).to_series()
    ext_intl = np.where(use_pool, pool_intl[pick], abroad_intl | fresh_intl)
    mobiles, _ = external(rng, AGENT_MOBILES, 0.0)
    ext, redrawn = _unique_trunk_numbers(rng, ext, trunk, ext_intl, [mobiles])
    ext_intl = ext_intl & ~redrawn

    local_w = 1 / np.arange(1, len(LOCAL_DIDS) + 1)  # some numbers ring far more than others
    own = np.select(
        [kind == K_IN_TF, trunk],
        [
            rng.integers(0, len(TOLLFREE), size=s) + len(LOCAL_DIDS) + len(PBX_DIDS),
            rng.integers(0, len(PBX_DIDS), size=s) + len(LOCAL_DIDS),
        ],
        _choose(rng, s, local_w),
    )
    caller_id = rng.integers(0, 5, size=s)  # outbound caller IDs: the first 4 locals, 1 toll-free
    caller_id = np.where(caller_id == 4, len(LOCAL_DIDS) + len(PBX_DIDS), caller_id)
    own = np.where((kind == K_API) | (kind == K_CLIENT) | (kind == K_SIP), caller_id, own)
    agent = rng.integers(1, AGENTS + 1, size=s)
    desk = rng.integers(1, DESK_PHONES + 1, size=s)
    mobile = rng.integers(0, AGENT_MOBILES, size=s)
    amd = np.where(
        (kind == K_API) & completed & (rng.random(s) < 0.6), _choose(rng, s, [0, 2, 1, 1]), 0
    )
    queue_time = np.where(kind == K_API, rng.integers(0, 1_500, size=s), 0)

    roots = pl.DataFrame(
        {
            "kind": kind,
            "status": status,
            "target": target,
            "start": start,
            "len": root_len,
            "talk": talk,
            "ext": ext,
            "ext_intl": ext_intl,
            "own": pl.Series(OWN_NUMBERS).gather(own),
            "agent": agent,
            "desk": desk,
            "mobile": mobiles.gather(mobile),
            "answered_by": amd.astype(np.int8),
            "queue_time": queue_time,
            "child_status": child_status,
            "child_start": start + child_delay,
            "child_len": child_len,
            "shifted": shifted,
        }
    ).with_row_index("scenario")
    frame = _leg_frame(rng, roots)
    frame = _unsettle(frame, spec)
    frame = _price(frame, spec)
    notes = {
        "scenarios": s,
        "trunk_legs_moved_out_of_dst_overlap": int(shifted.sum()),
        "trunk_numbers_redrawn_for_uniqueness": int(redrawn.sum()),
    }
    return Legs(frame, notes)


def _unique_trunk_numbers(
    rng: np.random.Generator,
    ext: pl.Series,
    trunk: np.ndarray,
    intl: np.ndarray,
    others: list[pl.Series],
) -> tuple[pl.Series, np.ndarray]:
    """Give every trunk call an outside number no other leg uses, so PBX matching is one to one
    by construction (a real repeat caller within the match window would be `ambiguous`)."""
    redrawn = np.zeros(len(ext), dtype=bool)
    fixed = list(OWN_NUMBERS)
    for _ in range(10):
        everything = pl.concat([ext, *others, pl.Series("number", fixed)])
        counts = everything.value_counts(name="n")
        n = pl.DataFrame({"number": ext}).join(counts, on="number", how="left")["n"].to_numpy()
        clash = trunk & (n > 1)
        if not clash.any():
            return ext, redrawn
        idx = np.flatnonzero(clash)  # every trunk holder redraws; fresh numbers rarely clash
        new = nanp(rng, len(idx))
        ext = ext.scatter(idx, new)
        redrawn[idx] = True
        intl[idx] = False
    raise RuntimeError("could not give trunk calls unique numbers")


def _leg_frame(rng: np.random.Generator, roots: pl.DataFrame) -> pl.DataFrame:
    """Roots and their children as legs: direction, parties, times, status, category."""
    k = pl.col("kind")
    client = pl.concat_str(pl.lit("client:agent"), pl.col("agent").cast(pl.String).str.zfill(3))
    desk = pl.concat_str(
        pl.lit("sip:desk"), pl.col("desk").cast(pl.String).str.zfill(3), pl.lit(f"@{SIP_DOMAIN}")
    )
    sip_ext = pl.concat_str(pl.lit("sip:"), pl.col("ext"), pl.lit(f"@{SIP_DOMAIN}"))
    pbx_uri = pl.concat_str(pl.lit("sip:"), pl.col("own"), pl.lit(f"@{PBX_HOST}"))
    root_from = (
        pl.when(k.is_in([K_API]))
        .then(pl.col("own"))
        .when(k == K_CLIENT)
        .then(client)
        .when(k == K_SIP)
        .then(desk)
        .when(k == K_T_TERM)
        .then(pbx_uri)
        .otherwise(pl.col("ext"))
    )
    root_to = (
        pl.when(k.is_in([K_IN_LOCAL, K_IN_TF]))
        .then(pl.col("own"))
        .when(k == K_SIP)
        .then(sip_ext)
        .when(k == K_T_ORIG)
        .then(pbx_uri)
        .otherwise(pl.col("ext"))
    )
    root_dir = (
        pl.when(k == K_API)
        .then(1)
        .when(k == K_T_ORIG)
        .then(3)
        .when(k == K_T_TERM)
        .then(4)
        .otherwise(0)
    )
    root_cat = (
        pl.when(k == K_IN_LOCAL)
        .then(L_IN_LOCAL)
        .when(k == K_IN_TF)
        .then(L_IN_TF)
        .when(k == K_CLIENT)
        .then(L_CLIENT)
        .when(k == K_SIP)
        .then(L_SIP_IN)
        .when(k == K_T_ORIG)
        .then(L_T_ORIG)
        .when(k == K_T_TERM)
        .then(L_T_TERM)
        .otherwise(L_OUT)
    )
    root_intl = k.is_in([K_API, K_T_TERM, K_CLIENT]) & pl.col("ext_intl")
    t = pl.col("target")
    child_from = pl.when(t.is_in([C_PSTN, C_DIAL])).then(pl.col("own")).otherwise(pl.col("ext"))
    child_to = (
        pl.when(t == C_PSTN)
        .then(pl.col("mobile"))
        .when(t == C_CLIENT)
        .then(client)
        .when(t == C_SIP)
        .then(desk)
        .otherwise(pl.col("ext"))
    )
    child_cat = (
        pl.when(t == C_CLIENT).then(L_CLIENT).when(t == C_SIP).then(L_SIP_OUT).otherwise(L_OUT)
    )
    common = [pl.col("scenario"), pl.col("kind")]
    root_legs = roots.select(
        *common,
        pl.lit(False).alias("child"),
        root_dir.cast(pl.Int8).alias("direction"),
        root_from.alias("from"),
        root_to.alias("to"),
        pl.col("status"),
        pl.col("start"),
        pl.col("len"),
        root_cat.cast(pl.Int8).alias("category"),
        root_intl.alias("intl"),
        pl.col("answered_by"),
        pl.col("queue_time"),
        pl.when(k.is_in([K_IN_LOCAL, K_IN_TF])).then(pl.col("own")).alias("called_number"),
        pl.col("ext"),
        pl.col("own"),
        pl.col("shifted"),
    )
    child_legs = roots.filter(t != C_NONE).select(
        *common,
        pl.lit(True).alias("child"),
        pl.lit(2, pl.Int8).alias("direction"),
        child_from.alias("from"),
        child_to.alias("to"),
        pl.col("child_status").alias("status"),
        pl.col("child_start").alias("start"),
        pl.col("child_len").alias("len"),
        child_cat.cast(pl.Int8).alias("category"),
        ((t == C_DIAL) & pl.col("ext_intl")).alias("intl"),
        pl.lit(0, pl.Int8).alias("answered_by"),
        pl.lit(0, pl.Int64).alias("queue_time"),
        pl.lit(None, pl.String).alias("called_number"),
        pl.col("ext"),
        pl.col("own"),
        pl.col("shifted"),
    )
    legs = pl.concat([root_legs, child_legs])
    n = legs.height
    legs = legs.with_columns(hex_ids(rng, "CA", n), pl.Series("blank", rng.random(n) < 0.3))
    parent = root_legs.select("scenario").with_columns(
        legs.head(root_legs.height)["sid"].alias("parent_call_sid")
    )
    legs = legs.join(parent, on="scenario", how="left").with_columns(
        pl.when(pl.col("child")).then(pl.col("parent_call_sid")).alias("parent_call_sid")
    )
    done = pl.col("status") == 0
    legs = legs.with_columns(
        pl.when(done).then(pl.col("len")).when(~pl.col("blank")).then(0).alias("duration"),
        (pl.col("start") + pl.col("len")).alias("end"),
    ).drop("len", "blank")
    if legs["sid"].n_unique() != n:
        raise RuntimeError("call SID collision")  # 128 random bits: never
    return legs.sort("start", "sid")


def _unsettle(legs: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """The latest few single-leg non-trunk calls of the range are not finished when exported:
    `in-progress`, `ringing`, `queued`: no end, no duration, no price."""
    per_status = max(1, min(10, spec.legs // 200_000))
    scen = legs.group_by("scenario").len()
    single = scen.filter(pl.col("len") == 1)["scenario"]
    candidates = legs.filter(
        pl.col("scenario").is_in(single.implode()) & (pl.col("kind") <= K_API)
    ).tail(3 * per_status)
    codes = [STATUSES.index(s) for s in UNSETTLED]
    pick = candidates.select(
        "sid", pl.Series("new_status", [codes[i % 3] for i in range(candidates.height)], pl.Int8)
    )
    legs = legs.join(pick, on="sid", how="left", maintain_order="left")
    hit = pl.col("new_status").is_not_null()
    return legs.with_columns(
        pl.coalesce("new_status", "status").alias("status"),
        pl.when(hit).then(None).otherwise(pl.col("duration")).alias("duration"),
        pl.when(hit).then(None).otherwise(pl.col("end")).alias("end"),
        pl.when(hit).then(0).otherwise(pl.col("answered_by")).alias("answered_by"),
    ).drop("new_status")


def _pending_category(spec: Spec, period: str) -> int:
    """Where a month's price-pending legs are: a category with no planted discrepancy then."""
    planted = {p.category for p in planted_usage(spec) if p.period == period}
    for cat in (L_IN_TF, L_OUT, L_SIP_IN, L_T_ORIG):
        if LEAVES[cat] not in planted:
            return cat
    return L_T_ORIG


def _price(legs: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Billable flag, billed minutes, the rated price (1e-5 USD) and the price the log shows
    (null for the latest few completed legs of each month: Twilio has not rated them yet)."""
    rate = pl.col("category").replace_strict(dict(enumerate(RATE_E5.tolist())), default=0)
    intl_rate = pl.col("category").replace_strict(RATE_E5_INTL, default=None, return_dtype=pl.Int64)
    rate = pl.when(pl.col("intl")).then(pl.coalesce(intl_rate, rate)).otherwise(rate)
    seconds = pl.col("duration").fill_null(0).clip(lower_bound=0)
    minutes = pl.max_horizontal(pl.lit(1), (seconds + 59) // 60)
    billable = pl.col("status") == 0
    legs = legs.with_columns(
        billable.alias("billable"),
        pl.when(billable).then(minutes).otherwise(0).cast(pl.Int64).alias("billed_minutes"),
        pl.from_epoch("start").dt.strftime("%Y-%m").alias("month"),
    ).with_columns(
        pl.when(billable).then(pl.col("billed_minutes") * rate).cast(pl.Int64).alias("rated_e5")
    )
    per_month = max(1, min(20, spec.legs // 100_000))
    pending: list[pl.Series] = []
    for period in month_periods(spec):
        cat = _pending_category(spec, period)
        latest = legs.filter(
            (pl.col("month") == period) & pl.col("billable") & (pl.col("category") == cat)
        ).tail(per_month)
        pending.append(latest["sid"])
    pending_sids = pl.concat(pending) if pending else pl.Series("sid", [], pl.String)
    return legs.with_columns(
        pl.col("sid").is_in(pending_sids.implode()).alias("price_pending"),
    ).with_columns(
        pl.when(~pl.col("price_pending")).then(pl.col("rated_e5")).alias("price_e5"),
    )


# Usage records and the planted discrepancies ------------------------------------------------------
@dataclass(frozen=True)
class Planted:
    """A usage discrepancy: usage bills `count`, `minutes`, `price_e5` beyond (or below) the logs
    in one category's monthly record and, on `day`, in its daily record."""

    case: str
    period: str
    category: str
    count: int
    minutes: int
    price_e5: int
    day: int | None  # day of month of the daily record; None: the busiest day (for negatives)
    note: str


def planted_usage(spec: Spec) -> list[Planted]:
    """The known handful: four in the first month, two more in the last when there are several."""
    months = month_periods(spec)
    first, last = months[0], months[-1]
    out = [
        Planted("call-missing-from-logs", first, "calls-inbound-local", 1, 3, 3 * 850, 12,
                "a billed 3-minute call deleted from the account's logs"),
        Planted("over-billed-minutes", first, "calls-outbound", 0, 7, 7 * 1400, 20,
                "usage bills 7 minutes more than the logs' rounded durations"),
        Planted("price-differs", first, "calls-client", 0, 0, 25_000, 8,
                "usage price 0.25 above the rated minutes"),
        Planted("usage-below-logs", first, "trunking-termination", -1, -2, -2 * 500, None,
                "a 2-minute trunk call the logs hold and usage does not"),
    ]  # fmt: skip
    if len(months) > 1:
        out += [
            Planted("over-billed-sip", last, "calls-sip-inbound", 0, 4, 4 * 400, 3,
                    "usage bills 4 SIP minutes more"),
            Planted("tollfree-calls-missing", last, "calls-inbound-tollfree", 2, 2, 2 * 2200, 17,
                    "two billed 1-minute toll-free calls missing from the logs"),
        ]  # fmt: skip
    return out


def _truth(legs: pl.DataFrame, period: str) -> pl.DataFrame:
    """(period, category) figures of the logs: leaves and parents, every category present."""
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    leaf = legs.group_by(pl.from_epoch("start").dt.strftime(fmt).alias("period"), "category").agg(
        pl.len().alias("logged_calls"),
        pl.col("billable").sum().alias("billable_calls"),
        pl.col("duration").filter(pl.col("billable")).sum().alias("log_seconds"),
        pl.col("billed_minutes").sum().alias("billed_minutes"),
        pl.col("rated_e5").sum().alias("expected_price_e5"),
        pl.col("price_e5").sum().alias("logged_price_e5"),
    )
    leaf = leaf.with_columns(
        pl.col("category").replace_strict(dict(enumerate(LEAVES)), return_dtype=pl.String)
    )
    parents = [
        leaf.filter(pl.col("category").is_in(list(children)))
        .group_by("period")
        .agg(pl.exclude("period", "category").sum())
        .with_columns(pl.lit(parent).alias("category"))
        .select(leaf.columns)
        for parent, children in PARENTS.items()
    ]
    return pl.concat([leaf, *parents]).with_columns(pl.exclude("period", "category").cast(pl.Int64))


def _periods(spec: Spec, period: str) -> list[str]:
    if period == "month":
        return month_periods(spec)
    first, last = spec.range_start.date(), spec.range_end.date()
    return [(first + timedelta(days=d)).isoformat() for d in range((last - first).days)]


def usage_figures(legs: pl.DataFrame, spec: Spec, period: str) -> pl.DataFrame:
    """Every (period, category) of the range with the logs' figures and the usage record's
    (= the logs' billable count, billed minutes and rated price, plus any planted discrepancy)."""
    grid = pl.DataFrame(
        [(p, c) for p in _periods(spec, period) for c in CATEGORIES],
        schema={"period": pl.String, "category": pl.String},
        orient="row",
    )
    truth = grid.join(_truth(legs, period), on=["period", "category"], how="left").fill_null(0)
    deltas = _planted_deltas(truth, spec, period)
    out = truth.join(deltas, on=["period", "category"], how="left").with_columns(
        pl.col("d_count", "d_minutes", "d_price_e5").fill_null(0)
    )
    out = out.with_columns(
        (pl.col("billable_calls") + pl.col("d_count")).alias("usage_count"),
        (pl.col("billed_minutes") + pl.col("d_minutes")).alias("usage_minutes"),
        (pl.col("expected_price_e5") + pl.col("d_price_e5")).alias("usage_price_e5"),
    )
    bad = out.filter(
        (pl.col("usage_count") < 0) | (pl.col("usage_minutes") < 0) | (pl.col("usage_price_e5") < 0)
    )
    if bad.height:
        raise RuntimeError(f"a planted discrepancy makes usage negative: {bad.row(0)}")
    return out.sort("period", "category")


def _planted_deltas(truth: pl.DataFrame, spec: Spec, period: str) -> pl.DataFrame:
    """Each planted discrepancy on its leaf and every ancestor, in the monthly or daily records."""
    rows = []
    for p in planted_usage(spec):
        key = p.period
        if period == "day":
            key = f"{p.period}-{_planted_day(truth, p):02d}"
        for cat in (p.category, *(a for a, kids in PARENTS.items() if p.category in kids)):
            rows.append((key, cat, p.count, p.minutes, p.price_e5))
    schema = ["period", "category", "d_count", "d_minutes", "d_price_e5"]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.group_by("period", "category").agg(pl.exclude("period", "category").sum())


def _planted_day(daily_truth: pl.DataFrame, p: Planted) -> int:
    """The day of month whose daily record carries `p`: its own, or the busiest day (so a
    negative discrepancy never makes a record negative)."""
    if p.day is not None:
        return p.day
    rows = daily_truth.filter(
        pl.col("period").str.starts_with(p.period) & (pl.col("category") == p.category)
    ).sort("billable_calls", "period", descending=[True, False])
    if not rows.height or rows["billable_calls"][0] < -p.count:
        raise RuntimeError(f"no day of {p.period} can carry {p.case}")
    return int(rows["period"][0][-2:])


def planted_days(legs: pl.DataFrame, spec: Spec) -> dict[str, int]:
    """case -> the day of month its daily record carries it."""
    daily = _truth(legs, "day")
    return {p.case: _planted_day(daily, p) for p in planted_usage(spec)}


def money(e5: int) -> str:
    """1e-5 USD (non-negative) -> text with 5 decimals."""
    return f"{e5 // 100_000}.{e5 % 100_000:05d}"


def _usage_record(
    category: str, start: date, end: date, count: int, usage: str, price_e5: int, unit: str
) -> dict[str, object]:
    resource = "Daily" if start == end else "Monthly"
    query = f"Category={category}&StartDate={start}&EndDate={end}"
    subs = {k: f"{API}/Usage/Records/{n}.json?Category={category}" for k, n in SUBRESOURCES}
    as_of = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=6, minutes=12, seconds=44
    )
    return {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "as_of": as_of.isoformat(),
        "category": category,
        "count": str(count),
        "count_unit": "calls" if unit == "minutes" else "messages" if unit == "messages" else "",
        "description": DESCRIPTIONS[category],
        "end_date": end.isoformat(),
        "price": money(price_e5),
        "price_unit": "usd",
        "start_date": start.isoformat(),
        "subresource_uris": subs,
        "uri": f"{API}/Usage/Records/{resource}.json?{query}",
        "usage": usage,
        "usage_unit": unit,
    }


def usage_pages(
    figures: pl.DataFrame, spec: Spec, period: str, seed: int
) -> dict[str, dict[str, object]]:
    """One Usage Records page per month: {file stem: page}. Records per (period, category), then
    `sms-outbound` and `totalprice` (non-voice: the audit must leave them aside)."""
    rng = np.random.default_rng([seed, 3, 0 if period == "month" else 1])
    pages: dict[str, list[dict[str, object]]] = {}
    for key, group in figures.group_by("period", maintain_order=True):
        p = str(key[0])
        if period == "month":
            first = date.fromisoformat(p + "-01")
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        else:
            first = last = date.fromisoformat(p)
        records = [
            _usage_record(
                r["category"],
                first,
                last,
                r["usage_count"],
                str(r["usage_minutes"]),
                r["usage_price_e5"],
                "minutes",
            )
            for r in group.iter_rows(named=True)
        ]
        sms = int(rng.integers(0, 40 if period == "day" else 1_200))
        sms_price = sms * 790
        records.append(
            _usage_record("sms-outbound", first, last, sms, str(sms), sms_price, "messages")
        )
        voice = sum(r["usage_price_e5"] for r in group.iter_rows(named=True) if r["category"] in (
            "calls", "calls-client", "calls-sip", "trunking-origination", "trunking-termination"
        ))  # fmt: skip
        total = voice + sms_price
        records.append(_usage_record("totalprice", first, last, 0, money(total), total, "usd"))
        pages.setdefault(p[:7], []).extend(records)
    out = {}
    for month, records in pages.items():
        resource = "Monthly" if period == "month" else "Daily"
        first = date.fromisoformat(month + "-01")
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        query = f"StartDate={first}&EndDate={last}&PageSize={len(records)}&Page=0"
        uri = f"{API}/Usage/Records/{resource}.json?{query}"
        out[month] = {
            "end": len(records) - 1,
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": len(records),
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
            "usage_records": records,
        }
    return out


# Call-log writers ---------------------------------------------------------------------------------
def _ts(col: str) -> pl.Expr:
    return pl.from_epoch(col).dt.replace_time_zone("UTC")


def _formatted(col: str) -> pl.Expr:
    c = pl.col(col)
    us = c.str.starts_with("+1") & (c.str.len_chars() == 12)
    pretty = pl.concat_str(
        pl.lit("("), c.str.slice(2, 3), pl.lit(") "), c.str.slice(5, 3), pl.lit("-"),
        c.str.slice(8, 4),
    )  # fmt: skip
    return pl.when(us).then(pretty).otherwise(c)


def _price_text(decimals: pl.Expr) -> pl.Expr:
    """The log's price: negative, 4 or 5 decimals as Twilio varies them; null when not rated."""
    v = pl.col("price_e5")
    whole = (v // 100_000).cast(pl.String)
    frac5 = (v % 100_000).cast(pl.String).str.zfill(5)
    return pl.concat_str(
        pl.lit("-"),
        whole,
        pl.lit("."),
        pl.when(decimals == 4).then(frac5.str.slice(0, 4)).otherwise(frac5),
    )


def call_records(legs: pl.DataFrame, number_sids: dict[str, str], trunk_sid: str) -> pl.DataFrame:
    """Legs in the API's field names with typed times (UTC) and integer duration: the Parquet
    shape; the other writers render times and numbers as their format writes them."""
    created_offset = pl.when(pl.col("direction") == 1).then(2).otherwise(1)
    updated = pl.coalesce("end", pl.col("start") + 2) + 1
    direction = pl.col("direction").replace_strict(
        dict(enumerate(DIRECTIONS)), return_dtype=pl.String
    )
    status = pl.col("status").replace_strict(dict(enumerate(STATUSES)), return_dtype=pl.String)
    answered = pl.col("answered_by").replace_strict(
        dict(enumerate(ANSWERED_BY)), return_dtype=pl.String
    )
    decimals = (pl.col("sid").str.slice(2, 1).is_in(list("01234567"))).cast(pl.Int8) + 4
    return legs.select(
        pl.lit(ACCOUNT).alias("account_sid"),
        pl.when(answered != "").then(answered).alias("answered_by"),
        pl.lit("2010-04-01").alias("api_version"),
        pl.lit(None, pl.String).alias("caller_name"),
        pl.from_epoch(pl.col("start") - created_offset)
        .dt.replace_time_zone("UTC")
        .alias("date_created"),
        pl.from_epoch(updated).dt.replace_time_zone("UTC").alias("date_updated"),
        direction.alias("direction"),
        pl.col("duration").cast(pl.Int64).alias("duration"),
        _ts("end").alias("end_time"),
        pl.lit(None, pl.String).alias("forwarded_from"),
        pl.col("from"),
        _formatted("from").alias("from_formatted"),
        pl.lit(None, pl.String).alias("group_sid"),
        pl.col("parent_call_sid"),
        pl.col("called_number")
        .replace_strict(number_sids, default=None, return_dtype=pl.String)
        .alias("phone_number_sid"),
        _price_text(decimals).alias("price"),
        pl.lit("USD").alias("price_unit"),
        pl.col("queue_time").cast(pl.String).alias("queue_time"),
        pl.col("sid"),
        _ts("start").alias("start_time"),
        status.alias("status"),
        pl.col("to"),
        _formatted("to").alias("to_formatted"),
        pl.when(pl.col("direction") >= 3).then(pl.lit(trunk_sid)).alias("trunk_sid"),
    )


def _iso(col: str, style: str) -> pl.Expr:
    return pl.col(col).dt.strftime(TIME_STYLES[style])


def bulk_day(records: pl.DataFrame, path: Path, style: str, numbers: bool) -> int:
    """One Bulk Export day file: gzipped JSON lines, times in `style`, duration as a JSON number
    (`numbers`) or text."""
    times = ("date_created", "date_updated", "end_time", "start_time")
    out = records.with_columns(
        *(_iso(c, style) for c in times),
        pl.col("duration") if numbers else pl.col("duration").cast(pl.String),
    )
    out.write_ndjson(path, compression="gzip", compression_level=6)
    return out.height


def console_rows(records: pl.DataFrame) -> pl.DataFrame:
    """The Console CSV columns, times as UTC with an explicit +00:00 offset."""
    fmt = "%Y-%m-%d %H:%M:%S+00:00"
    return records.select(
        pl.col("sid").alias("Call Sid"),
        pl.col("date_created").dt.strftime(fmt).alias("Date Created"),
        pl.col("start_time").dt.strftime(fmt).alias("Start Time"),
        pl.col("end_time").dt.strftime(fmt).alias("End Time"),
        pl.col("duration").alias("Duration"),
        pl.col("from").alias("From"),
        pl.col("to").alias("To"),
        pl.col("direction").alias("Direction"),
        pl.col("status").alias("Status"),
        pl.col("price").alias("Price"),
        pl.col("price_unit").alias("Price Unit"),
        pl.col("parent_call_sid").alias("Parent Call Sid"),
    )


def _day_slices(legs: pl.DataFrame, spec: Spec) -> Iterator[tuple[date, int, int]]:
    """(UTC day, first row, end row) of each day with legs (legs are sorted by start)."""
    starts = legs["start"].to_numpy()
    t0 = epoch(spec.range_start)
    days = (epoch(spec.range_end) - t0) // 86_400
    bounds = np.searchsorted(starts, t0 + 86_400 * np.arange(days + 1))
    for d in range(days):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if hi > lo:
            yield spec.range_start.date() + timedelta(days=d), lo, hi


def _bounded(
    pool: ThreadPoolExecutor, fn: Callable[[int], tuple[int, pl.DataFrame]], n: int, ahead: int
) -> Iterator[tuple[int, pl.DataFrame]]:
    """`pool.map(fn, range(n))` in order, with at most `ahead` results pending (memory)."""
    pending: deque[Future[tuple[int, pl.DataFrame]]] = deque()
    for i in range(n):
        pending.append(pool.submit(fn, i))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def write_calls(legs: Legs, spec: Spec, out: Path, log: bool = False) -> dict[str, list[dict]]:
    """Every call-log file of the spec's formats; {format: [{path, rows}]}."""
    rng = np.random.default_rng([spec.seed, 1])
    sid_rng = np.random.default_rng([spec.seed, 4])
    number_sids = dict(zip(OWN_NUMBERS, hex_ids(sid_rng, "PN", len(OWN_NUMBERS)), strict=True))
    trunk_sid = hex_ids(sid_rng, "TK", 1)[0]
    files: dict[str, list[dict]] = {f: [] for f in spec.formats}
    slices = list(_day_slices(legs.frame, spec))
    shapes = [(rng.choice(["z", "z", "z", "ms", "offset"]), rng.random() < 0.5) for _ in slices]
    for fmt in spec.formats:
        (out / {"bulk": "bulk_export"}.get(fmt, fmt)).mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    csvs: dict[str, object] = {}
    counts: dict[tuple[str, str], int] = {}

    def render(i: int) -> tuple[int, pl.DataFrame]:
        day, lo, hi = slices[i]
        records = call_records(legs.frame.slice(lo, hi - lo), number_sids, trunk_sid)
        if "bulk" in spec.formats:
            style, numbers = shapes[i]
            path = out / "bulk_export" / f"{day.isoformat()}.json.gz"
            bulk_day(records, path, str(style), bool(numbers))
        return i, records

    with ThreadPoolExecutor(max_workers=2) as pool:
        for i, records in _bounded(pool, render, len(slices), ahead=3):
            day = slices[i][0]
            month = day.strftime("%Y-%m")
            if "bulk" in spec.formats:
                rel = f"bulk_export/{day.isoformat()}.json.gz"
                files["bulk"].append({"path": rel, "rows": records.height})
            if "parquet" in spec.formats:
                rel = f"parquet/calls_{month}.parquet"
                if rel not in writers:
                    table = records.to_arrow()
                    writers[rel] = pq.ParquetWriter(out / rel, table.schema, compression="zstd")
                writers[rel].write_table(records.to_arrow())
                counts[("parquet", rel)] = counts.get(("parquet", rel), 0) + records.height
            if "csv" in spec.formats:
                rel = f"csv/console_calls_{month}.csv"
                if rel not in csvs:
                    csvs[rel] = (out / rel).open("wb")
                    csvs[rel].write((",".join(CONSOLE_HEADER) + "\n").encode())  # type: ignore[attr-defined]
                console_rows(records).write_csv(csvs[rel], include_header=False)  # type: ignore[arg-type]
                counts[("csv", rel)] = counts.get(("csv", rel), 0) + records.height
            if log and i % 10 == 9:
                print(f"  wrote {day} ({i + 1}/{len(slices)} days)", file=sys.stderr)
    for w in writers.values():
        w.close()
    for fh in csvs.values():
        fh.close()  # type: ignore[attr-defined]
    for (fmt, rel), rows in sorted(counts.items()):
        files[fmt].append({"path": rel, "rows": rows})
    return files


# PBX: Asterisk Master.csv -------------------------------------------------------------------------
ASTERISK_DISPOSITION = {0: "ANSWERED", 1: "BUSY", 2: "NO ANSWER", 3: "FAILED", 4: "NO ANSWER"}
FIRST_NAMES = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai"]
LAST_NAMES = ["Adams", "Brook", "Chen", "Diaz", "Eng", "Ford", "Gray", "Hale", "Ito", "Jain"]


def _billed_s(seconds: np.ndarray, answered: np.ndarray) -> np.ndarray:
    return np.where(answered, 60 * billed_minutes(seconds), 0)


def build_pbx(legs: Legs, spec: Spec) -> tuple[pl.DataFrame, dict[str, object]]:
    """Master.csv rows (one per trunk leg, two for a transferred call, plus internal calls and
    the planted cases) in file order, and the expected matching result."""
    rng = np.random.default_rng([spec.seed, 2])
    t = legs.frame.filter(pl.col("direction") >= 3).select(
        "sid", "direction", "status", "start", "end", "duration", "ext", "own", "intl"
    )
    n = t.height
    if n < 12:
        raise ValueError(f"--pbx needs at least 12 trunk legs (have {n}): raise --legs")
    status = t["status"].to_numpy()
    start = t["start"].to_numpy()
    end = t["end"].to_numpy()
    dur = t["duration"].fill_null(0).to_numpy()
    term = t["direction"].to_numpy() == 4
    done = status == 0

    # Planted: legs the PBX never logged (twilio-only), a billsec 40 s short across a minute
    # (duration), an answered leg the PBX logged as not answered (answered-vs-status).
    order = np.arange(n)
    crosses = done & (dur > 41) & (billed_minutes(dur) != billed_minutes(dur - 40))
    twilio_only = [int(order[(order >= n * f) & done & term][0]) for f in (0.3, 0.7)]
    short = [i for i in np.flatnonzero(crosses & (order >= n // 2)) if i not in twilio_only][:2]
    unans_pool = np.flatnonzero(done & ~term & (dur >= 30) & (order >= n // 4))
    unanswered = next(int(i) for i in unans_pool if i not in twilio_only and i not in short)
    if len(short) < 2:
        raise ValueError("--pbx: too few completed trunk legs to plant duration mismatches")

    ext = rng.integers(0, EXTENSIONS, size=n) + 2001
    pbx_start = np.where(
        term, start - rng.integers(1, 5, size=n), start + rng.integers(0, 4, size=n)
    )
    answer_at = np.where(
        term, start + rng.integers(0, 3, size=n), pbx_start + rng.integers(0, 2, size=n)
    )
    jitter = rng.integers(-1, 2, size=n)
    ok = (dur + jitter >= 0) & (billed_minutes(dur + jitter) == billed_minutes(dur))
    billsec = np.where(ok, dur + jitter, dur)
    answered = done.copy()
    billsec[short] = dur[short] - 40
    answered[unanswered] = False
    unans_end = np.maximum(end + rng.integers(0, 2, size=n), pbx_start + 1)
    unans_end[unanswered] = pbx_start[unanswered] + rng.integers(20, 31)
    pbx_end = np.where(answered, answer_at + billsec, unans_end)
    disposition = np.where(answered, 0, np.where(status == 0, 2, status))
    national = rng.random(n) < 0.5
    keep = np.ones(n, dtype=bool)
    keep[twilio_only] = False

    # Transfers: a few answered inbound calls handed to a second extension mid-call.
    xfer = answered & ~term & (billsec >= 90) & keep & (rng.random(n) < 0.005)
    xfer[[*short, unanswered]] = False
    split = answer_at + 15 + (rng.random(n) * np.maximum(billsec - 45, 1)).astype(np.int64)
    ext2 = (ext - 2001 + rng.integers(1, EXTENSIONS, size=n)) % EXTENSIONS + 2001

    base = pl.DataFrame(
        {
            "call": order,
            "term": term,
            "ext": ext,
            "ext2": ext2,
            "number": t["ext"],
            "intl": t["intl"],
            "did": t["own"],
            "national": national,
            "start": pbx_start,
            "answer": np.where(answered, answer_at, -1),
            "end": pbx_end,
            "disp": disposition,
            "xfer": xfer,
            "split": split,
            "second_answer": split + rng.integers(3, 9, size=n),
            "to_did": rng.random(n) < 0.5,
        }
    ).filter(pl.Series(keep))
    number = pl.col("number")
    dialled = (
        pl.when(~pl.col("national"))
        .then(number)
        .when(pl.col("intl"))
        .then(pl.concat_str(pl.lit("011"), number.str.slice(1)))
        .otherwise(number.str.slice(2))
    )
    first_rows = base.select(
        "call",
        pl.lit(0).alias("part"),
        pl.when("term").then(pl.lit("out")).otherwise(pl.lit("in")).alias("kind"),
        pl.when("term").then(pl.col("ext").cast(pl.String)).otherwise(number).alias("src"),
        pl.when("term")
        .then(dialled)
        .when("to_did")
        .then(pl.col("did"))
        .otherwise(pl.col("ext").cast(pl.String))
        .alias("dst"),
        pl.col("ext").alias("phone"),
        "number",
        "start",
        "answer",
        pl.when("xfer").then(pl.col("split")).otherwise(pl.col("end")).alias("end"),
        "disp",
        pl.lit(False).alias("transferred"),
    )
    second_rows = base.filter("xfer").select(
        "call",
        pl.lit(1).alias("part"),
        pl.lit("in").alias("kind"),
        number.alias("src"),
        pl.col("ext2").cast(pl.String).alias("dst"),
        pl.col("ext2").alias("phone"),
        "number",
        pl.col("split").alias("start"),
        pl.col("second_answer").alias("answer"),
        "end",
        "disp",
        pl.lit(True).alias("transferred"),
    )
    rows = [first_rows, second_rows]

    # PBX-only: outside calls with numbers Twilio never saw. Internal: extension to extension.
    t0, t1 = int(start.min()), int(start.max())
    lone = _fresh_numbers(rng, 3, legs.frame)
    lone_start = t0 + ((t1 - t0) * np.array([0.25, 0.5, 0.75])).astype(np.int64)
    rows.append(
        pl.DataFrame(
            {
                "call": n + np.arange(3),
                "part": 0,
                "kind": "out",
                "src": (2001 + np.arange(3) * 7).astype(str).tolist(),
                "dst": lone.str.slice(2),
                "phone": 2001 + np.arange(3) * 7,
                "number": lone,
                "start": lone_start,
                "answer": lone_start + 6,
                "end": lone_start + 6 + 95,
                "disp": 0,
                "transferred": False,
            }
        )
    )
    internal = max(3, n // 50)
    i_start = np.sort(rng.integers(t0, t1 + 1, size=internal))
    i_ext = rng.integers(0, EXTENSIONS, size=internal) + 2001
    i_peer = (i_ext - 2001 + rng.integers(1, EXTENSIONS, size=internal)) % EXTENSIONS + 2001
    i_answered = rng.random(internal) < 0.8
    i_len = rng.integers(25, 421, size=internal)
    rows.append(
        pl.DataFrame(
            {
                "call": n + 3 + np.arange(internal),
                "part": 0,
                "kind": "internal",
                "src": i_ext.astype(str).tolist(),
                "dst": i_peer.astype(str).tolist(),
                "phone": i_peer,
                "number": pl.Series([None] * internal, dtype=pl.String),
                "start": i_start,
                "answer": np.where(i_answered, i_start + 5, -1),
                "end": np.where(i_answered, i_start + i_len, i_start + 20),
                "disp": np.where(i_answered, 0, 2),
                "transferred": False,
            }
        )
    )
    frame = pl.concat(rows, how="vertical_relaxed").with_columns(
        pl.when(pl.col("answer") >= 0).then(pl.col("answer")).alias("answer")  # -1: unanswered
    )
    frame = frame.sort("end", "start", "call", "part").rechunk()
    frame = frame.with_row_index("line", offset=1)
    expected = _pbx_expected(
        t, frame, twilio_only, short, unanswered, n, internal, answered, billsec
    )
    return _asterisk_columns(frame, spec, rng), expected


def _fresh_numbers(rng: np.random.Generator, k: int, legs: pl.DataFrame) -> pl.Series:
    """`k` NANP numbers no leg uses."""
    used = pl.concat([legs["from"], legs["to"]]).implode()
    for _ in range(10):
        cand = nanp(rng, k)
        if cand.n_unique() == k and not cand.is_in(used).any():
            return cand
    raise RuntimeError("no fresh numbers")


def _pbx_expected(
    t: pl.DataFrame,
    frame: pl.DataFrame,
    twilio_only: list[int],
    short: list[int],
    unanswered: int,
    n: int,
    internal: int,
    answered: np.ndarray,
    billsec: np.ndarray,
) -> dict[str, object]:
    """What the auditor's call-by-call matching must report (default window and tolerance)."""
    dur = t["duration"].fill_null(0).to_numpy()
    done = t["status"].to_numpy() == 0
    sids = t["sid"].to_list()
    lines = frame.group_by("call").agg(pl.col("line").sort().cast(pl.String).str.join(";"))
    where = dict(zip(lines["call"].to_list(), lines["line"].to_list(), strict=True))

    def twilio_min(i: int) -> int:
        return int(_billed_s(dur[i : i + 1], done[i : i + 1])[0]) // 60

    def pbx_min(i: int) -> int:
        return int(_billed_s(billsec[i : i + 1], answered[i : i + 1])[0]) // 60

    cases: list[dict[str, object]] = []

    def case(name: str, status: str, mismatch: str | None, i: int | None, call: int | None,
             delta: int, note: str) -> None:  # fmt: skip
        cases.append({
            "case": name, "match_status": status, "mismatch": mismatch,
            "call_sid": None if i is None else sids[i],
            "pbx_source_rows": None if call is None else where[call],
            "billed_minutes_delta": delta, "note": note,
        })  # fmt: skip

    for i in twilio_only:
        case("twilio-only", "twilio-only", None, i, None, twilio_min(i),
             "a completed trunk leg the PBX never logged")  # fmt: skip
    for k in range(3):
        case("pbx-only", "pbx-only", None, None, n + k, -2,
             "an answered outside call (95 s) with a number Twilio never saw")  # fmt: skip
    for i in short:
        case("duration", "matched", "duration", i, i, twilio_min(i) - pbx_min(i),
             "PBX billsec 40 s short of Twilio's duration, across a minute")  # fmt: skip
    case(
        "answered-vs-status",
        "matched",
        "duration;answered-vs-status",
        unanswered,
        unanswered,
        twilio_min(unanswered),
        "Twilio completed it; the PBX logged NO ANSWER (billsec 0)",
    )
    stake = sum(abs(int(c["billed_minutes_delta"])) for c in cases)  # type: ignore[call-overload]
    matched = n - len(twilio_only)
    summary = {
        "pbx_calls": matched + 3 + internal,
        "matched": matched,
        "pbx_only": 3,
        "twilio_only": len(twilio_only),
        "internal": internal,
        "ambiguous": 0,
        "not_compared": 0,  # the legs span every PBX call
        "duration_mismatch": len(short) + 1,
        "status_mismatch": 1,
        "billed_minutes_at_stake": float(stake),
    }
    return {
        "file": "pbx/asterisk/Master.csv",
        "lines": frame.height,
        "trunk_legs": n,
        "transferred_calls": int(frame["transferred"].sum()),
        "cdr_matching": summary,
        "planted": cases,
    }


def _asterisk_columns(frame: pl.DataFrame, spec: Spec, rng: np.random.Generator) -> pl.DataFrame:
    """The 21 cdr_csv columns (loguniqueid, loguserfield, newcdrcolumns), local times."""
    names = [f"{f} {la}" for la in LAST_NAMES for f in FIRST_NAMES]
    cnam = ["WIRELESS CALLER", "", "NEW YORK NY", "BROOKLYN NY", "CHICAGO IL", "", "ACME CORP"]
    m = frame.height
    chan = pl.Series(np.arange(m) * 2 + 0x1000)
    hexs = pl.Series([f"{v:08x}" for v in range(0x1000, 0x1000 + 2 * m + 2)])
    a_chan, b_chan = hexs.gather(chan - 0x1000), hexs.gather(chan - 0x1000 + 1)
    name = pl.Series(names).gather((frame["phone"].to_numpy() - 2001) % len(names))
    caller_name = pl.Series(cnam).gather(rng.integers(0, len(cnam), size=m))
    frame = frame.with_columns(
        a_chan.alias("a_chan"), b_chan.alias("b_chan"), name.alias("name"),
        caller_name.alias("cnam"),
    )  # fmt: skip
    first_start = pl.col("start").min().over("call")
    uid = pl.concat_str(
        first_start.cast(pl.String), pl.lit("."), (pl.col("call") * 2 + 7).cast(pl.String)
    )
    own_uid = pl.concat_str(
        pl.col("start").cast(pl.String), pl.lit("."), (pl.col("line") * 2 + 1).cast(pl.String)
    )

    def wall(col: str | pl.Expr) -> pl.Expr:
        e = pl.col(col) if isinstance(col, str) else col
        return (
            pl.from_epoch(e)
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(spec.pbx_tz)
            .dt.strftime("%Y-%m-%d %H:%M:%S")
        )

    kind = pl.col("kind")
    out_call, in_call = kind == "out", kind == "in"
    trunk_chan = pl.concat_str(pl.lit("PJSIP/twilio-trunk-"), pl.col("a_chan"))
    phone_chan = pl.concat_str(
        pl.lit("PJSIP/"), pl.col("phone").cast(pl.String), pl.lit("-"), pl.col("a_chan")
    )
    b_trunk = pl.concat_str(pl.lit("PJSIP/twilio-trunk-"), pl.col("b_chan"))
    b_phone = pl.concat_str(pl.lit("PJSIP/"), pl.col("dst"), pl.lit("-"), pl.col("b_chan"))
    b_ext = pl.concat_str(
        pl.lit("PJSIP/"), pl.col("phone").cast(pl.String), pl.lit("-"), pl.col("b_chan")
    )
    who = pl.when(in_call).then(pl.col("cnam")).otherwise(pl.col("name"))
    clid = pl.concat_str(pl.lit('"'), who, pl.lit('" <'), pl.col("src"), pl.lit(">"))
    disp = pl.col("disp").replace_strict(ASTERISK_DISPOSITION, return_dtype=pl.String)
    return frame.select(
        pl.lit("").alias("accountcode"),
        pl.col("src"),
        pl.col("dst"),
        pl.when(out_call | (kind == "internal"))
        .then(pl.lit("from-internal"))
        .when(pl.col("transferred"))
        .then(pl.lit("from-internal-xfer"))
        .when(pl.col("dst").str.starts_with("+"))
        .then(pl.lit("from-trunk"))
        .otherwise(pl.lit("from-did-direct"))
        .alias("dcontext"),
        clid.alias("clid"),
        pl.when(in_call).then(trunk_chan).otherwise(phone_chan).alias("channel"),
        pl.when(out_call)
        .then(pl.when(pl.col("disp") == 3).then(pl.lit("")).otherwise(b_trunk))
        .when(in_call)
        .then(b_ext)
        .otherwise(b_phone)
        .alias("dstchannel"),
        pl.lit("Dial").alias("lastapp"),
        pl.when(out_call)
        .then(pl.concat_str(pl.lit("PJSIP/"), pl.col("number"), pl.lit("@twilio-trunk,60,T")))
        .when(in_call)
        .then(pl.concat_str(pl.lit("PJSIP/"), pl.col("phone").cast(pl.String), pl.lit(",30,tr")))
        .otherwise(pl.concat_str(pl.lit("PJSIP/"), pl.col("dst"), pl.lit(",20")))
        .alias("lastdata"),
        wall("start").alias("start"),
        wall("answer").alias("answer"),
        wall("end").alias("end"),
        (pl.col("end") - pl.col("start")).alias("duration"),
        pl.when(pl.col("answer").is_not_null())
        .then(pl.col("end") - pl.col("answer"))
        .otherwise(0)
        .alias("billsec"),
        disp.alias("disposition"),
        pl.lit("DOCUMENTATION").alias("amaflags"),
        own_uid.alias("uniqueid"),
        pl.lit("").alias("userfield"),
        pl.lit("").alias("peeraccount"),
        uid.alias("linkedid"),
        (pl.col("line") + 41).alias("sequence"),
    )


def write_asterisk(rows: pl.DataFrame, path: Path) -> None:
    """cdr_csv: strings quoted (quotes doubled), integers bare, an empty answer as `,,`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.write_csv(path, include_header=False, quote_style="non_numeric", line_terminator="\n")


# Your own records (--records) -------------------------------------------------------------------
RECORDS_FORMAT = """# The benchmark's own records: a CRM log of every call the account made or took.
name = "crm-call-log"
[columns]
call_sid = "call_sid"
to = "to"
time = "logged_at"
duration = "talk_seconds"
status = "outcome"
answered_by = "verdict"
group = ["team"]
[time]
format = "iso8601"
zone = "UTC"
[status_map]
completed = "completed"
busy = "busy"
no-answer = "no-answer"
failed = "failed"
canceled = "canceled"
in-progress = "in-progress"
ringing = "ringing"
queued = "queued"
"""
RECORDS_WINDOW = 60  # the auditor's default --match-window
RECORDS_PLANTED = 5  # cases of each kind
RECORDS_NO_SID = 0.1  # share of the records written without a CallSid (matched by number + time)
TEAMS = ("care", "sales", "billing", "field")


def build_records(legs: Legs, spec: Spec) -> tuple[pl.DataFrame, dict[str, object]]:
    """One CRM record per leg (`records/calls.csv`, in time order), most with the leg's CallSid,
    about 10 % without (those of legs alone on their number within the match window, by number and
    time), and RECORDS_PLANTED cases of each finding; the expected `records` summary and rows."""
    rng = np.random.default_rng([spec.seed, 3])
    f = legs.frame.select(
        "sid",
        "to",
        "start",
        "duration",
        "status",
        "answered_by",
        "parent_call_sid",
        "kind",
        "billable",
        "billed_minutes",
    ).with_row_index("i")
    n = f.height
    if n < 200:
        raise ValueError("--records needs at least 200 legs: raise --legs")
    has_child = f["sid"].is_in(f["parent_call_sid"].drop_nulls().implode())
    f = f.with_columns(has_child.alias("has_child"))
    status = f["status"].to_numpy()
    dur = f["duration"].fill_null(-1).to_numpy()
    amd = f["answered_by"].to_numpy()
    root_alone = (f["parent_call_sid"].is_null() & ~f["has_child"]).to_numpy()
    order = np.arange(n)
    used: set[int] = set()

    def pick(mask: np.ndarray, k: int = RECORDS_PLANTED) -> list[int]:
        pool = [int(i) for i in np.flatnonzero(mask & (order >= n // 10)) if int(i) not in used]
        if len(pool) < k:
            raise ValueError("--records: too few legs to plant every case: raise --legs")
        chosen = [pool[j] for j in sorted(rng.choice(len(pool), size=k, replace=False))]
        used.update(chosen)
        return chosen

    done = status == 0
    twilio_only = pick(done & root_alone)
    undelivered = pick(np.isin(status, [1, 2, 3]))  # busy, no-answer, failed
    status_off = pick(status == 1)  # busy, logged as no-answer
    machine = pick(done & (amd >= 2))
    slow = pick(done)
    crosses = done & (dur > 150) & (billed_minutes(dur) != billed_minutes(dur - 90))
    short = pick(crosses)
    dup = pick(done)

    # Legs alone on their (E.164) number within the window: their record may omit the SID.
    by_number = (
        f.select("i", "to", "start")
        .filter(pl.col("to").str.starts_with("+"))
        .sort("to", "start")
        .with_columns(
            (pl.col("start") - pl.col("start").shift(1).over("to")).alias("gap_prev"),
            (pl.col("start").shift(-1).over("to") - pl.col("start")).alias("gap_next"),
        )
        .filter(
            pl.col("gap_prev").fill_null(10**9) > RECORDS_WINDOW + 10,
            pl.col("gap_next").fill_null(10**9) > RECORDS_WINDOW + 10,
        )
    )
    lonely = np.zeros(n, dtype=bool)
    lonely[by_number["i"].to_numpy()] = True
    no_sid = lonely & (rng.random(n) < RECORDS_NO_SID / max(lonely.mean(), 1e-9))
    no_sid[sorted(used)] = False

    offset = rng.integers(0, 4, size=n)
    offset[slow] = 200 + rng.integers(0, 50, size=len(slow))
    talk = np.where(dur >= 0, dur, -1)
    talk[short] = dur[short] - 90
    outcome = status.copy()
    outcome[undelivered] = 0  # completed
    outcome[status_off] = 2  # no-answer
    verdict = np.where(amd == 1, 1, np.where(amd >= 2, 2, 0))  # none, human, machine
    verdict[machine] = 1
    national = rng.random(n) < 0.5
    to = f["to"]
    nanp = to.str.contains(r"^\+1[2-9][0-9]{2}[2-9][0-9]{6}$")
    to_written = pl.select(
        pl.when(pl.lit(pl.Series(national)) & nanp).then(to.str.slice(2)).otherwise(to)
    ).to_series()
    keep = np.ones(n, dtype=bool)
    keep[twilio_only] = False
    rows = pl.DataFrame(
        {
            "i": f["i"],
            "call_sid": pl.select(
                pl.when(pl.lit(pl.Series(no_sid))).then(None).otherwise(f["sid"])
            ).to_series(),
            "to": to_written,
            "at": f["start"] - offset,
            "talk_seconds": pl.Series(talk).cast(pl.String).replace("-1", None),
            "outcome": pl.Series(outcome).replace_strict(dict(enumerate(STATUSES))),
            "verdict": pl.Series(verdict).replace_strict(
                {0: None, 1: "human", 2: "machine"}, return_dtype=pl.String
            ),
            "team": pl.Series(TEAMS).gather(f["kind"].cast(pl.Int64) % len(TEAMS)),
        }
    ).filter(pl.Series(keep))
    # Records of calls Twilio never logged (records-only), and records repeating a CallSid.
    extra_n = RECORDS_PLANTED
    starts = f["start"].to_numpy()
    ghost_at = starts[n // 3 : n // 3 + extra_n] + 1
    ghosts = pl.DataFrame(
        {
            "i": pl.Series([None] * extra_n, dtype=pl.UInt32),
            "call_sid": hex_ids(rng, "CA", extra_n),
            "to": [f"+1617555{9000 + k:04d}" for k in range(extra_n)],
            "at": ghost_at,
            "talk_seconds": ["45"] * extra_n,
            "outcome": ["completed"] * extra_n,
            "verdict": pl.Series([None] * extra_n, dtype=pl.String),
            "team": ["sales"] * extra_n,
        }
    )
    repeats = rows.filter(pl.col("i").is_in(dup)).with_columns(pl.col("at") + 30)
    rows = (
        pl.concat(
            [rows, ghosts, repeats.with_columns(pl.lit(True).alias("__repeat"))], how="diagonal"
        )
        .with_columns(pl.col("__repeat").fill_null(False))
        .sort("at", "__repeat", "i", nulls_last=True)
        .with_row_index("line", offset=2)  # header = line 1
    )
    line_of = {
        (int(i), bool(r)): int(line)
        for i, r, line in rows.filter(pl.col("i").is_not_null())
        .select("i", "__repeat", "line")
        .iter_rows()
    }
    sids = f["sid"].to_list()
    planted: list[dict[str, object]] = []

    def case(line: int | None, sid: str, status: str, finding: str) -> None:
        planted.append(
            {
                "records_source_row": line,
                "call_sid": sid,
                "match_status": status,
                "finding": finding,
            }
        )

    for i in twilio_only:
        case(None, sids[i], "twilio-only", "twilio-only")
    for i in undelivered:
        case(line_of[(i, False)], sids[i], "matched", "undelivered")
    for i in status_off:
        case(line_of[(i, False)], sids[i], "matched", "status")
    for i in machine:
        case(line_of[(i, False)], sids[i], "matched", "machine-answered")
    for i in slow:
        case(line_of[(i, False)], sids[i], "matched", "slow")
    for i in short:
        case(line_of[(i, False)], sids[i], "matched", "duration")
    for i in dup:
        case(line_of[(i, True)], sids[i], "ambiguous", "ambiguous")
    for line, sid in rows.filter(pl.col("i").is_null()).select("line", "call_sid").iter_rows():
        case(int(line), sid, "records-only", "undelivered;records-only")
    at_stake = int((billed_minutes(dur[short]) - billed_minutes(dur[short] - 90)).sum())
    summary = {
        "records": rows.height,
        "matched": n - len(twilio_only),
        "records_only": extra_n,
        "twilio_only": len(twilio_only),
        "ambiguous": len(dup),
        "undelivered": len(undelivered) + extra_n,
        "machine_answered": len(machine),
        "slow": len(slow),
        "duration": len(short),
        "status": len(status_off),
        "billed_minutes_at_stake": float(at_stake),
    }
    out = rows.select(
        "call_sid",
        "to",
        pl.from_epoch("at").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("logged_at"),
        "talk_seconds",
        "outcome",
        "verdict",
        "team",
    )
    expected = {
        "records": rows.height,
        "without_sid": int(rows["call_sid"].is_null().sum()),
        "summary": summary,
        "planted": sorted(planted, key=lambda c: (str(c["call_sid"]), str(c["match_status"]))),
    }
    return out, expected


def write_records(rows: pl.DataFrame, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows.write_csv(folder / "calls.csv", line_terminator="\n")
    (folder / "format.toml").write_text(RECORDS_FORMAT, encoding="utf-8")


# Expected figures and the whole run ---------------------------------------------------------------
def _figures_json(frame: pl.DataFrame) -> list[dict[str, object]]:
    out = []
    for r in frame.iter_rows(named=True):
        out.append(
            {
                "period": r["period"],
                "category": r["category"],
                "logged_calls": r["logged_calls"],
                "billable_calls": r["billable_calls"],
                "log_seconds": r["log_seconds"],
                "billed_minutes": r["billed_minutes"],
                "expected_price": money(r["expected_price_e5"]),
                "logged_price": money(r["logged_price_e5"]),
                "usage_count": r["usage_count"],
                "usage_minutes": r["usage_minutes"],
                "usage_price": money(r["usage_price_e5"]),
            }
        )
    return out


def _signed_money(e5: int) -> str:
    return ("-" if e5 < 0 else "") + money(abs(e5))


def expected_unexplained(spec: Spec, days: dict[str, int]) -> dict[str, list[dict[str, object]]]:
    """The headline unexplained rows an audit must report (usage minus logs), per --period."""
    out: dict[str, list[dict[str, object]]] = {"month": [], "day": []}
    for p in planted_usage(spec):
        figures = {"category": p.category, "count": p.count, "minutes": p.minutes,
                   "price": _signed_money(p.price_e5), "case": p.case}  # fmt: skip
        out["month"].append({"period": p.period, **figures})
        out["day"].append({"period": f"{p.period}-{days[p.case]:02d}", **figures})
    for rows in out.values():
        rows.sort(key=lambda r: (str(r["period"]), str(r["category"])))
    return out


def _totals(legs: pl.DataFrame, fmt: str) -> dict[str, dict[str, int]]:
    per = (
        legs.group_by(pl.from_epoch("start").dt.strftime(fmt).alias("period"))
        .agg(
            pl.len().alias("legs"),
            pl.col("billable").sum().alias("billable_calls"),
            pl.col("billed_minutes").sum().alias("billed_minutes"),
        )
        .sort("period")
    )
    return {
        r["period"]: {k: int(r[k]) for k in ("legs", "billable_calls", "billed_minutes")}
        for r in per.iter_rows(named=True)
    }


def generate(spec: Spec, out: Path, log: bool = False) -> dict[str, object]:
    """Write every file of `spec` into `out` (emptied first) and return expected.json's content."""
    if not set(spec.formats) <= set(FORMATS):
        raise ValueError(f"formats must be among {', '.join(FORMATS)}")
    if out.exists() and any(out.iterdir()):
        if not (out / "expected.json").exists():
            raise ValueError(f"{out} is not empty and holds no expected.json: not overwriting it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def say(what: str) -> None:
        if log:
            print(f"[{time.perf_counter() - t0:6.1f} s] {what}", file=sys.stderr)

    legs = build_legs(spec)
    frame = legs.frame
    say(f"{frame.height:,} legs built")
    files = write_calls(legs, spec, out, log)
    say("call logs written")
    days = planted_days(frame, spec)
    usage: dict[str, list[dict[str, object]]] = {}
    for period in ("month", "day"):
        figures = usage_figures(frame, spec, period)
        folder = out / "usage" / ("monthly" if period == "month" else "daily")
        folder.mkdir(parents=True, exist_ok=True)
        kind = "usage_monthly" if period == "month" else "usage_daily"
        files[kind] = []
        for month, page in usage_pages(figures, spec, period, spec.seed).items():
            path = folder / f"{month}.json"
            path.write_text(json.dumps(page, indent=2) + "\n", encoding="utf-8")
            files[kind].append(
                {"path": path.relative_to(out).as_posix(), "rows": len(page["usage_records"])}  # type: ignore[arg-type]
            )
        usage[period] = _figures_json(figures)
    say("usage records written")
    pbx = None
    if spec.pbx:
        rows, pbx = build_pbx(legs, spec)
        write_asterisk(rows, out / "pbx" / "asterisk" / "Master.csv")
        files["pbx"] = [{"path": "pbx/asterisk/Master.csv", "rows": rows.height}]
        say(f"PBX CDRs written ({rows.height:,} lines)")
    records = None
    if spec.records:
        own, records = build_records(legs, spec)
        write_records(own, out / "records")
        files["records"] = [{"path": "records/calls.csv", "rows": own.height}]
        say(f"own records written ({own.height:,} records)")
    statuses = frame.group_by("status").len().sort("status")
    categories = frame.group_by("category").len().sort("category")
    expected: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"command": "python benchmarks/generate.py", **spec.as_dict()},
        "account_sid": ACCOUNT,
        "periods": month_periods(spec),
        "legs": frame.height,
        "own_numbers": {"local": LOCAL_DIDS, "pbx_dids": PBX_DIDS, "tollfree": TOLLFREE},
        "statuses": {STATUSES[s]: c for s, c in statuses.iter_rows()},
        "categories": {LEAVES[c]: n for c, n in categories.iter_rows()},
        "distinct_to": frame["to"].n_unique(),
        "distinct_from": frame["from"].n_unique(),
        "price_pending": int(frame["price_pending"].sum()),
        "notes": legs.notes,
        "files": files,
        "totals": {"month": _totals(frame, "%Y-%m"), "day": _totals(frame, "%Y-%m-%d")},
        "planted": [
            {
                "case": p.case,
                "period": p.period,
                "daily_date": f"{p.period}-{days[p.case]:02d}",
                "category": p.category,
                "count": p.count,
                "minutes": p.minutes,
                "price": _signed_money(p.price_e5),
                "note": p.note,
            }
            for p in planted_usage(spec)
        ],
        "expected_unexplained": expected_unexplained(spec, days),
        "usage": usage,
        "pbx": pbx,
        "records": records,
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    say("expected.json written")
    return expected


def default_out(spec: Spec) -> Path:
    """benchmarks/data/<legs>legs-<months>m-<start>-s<seed>-t<share>[-pbx]."""
    share = f"{spec.trunk_share:g}".replace(".", "p")
    tail = ("-pbx" if spec.pbx else "") + ("-records" if spec.records else "")
    return DEFAULT_DATA / f"{spec.legs}legs-{spec.months}m-{spec.start}-s{spec.seed}-t{share}{tail}"


def parse_args(argv: Sequence[str] | None = None) -> tuple[Spec, Path]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--legs", type=int, required=True, help="call legs in all (exactly)")
    ap.add_argument("--months", type=int, default=1, help="UTC months (default 1)")
    ap.add_argument("--start", default="2025-01", help="first month, YYYY-MM (default 2025-01)")
    ap.add_argument("--out", type=Path, help="output folder (emptied; default benchmarks/data/..)")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--formats", default="bulk,parquet", help="of bulk,parquet,csv")
    ap.add_argument("--pbx", action="store_true", help="also an Asterisk Master.csv")
    ap.add_argument("--pbx-tz", default="America/New_York", help="zone of the PBX's local times")
    ap.add_argument("--trunk-share", type=float, default=0.2, help="share of calls on the trunk")
    ap.add_argument("--records", action="store_true", help="also your own records of the calls")
    a = ap.parse_args(argv)
    formats = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    if not 0 <= a.trunk_share <= 1:
        ap.error("--trunk-share must be within 0..1")
    if a.months < 1:
        ap.error("--months must be >= 1")
    spec = Spec(
        a.legs, a.months, a.start, a.seed, a.trunk_share, formats, a.pbx, a.pbx_tz, a.records
    )
    return spec, a.out or default_out(spec)


def main(argv: Sequence[str] | None = None) -> int:
    spec, out = parse_args(argv)
    t0 = time.perf_counter()
    exp = generate(spec, out, log=True)
    print(f"{exp['legs']:,} legs in {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
