"""What ``normalcy fit`` notes about a fit reaches the engineer of a unit created from a
history: in the unit's ``status_detail`` and on its page."""

from __future__ import annotations

import numpy as np

from tests.service.conftest import T0, Service, plant


def _create(service: Service, name: str, csv: str) -> dict:
    r = service.client.post("/api/units", headers=service.auth("engineer"),
                            files={"file": ("h.csv", csv)},
                            data={"name": name, "kind": "history", "n_levels": "6",
                                  "delta": "5", "window": "30"})
    assert r.status_code == 201, r.text
    u = service.client.get(f"/api/units/{name}").json()
    assert u["status"] == "ready", u
    return u


def test_a_short_history_says_the_model_fell_back_to_the_paper_residuals(
        service: Service) -> None:
    hist = plant(250).assign(time=[T0 + i for i in range(250)]).to_csv(index=False)
    u = _create(service, "short", hist)
    assert "The model fell back to the paper's residuals: the history is too short" in \
        u["status_detail"]
    assert "create the unit from a longer healthy history" in u["status_detail"]
    page = service.client.get("/units/short").text
    assert "fell back to the paper&#39;s residuals" in page


def test_a_history_under_20_minutes_says_the_level_is_extrapolated(service: Service) -> None:
    hist = plant(600).assign(time=[T0 + i for i in range(600)]).to_csv(index=False)
    u = _create(service, "ten-min", hist)
    assert u["status_detail"].startswith("The history spans 10 min of healthy rows, under the "
                                         "20 min in which the alarm level could count")


def test_a_history_with_a_gap_says_so_and_is_fitted_in_runs(service: Service) -> None:
    times = T0 + np.r_[np.arange(1200.0), 5000.0 + np.arange(1200.0)]
    hist = plant(2400).assign(time=times).to_csv(index=False)
    u = _create(service, "gappy", hist)
    assert "run" in u["status_detail"].lower() or "gap" in u["status_detail"].lower(), u


def test_notes_name_the_upload_and_the_forms_fields(sqlite_service: Service) -> None:
    """The notes of reading the history named the server's temporary copy
    ('/srv/normalcy-data/tmpnrwysihk.csv: 11 row(s) hold an empty or NaN value') and the
    command line's --time-column, as did a fit that failed."""
    import pandas as pd

    zeit = pd.to_datetime(T0 + np.arange(1200.0), unit="s").strftime("%Y-%m-%dT%H:%M:%S")
    hist = plant(1200).assign(Zeit=zeit)
    hist.loc[50:60, "s0"] = np.nan
    u = _create(sqlite_service, "gaps", hist.to_csv(index=False))
    said = u["status_detail"]
    # the upload's name as written ('H.csv' was said for 'h.csv', the note capitalised)
    assert "h.csv: 11 row(s) hold an empty or NaN value" in said, said
    assert "tmp" not in said and str(sqlite_service.settings.data) not in said
    assert "--" not in said and "the field time_column" in said, said
    flat = plant(1200).assign(time=[T0 + i for i in range(1200)], s1=1.0)
    r = sqlite_service.client.post("/api/units", headers=sqlite_service.auth("engineer"),
                                   files={"file": ("flat.csv", flat.to_csv(index=False))},
                                   data={"name": "flat", "kind": "history"})
    assert r.status_code == 201, r.text
    u = sqlite_service.client.get("/api/units/flat").json()
    assert u["status"] == "failed" and "constant" in u["status_detail"], u
    assert str(sqlite_service.settings.data) not in u["status_detail"]
