"""The Export page's raw events: the button queues an export for the worker (once, however
often the page reruns), the page follows its progress, offers the file through the
guard when it is written, and shows a failure as a line of text; a user sees only their
own exports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_app.auth import TOKEN_KEY
from shared.accounts.login_tokens import create_login_token
from shared.accounts.users import get_user
from shared.dataout import export_jobs
from shared.dataout import export_queue as queue
from shared.storage import write_transaction
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow

PAGE = "views/export.py"


@pytest.fixture
def data_dir(seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _page(email: str, token: str | None = None) -> AppTest:
    at = app_as(email, site=DOMAIN, period="7d", f="country|is|DE")
    if token:
        at.session_state[TOKEN_KEY] = token
    at.run()
    return no_exception(at.switch_page(PAGE).run())


def _jobs(seeded: Seeded, email: str) -> list[queue.ExportJob]:
    with seeded.engine.connect() as conn:
        user = get_user(conn, email)
        assert user is not None
        return queue.jobs_of(conn, seeded.site.id, user.id, limit=50)


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _start(at: AppTest, fmt: str = "CSV") -> AppTest:
    at.segmented_control(key="exp_raw_fmt").set_value(fmt)
    return no_exception(at.button(key="exp_raw").click().run())


def test_start_queues_one_export_and_reruns_do_not_repeat_it(seeded: Seeded,
                                                             data_dir: Path) -> None:
    at = _start(_page("viewer@example.com"), "Parquet")
    [job] = _jobs(seeded, "viewer@example.com")
    assert (job.status, job.format) == ("queued", "parquet")
    assert job.options["period"] == "7d"
    assert job.options["filters"] == [["country", "is", ["DE"], []]]
    assert any(t.endswith("; Country is DE") for t in _texts(at))
    assert any("Waiting for the worker" in c.value for c in at.caption)
    no_exception(at.run())                          # a rerun
    _start(at, "Parquet")                           # a second click
    no_exception(_page("viewer@example.com"))       # another tab, same frame
    assert [j.id for j in _jobs(seeded, "viewer@example.com")] == [job.id]
    # Another user's page lists nothing of the viewer's.
    other = _page("owner@example.com")
    assert not any(t.endswith("; Country is DE") for t in _texts(other))
    assert _jobs(seeded, "owner@example.com") == []


def test_progress_then_a_download_link_for_the_signed_in_browser(seeded: Seeded,
                                                                data_dir: Path) -> None:
    at = _start(_page("viewer@example.com"))
    [job] = _jobs(seeded, "viewer@example.com")
    with write_transaction(seeded.engine) as conn:
        queue.claim_next(conn, utcnow())
        queue.record_progress(conn, job.id, written=1000, total=4000, now=utcnow())
    no_exception(at.run())
    [bar] = at.get("progress")
    assert bar.proto.value == 25 and bar.proto.text == "1,000 of 4,000 rows"
    with write_transaction(seeded.engine) as conn:   # as if that worker had died
        conn.execute(queue.J.update().values(status="queued"))
    done = export_jobs.run_next(seeded.engine, data_dir)
    assert done is not None and done.status == "done" and done.rows_written > 0
    at = _page("viewer@example.com")                # came back later, no cookie
    assert at.get("link_button") == []
    assert any("remembered sign-in" in i.value for i in at.info)
    with write_transaction(seeded.engine) as conn:
        user = get_user(conn, "viewer@example.com")
        assert user is not None
        token = create_login_token(conn, user.id, timedelta(days=1))
    at = _page("viewer@example.com", token)
    links = [b for b in at.get("link_button") if "export-file" in b.proto.url]
    assert [b.proto.url for b in links] == [f"_beacon/export-file/{done.token}"]
    assert f"{done.rows_written:,} rows" in links[0].proto.label


def test_a_failed_export_shows_its_reason_not_a_traceback(seeded: Seeded, tmp_path: Path,
                                                         data_dir: Path) -> None:
    at = _start(_page("viewer@example.com"), "NDJSON")
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    failed = export_jobs.run_next(seeded.engine, not_a_folder)
    assert failed is not None and failed.status == "failed"
    no_exception(at.run())
    assert [e.value for e in at.error] == ["This export failed."]
    assert failed.error in _texts(at)
    assert not any("Traceback" in t for t in _texts(at))

