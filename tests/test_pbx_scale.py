"""The fast paths PBX matching takes at scale give what the general paths give, on real-format data.

Each fast path (numbers settled without phonenumbers, Master.csv lines parsed by polars' CSV reader,
plain PBX times parsed in one pass, one-line calls without the group-by, the matcher's window join
and span lookup) is checked here against the general path it stands in for. Nothing is timed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import auditor.normalize.cdr as ncdr
import auditor.normalize.numbers as numbers
import auditor.reconcile.cdr as recon
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_asterisk import BROKEN, LAYOUTS, AsteriskCdrCsv
from auditor.ingest.pbx_lines import HEAD_LINES, csv_records, physical_lines, split_csv, to_columns
from auditor.normalize.times import DstPolicy
from auditor.normalize.values import whole_number

NANP = sorted(numbers.NANP_REGIONS)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _numbers(rng: random.Random, n: int) -> list[str]:
    """Written forms a PBX or Twilio gives: national NANP numbers of every area code and exchange
    (N11, 555-01xx, codes starting 0 or 1 among them), with a leading 1 or another digit, E.164 of
    any length and country, formatted, IDD-prefixed, short, URIs, words, non-ASCII digits."""
    out: list[str] = []
    for _ in range(n):
        d = _digits(rng, 10)
        out += [d, "1" + d, rng.choice("023456789") + d, "+1" + d]
        k = rng.random()
        if k < 0.1:
            out.append(f"{rng.randrange(200, 1000)}5550{rng.randrange(100, 200)}")  # 555-01xx
        elif k < 0.2:
            out.append(f"{rng.randrange(2, 10)}11{rng.randrange(2, 10)}{_digits(rng, 6)}")  # N11
        elif k < 0.3:
            out.append("+" + rng.choice("123456789") + _digits(rng, rng.randrange(5, 17)))
        elif k < 0.4:
            out.append(f"({d[:3]}) {d[3:6]}-{d[6:]}")
        elif k < 0.5:
            out.append("011" + rng.choice(["44", "33", "49", "81", "7"]) + _digits(rng, 9))
        elif k < 0.6:
            out.append(_digits(rng, rng.randrange(1, 9)))
        elif k < 0.7:
            out.append(rng.choice(["sip:+1", "tel:+1", "sip:"]) + d + "@pbx.example.com")
        elif k < 0.75:
            out.append(rng.choice(["s", "anonymous", "client:alice", "", " ", "+", "+0" + d]))
        elif k < 0.8:
            out.append("".join(chr(0xFF10 + int(c)) for c in d))  # fullwidth digits
    return out


@pytest.mark.parametrize(
    ("regions", "count", "extension_max_digits"),
    [
        (["US"], 12_500, 6),  # 50,000 national and E.164 forms, and the odd ones around them
        (["CA"], 2_500, 6),
        (NANP, 100, 6),  # every NANP region
        (["US"], 500, 10),  # 10-digit extensions: the 10-digit national form is not fast then
        (["GB"], 1_000, 6),  # not NANP: only E.164 as written is fast
    ],
)
def test_fast_numbers_agree_with_phonenumbers(
    regions: list[str], count: int, extension_max_digits: int
) -> None:
    rng = random.Random(f"{regions}{count}")
    for region in regions:
        values = sorted(set(_numbers(rng, count)))
        table = numbers.number_table(
            pl.Series(values), region=region, extension_max_digits=extension_max_digits
        )
        facts = [numbers._classify(v, region, extension_max_digits) for v in values]
        assert table.rows() == [(v, e, k) for v, (e, k) in zip(values, facts, strict=True)]
        e164, _ = numbers.fast_party(pl.col("raw"), region, extension_max_digits)
        fast = pl.DataFrame({"raw": values}).select(e164.is_not_null().sum()).item()
        assert fast > (len(values) // 3 if region in NANP else len(values) // 20)


def _leg(row: int, sid: str, number: str, start: datetime, duration: int) -> dict:
    return {
        "source_file": "calls.json",
        "source_row": row,
        "call_sid": sid,
        "parent_call_sid": None,
        "direction": "trunking-terminating",
        "from": "+18005550100",
        "to": number,
        "status": "completed",
        "start_time_utc": start,
        "duration_s": duration,
    }


def _busy_day(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PBX calls and legs on a few busy numbers: many candidates, equal gaps, windows that cross
    bucket edges, sub-second stamps, two PBX files far apart."""
    rng = random.Random(seed)
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    numbers = [f"+1212555{n:04d}" for n in range(4)]
    cdr, legs = [], []
    for i in range(300):
        start = day + timedelta(seconds=rng.randrange(0, 3_000), microseconds=rng.choice([0, 5e5]))
        if i >= 250:
            start += timedelta(days=3)  # the second file
        answered = rng.random() < 0.8
        ring = rng.randrange(0, 40)
        billsec = rng.randrange(0, 300) if answered else 0
        cdr.append(
            {
                "source_file": "b.csv" if i >= 250 else "a.csv",
                "source_rows": str(i + 1),
                "source_row": i + 1,
                "start_utc": start,
                "answer_utc": start + timedelta(seconds=ring) if answered else None,
                "end_utc": start + timedelta(seconds=ring + billsec),
                "duration_s": ring + billsec,
                "billsec": billsec,
                "answered": answered,
                "src": rng.choice(["1001", "2002"]),
                "dst": rng.choice(numbers),
            }
        )
        if rng.random() < 0.9:
            gap = timedelta(seconds=rng.randrange(-70, 110), microseconds=rng.choice([0, 5e5]))
            legs.append(_leg(i, f"CA{i:032x}", rng.choice(numbers), start + gap, billsec + 1))
    for j in range(40):  # legs of no PBX call, some outside both files' spans
        start = day + timedelta(hours=rng.randrange(-3, 80), seconds=rng.randrange(0, 3600))
        legs.append(_leg(1000 + j, f"CA{1000 + j:032x}", rng.choice(numbers), start, 30))
    return pl.DataFrame(cdr), pl.DataFrame(legs)


@pytest.mark.parametrize("seed", range(3))
def test_window_join_and_spans_match_the_plain_join(seed: int) -> None:
    cdr, calls = _busy_day(seed)
    dids = ["+18005550100"]
    args = {"region": "US", "dids": dids, "extension_max_digits": 6}
    pbx = numbers.normalise_numbers(cdr.lazy().with_row_index("__p"), ("src", "dst"), **args)
    legs = numbers.normalise_numbers(calls.lazy().with_row_index("__t"), ("from", "to"), **args)
    for window in (0, 20, 60):
        with_ring = pbx.lazy().with_columns(recon._RING.alias("__ring"))
        got = recon.pbx_pairs(with_ring, legs.lazy(), window).sort("__p", "__t")
        # The plain join on the number, then the window (the matcher's definition).
        ring = pl.when(pl.col("answered")).then(
            (pl.col("answer_utc") - pl.col("start_utc")).dt.total_seconds()
        )
        delta = (pl.col("start_time_utc") - pl.col("start_utc")).dt.total_seconds()
        want = (
            pbx.select("__p", "start_utc", "billsec", ring.fill_null(0).alias("ring"), "dst_e164")
            .join(legs.select("__t", "start_time_utc", "duration_s", "to_e164"), how="cross")
            .filter(pl.col("dst_e164") == pl.col("to_e164"))
            .filter(delta.is_between(-window, pl.col("ring") + window))
            .select(
                "__p",
                "__t",
                (
                    delta.abs() * recon._RANK + (pl.col("duration_s") - pl.col("billsec")).abs()
                ).alias("__cost"),
            )
            .sort("__p", "__t")
        )
        assert got.height > 50
        assert got.equals(want)
    for margin in (0, 60, 7_200):
        spans = recon._in_spans(calls["start_time_utc"], cdr, 60, margin)
        per_file = cdr.group_by("source_file").agg(
            (pl.col("start_utc").min() - pl.duration(seconds=margin)).alias("lo"),
            (pl.col("end_utc").max() + pl.duration(seconds=margin)).alias("hi"),
        )
        want_spans = [
            any(lo <= t <= hi for lo, hi in per_file.select("lo", "hi").iter_rows())
            for t in calls["start_time_utc"]
        ]
        assert spans.to_list() == want_spans


def _rounds(pairs: pl.DataFrame) -> tuple[set, set, set]:
    """The matcher's rounds as its docstring states them, with no shortcut: (matched, tied
    calls, tied legs), ties without a match of their own."""
    rest = pairs.rows()
    matched: set[tuple[int, int]] = set()
    tied: set[tuple[int, int]] = set()
    while rest:
        best_p = {p: min(c for q, _, c in rest if q == p) for p, _, _ in rest}
        best_t = {t: min(c for _, u, c in rest if u == t) for _, t, _ in rest}
        n_p = {p: sum(1 for q, _, c in rest if q == p and c == best_p[p]) for p in best_p}
        n_t = {t: sum(1 for _, u, c in rest if u == t and c == best_t[t]) for t in best_t}
        mutual = {
            (p, t)
            for p, t, c in rest
            if c == best_p[p] == best_t[t] and n_p[p] == 1 and n_t[t] == 1
        }
        if mutual:
            matched |= mutual
            drop_p, drop_t = {p for p, _ in mutual}, {t for _, t in mutual}
        else:
            low = min(c for _, _, c in rest)
            at_low = [(p, t) for p, t, c in rest if c == low]
            tied |= set(at_low)
            drop_p = {p for p, _ in at_low if n_p[p] > 1}
            drop_t = {t for _, t in at_low if n_t[t] > 1}
        rest = [(p, t, c) for p, t, c in rest if p not in drop_p and t not in drop_t]
    done_p, done_t = {p for p, _ in matched}, {t for _, t in matched}
    return (
        matched,
        {p for p, _ in tied} - done_p,
        {t for _, t in tied} - done_t,
    )


@pytest.mark.parametrize("seed", range(4))
def test_assign_is_the_rounds_of_the_docstring(seed: int) -> None:
    """Lone pairs taken first, then rounds: the same as rounds over everything."""
    rng = random.Random(seed)
    n = 150
    pairs = pl.DataFrame(
        {
            "__p": [rng.randrange(0, 80) for _ in range(n)],
            "__t": [rng.randrange(0, 80) for _ in range(n)],
            "__cost": [rng.randrange(0, 4) * recon._RANK + rng.randrange(0, 3) for _ in range(n)],
        },
        schema={"__p": pl.UInt32, "__t": pl.UInt32, "__cost": pl.Int64},
    ).unique(["__p", "__t"], keep="first", maintain_order=True)
    matched, tied_p, tied_t = recon._assign(pairs)
    want = _rounds(pairs)
    assert set(matched.rows()) == want[0]
    assert set(tied_p["__p"]) == want[1]
    assert set(tied_t["__t"]) == want[2]


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _master_line(i: int, rng: random.Random) -> str:
    """One 21-column Master.csv line as cdr_csv writes it (strings quoted, integers bare)."""
    start = datetime(2025, 3, 9, 1, 0) + timedelta(seconds=i * 7 + rng.randrange(0, 5))
    answered = rng.random() < 0.7
    billsec = rng.randrange(1, 200) if answered else 0
    end = start + timedelta(seconds=5 + billsec)
    first = i - i % 3 if i % 7 == 0 else i  # a few calls of several lines
    linked = f"17000{first}.{first}"
    fields = [
        _q(""),
        _q(f"20{i % 90:02d}"),
        _q(rng.choice(["2125550143", "+442079460018", "011442079460018"])),
        _q("from-internal"),
        _q(f'"Agent, {i}" <20{i % 90:02d}>'),
        _q(f"PJSIP/20{i % 90:02d}-{i:08x}"),
        _q("PJSIP/twilio-trunk-00001" if answered else ""),
        _q("Dial"),
        _q("PJSIP/+12125550143@twilio-trunk,60,T"),
        _q(str(start)),
        _q(str(start + timedelta(seconds=5))) if answered else "",
        _q(str(end)),
        str(5 + billsec),
        str(billsec),
        _q("ANSWERED" if answered else "NO ANSWER"),
        _q("DOCUMENTATION"),
        _q(f"17000{i}.{i}"),
        _q(""),
        _q(""),
        _q(linked),
        str(i),
    ]
    return ",".join(fields)


def _master_file(tmp_path: Path, lines: int) -> Path:
    """A Master.csv beyond HEAD_LINES lines with what real files hold: broken quoting, a line of
    another width, blank lines, CRLF, a Latin-1 caller name (across DST, in New York)."""
    rng = random.Random(lines)
    text = [_master_line(i, rng).encode() for i in range(lines)]
    text[3] = text[3].replace(b'"Dial"', b'"Di"al"')  # broken quoting
    text[HEAD_LINES + 5] = text[HEAD_LINES + 5] + b',"extra"'  # 22 fields
    text[HEAD_LINES + 9] = b""
    text[HEAD_LINES + 20] = text[HEAD_LINES + 20] + b"\r"
    text[HEAD_LINES + 40] = text[HEAD_LINES + 40].replace(b"Agent", b"Ag\xe9nt")
    path = tmp_path / "Master.csv"
    path.write_bytes(b"\n".join(text) + b"\n")
    return path


def test_master_csv_fast_read_is_the_field_by_field_split(tmp_path: Path) -> None:
    path = _master_file(tmp_path, HEAD_LINES + 200)
    file = InputFile(path, "Master.csv")
    width, fast = csv_records(file, "latin-1", tuple(LAYOUTS), BROKEN)
    split = split_csv(physical_lines(file, "latin-1"))
    assert width == 21
    assert fast.equals(to_columns(split, [f"c{i}" for i in range(21)], BROKEN))
    errors = fast.filter(pl.col("_error").is_not_null())
    assert errors.select("source_row", "_error").rows() == [
        (4, BROKEN),
        (HEAD_LINES + 6, "record has 22 fields, expected 21"),
    ]
    assert fast.filter(pl.col("encoding").is_not_null())["source_row"].to_list() == [
        HEAD_LINES + 41
    ]
    # A sound file (every line well-formed) is read whole by polars.
    sound = tmp_path / "sound.csv"
    rng = random.Random(1)
    sound.write_text("\r\n".join(_master_line(i, rng) for i in range(50)) + "\r\n")
    file = InputFile(sound, "sound.csv")
    width, fast = csv_records(file, "latin-1", tuple(LAYOUTS), BROKEN)
    split = split_csv(physical_lines(file, "latin-1"))
    assert fast.equals(to_columns(split, [f"c{i}" for i in range(21)], BROKEN))


def test_normalize_fast_paths_give_the_general_answer(tmp_path: Path) -> None:
    """Plain times in one pass (the file crosses the spring-forward gap) and one-line calls
    without the group-by give what `_parse_times` and the group-by give."""
    path = _master_file(tmp_path, HEAD_LINES + 200)
    raw = AsteriskCdrCsv().read(InputFile(path, "Master.csv"), ReadOptions()).collect()
    for dst in DstPolicy:
        staged = raw.lazy().with_columns(
            *(ncdr._as_text(c, []) for c in ncdr.TIME_COLUMNS),
            pl.lit("America/New_York").alias(ncdr.ZONE),
        )
        zones: list[str | None] = ["America/New_York"]
        general = staged.with_columns(
            e for c in ncdr.TIME_COLUMNS for e in ncdr._parse_times(c, zones, dst)
        ).collect()
        assert ncdr._parsed_times(staged, zones, dst).equals(general)
        assert general["start__dst"].drop_nulls().len() > 0  # the DST edge is in the file
    lines = ncdr._group(
        ncdr._lines(
            general.lazy().with_columns(
                whole_number("duration").alias("__duration"),
                whole_number("billsec").alias("__billsec"),
            )
        ).collect()
    )
    grouped = (
        ncdr._grouped_calls(lines.lazy().with_row_index(ncdr.POS), ncdr.POS)
        .sort(ncdr.POS)
        .drop(ncdr.POS)
        .collect()
    )
    calls = ncdr._calls(lines)
    assert calls.height == grouped.height > HEAD_LINES // 3
    assert calls.equals(grouped)


def test_match_reads_only_the_columns_it_needs_from_a_lazy_call_log() -> None:
    cdr, calls = _busy_day(5)
    eager = recon.match_cdrs(cdr, calls, dids=["+18005550100"])
    lazy = recon.match_cdrs(cdr, calls.lazy(), dids=["+18005550100"])
    assert eager[0].equals(lazy[0])
    assert eager[1] == lazy[1]
    assert eager[1].matched > 100
    assert recon.account_dids(calls.lazy()) == recon.account_dids(calls) == ["+18005550100"]
