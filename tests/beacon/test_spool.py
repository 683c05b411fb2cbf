"""The spool on its own: orphans are adopted once, unreadable lines are skipped, and a
spool that is full or cannot be written refuses events honestly: the browser endpoints
answer with the reason in X-Beacon-Drop (counted), the batch API with 503 + Retry-After;
never a plain 2xx for an event that is not on disk."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from beacon_app import state_of
from beacon_app.spool import Spool
from shared.core.settings import Settings
from shared.sites import new_ingest_token
from tests.beacon.helpers import browser_headers, drop_counts, make_app, stored_events

EVENT = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}


def test_dead_process_segments_are_claimed_exactly_once(tmp_path: Path) -> None:
    dead_pid = 2 ** 22 + 12345           # above pid_max defaults: never alive
    orphan = tmp_path / f"{dead_pid}-abcd1234-00000001.seg"
    orphan.write_bytes(b'{"x": 1}\n{"x": 2}\n')
    live = tmp_path / f"{os.getpid()}-0000ffff-00000001.seg"
    live.write_bytes(b"{}\n")
    first, second = Spool(str(tmp_path)), Spool(str(tmp_path))
    assert first.claim_orphans() == 1
    assert second.claim_orphans() == 0       # the rename gave it to exactly one
    assert not orphan.exists() and live.exists()
    [seg] = first.pending()
    lines, offset = first.read_batch(seg, 10)
    assert lines == [b'{"x": 1}\n', b'{"x": 2}\n'] and offset == seg.size
    first.committed(seg, offset)
    assert not seg.path.exists()


def test_open_segment_of_a_killed_process_is_read_up_to_its_last_line(tmp_path: Path) -> None:
    # What kill -9 leaves: the segment at its reserved size, zero-filled after the
    # last record, maybe with a torn (never acknowledged) record before the zeros.
    dead_pid = 2 ** 22 + 12346
    orphan = tmp_path / f"{dead_pid}-abcd1234-00000001.seg"
    orphan.write_bytes(b'{"x": 1}\n{"x": 2}\n{"tor' + b"\0" * 65536)
    spool = Spool(str(tmp_path))
    assert spool.claim_orphans() == 1
    [seg] = spool.pending()
    assert seg.size == 18
    lines, offset = spool.read_batch(seg, 10)
    assert lines == [b'{"x": 1}\n', b'{"x": 2}\n']
    spool.committed(seg, offset)
    assert not seg.path.exists()


def test_sealed_segment_is_cut_to_its_records(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append(b'{"a": 1}\n')
    [seg] = spool.pending()
    assert seg.path.stat().st_size >= 4 * 1024 * 1024      # reserved while open
    spool.seal_current()
    assert seg.path.read_bytes() == b'{"a": 1}\n'


def test_partial_last_line_is_not_read(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append(b'{"a": 1}\n')
    seg = spool.pending()[0]
    with open(seg.path, "r+b") as fh:
        fh.seek(seg.size)
        fh.write(b'{"torn"')                   # a write cut short (power loss)
    seg.size += 7
    lines, _ = spool.read_batch(seg, 10)
    assert lines == [b'{"a": 1}\n']


def test_full_spool_answers_with_the_reason_and_counts_it(settings: Settings) -> None:
    app = make_app(dataclasses.replace(settings, spool_max_bytes=1))
    client = app.test_client()
    answers = [client.post("/api/event", json=EVENT, headers=browser_headers())
               for _ in range(8)]
    assert [a.status_code for a in answers] == [202] * 8
    assert [a.headers.get("X-Beacon-Drop") for a in answers] == ["spool_full"] * 8
    assert stored_events(app) == []              # nothing was held anywhere else
    assert drop_counts(app) == {"spool_full": 8}
    text = client.get("/metrics").get_data(as_text=True)
    assert "beacon_spool_errors_total 8" in text
    assert 'beacon_events_dropped_total{reason="spool_full"} 8' in text


def test_unwritable_spool_folder_is_said_not_hidden(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spool folder should be")
    app = make_app(dataclasses.replace(settings, spool_dir=str(blocker / "spool")))
    answer = app.test_client().post("/api/event", json=EVENT, headers=browser_headers())
    assert answer.status_code == 202
    assert answer.headers["X-Beacon-Drop"] == "spool_unavailable"
    assert stored_events(app) == []


def test_batch_api_answers_503_for_events_it_could_not_keep(settings: Settings) -> None:
    app = make_app(dataclasses.replace(settings, spool_max_bytes=1))
    with state_of(app).engine.begin() as conn:
        token = new_ingest_token(conn, "example.com")
    answer = app.test_client().post(
        "/api/events", json={"events": [EVENT, {**EVENT, "n": ""}]},
        headers=browser_headers(Authorization=f"Bearer {token}"))
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    body = answer.get_json()
    assert body["accepted"] == 0
    assert body["retry"] == [{"index": 0, "reasons": ["spool_full"]}]
    assert [e["index"] for e in body["errors"]] == [1]   # bad input still said as such
    assert stored_events(app) == []
