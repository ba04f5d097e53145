"""`tsunagu campaign serve` in a real browser: Debian's headless Chromium driven by Selenium.

The campaign is made with the CLI only (`campaign init`, `campaign run --adapter manual`, `campaign record`), with a
name and a failure message full of markup. Truths: the CLI's own `campaign status --json` (experiment count, results,
control state after the buttons were clicked), and the DOM (text shown as text, no injected element or script).
Skips, with the reason, when chromium, chromedriver or selenium are missing or the CLI has no `campaign serve`.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHART_JS = [Path("/usr/share/javascript/chart.js") / f for f in ("chart.umd.js", "chart.umd.min.js", "chart.min.js",
                                                                 "chart.js")]

# Text that would run script if the page ever parsed it as HTML.
XSS_NAME = 'Nb:TiO2 <img src=x onerror="window.__xss=1"> & co'
XSS_ERROR = 'film peeled <script>window.__xss=2</script><img src=x onerror="window.__xss=3">'

for _path, _what in ((CHROMIUM, "chromium (apt install chromium)"),
                     (CHROMEDRIVER, "chromedriver (apt install chromium-driver)")):
    if not (os.path.isfile(_path) and os.access(_path, os.X_OK)):
        pytest.skip(f"browser test needs {_what}: {_path} not found", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="browser test needs selenium (pip install selenium)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SPEC = f"""
[campaign]
name = {json.dumps(XSS_NAME)}
batch = 3
initial = 3
seed = 7

[[parameter]]
name = "o2_pressure"
type = "continuous"
low = 0.1
high = 2.0
log = true
unit = "Pa"

[[parameter]]
name = "target"
type = "categorical"
choices = ["Ti", "Nb"]

[[objective]]
name = "resistivity"
direction = "minimize"
unit = "ohm cm"

[stop]
budget = 6
"""


def run(cli, *args, timeout=60):
    r = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"tsunagu {' '.join(map(str, args))} failed:\n{r.stderr}"
    return r


def status(cli, db):
    return json.loads(run(cli, "campaign", "status", "--db", db, "--json").stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def campaign_db(cli, tmp_path_factory):
    """Three manual experiments proposed by `campaign run`: two measured, one failed with a markup-laden message
    (retried as a fourth, left running)."""
    probe = subprocess.run([cli, "campaign", "serve", "--help"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("`tsunagu campaign serve` is not available in this CLI yet: " +
                    (probe.stderr.strip().splitlines() or ["(no message)"])[-1])
    d = tmp_path_factory.mktemp("dashboard")
    (d / "spec.toml").write_text(SPEC)
    db = d / "lab.sqlite"
    run(cli, "campaign", "init", d / "spec.toml", "--db", db)
    run(cli, "campaign", "run", "--db", db, "--adapter", "manual", "--max-experiments", "3")
    ids = [e["id"] for e in status(cli, db)["experiments"]]
    assert len(ids) == 3
    run(cli, "campaign", "record", "--db", db, "--experiment", ids[0], "--value", "0.0123")
    run(cli, "campaign", "record", "--db", db, "--experiment", ids[1], "--failed", XSS_ERROR)
    run(cli, "campaign", "record", "--db", db, "--experiment", ids[2], "--value", "0.0042")
    return db


@pytest.fixture(scope="module")
def server(cli, campaign_db):
    """`campaign serve` on a free port; yields the base URL once /api/status answers."""
    port = free_port()
    proc = subprocess.Popen([cli, "campaign", "serve", "--db", str(campaign_db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            pytest.fail(f"campaign serve exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url + "/api/status", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("campaign serve did not answer within 15 s")
        time.sleep(0.1)
    yield url
    proc.terminate()  # SIGTERM: the CLI stops the server and exits
    try:
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield d
    d.quit()


def wait(driver, condition, timeout=10, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message)


def table_rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#experiments tbody tr")


def control_shown(driver):
    # textContent, not .text: the badge is upper-cased by CSS
    return driver.find_element(By.ID, "control").get_attribute("textContent")


def assert_no_injection(driver):
    assert driver.execute_script("return window.__xss === undefined"), "markup from the database was executed"
    assert driver.find_elements(By.CSS_SELECTOR, "#name *, #experiments tbody img, #experiments tbody script") == []


def severe_console_errors(driver, ignore=()):
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not any(i in e["message"] for i in ignore)]


def test_dashboard_renders_and_pause_resume_reach_the_database(cli, campaign_db, server, driver):
    expected = status(cli, campaign_db)
    n_done = expected["counts"]["done"]
    driver.get(server + "/")

    # the table fills from /api/status with every experiment the CLI knows
    wait(driver, lambda d: len(table_rows(d)) == len(expected["experiments"]), message="experiment table")
    assert driver.find_element(By.ID, "name").text == XSS_NAME
    assert driver.title.startswith(XSS_NAME)
    failed = [e for e in expected["experiments"] if e["state"] == "failed"]
    assert len(failed) == 1
    row = driver.find_element(By.CSS_SELECTOR, f'#experiments tbody tr[data-id="{failed[0]["id"]}"]')
    assert row.find_element(By.CSS_SELECTOR, "td.error").text == XSS_ERROR
    assert_no_injection(driver)

    # best result and progress
    best = driver.find_element(By.ID, "best").text
    assert "0.0042 ohm cm" in best and f"experiment {expected['best']['experiment']}" in best
    assert driver.find_element(By.ID, "counts").text.startswith(f"{n_done + expected['counts']['failed']} / 6")

    # charts: Chart.js when Debian's libjs-chart.js is installed, else the server's SVGs
    mode = driver.execute_script("return window.tsunaguDashboard.mode")
    assert mode == ("chartjs" if any(p.is_file() for p in CHART_JS) else "svg")
    if mode == "chartjs":
        wait(driver, lambda d: d.execute_script(
            "const c = Chart.getChart('best-canvas'); return !!c && c.data.datasets[0].data.length;") == n_done,
            message="best-so-far chart data")
        # something was drawn: the canvas has opaque pixels
        drawn = driver.execute_script("""
            const c = document.getElementById('best-canvas');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
            return n;""")
        assert drawn > 1000
        n_param_charts = driver.execute_script(
            "return document.querySelectorAll('#param-charts canvas').length")
        assert n_param_charts == 2
    else:
        wait(driver, lambda d: d.execute_script(
            "const i = document.getElementById('best-img'); return i.complete && i.naturalWidth > 0;"),
            message="best-so-far SVG")

    # Pause: the page updates, and the database (read by the CLI) says paused
    driver.find_element(By.ID, "btn-pause").click()
    wait(driver, lambda d: control_shown(d) == "paused", message="paused badge")
    assert status(cli, campaign_db)["control"] == "paused"
    assert not driver.find_element(By.ID, "btn-resume").get_attribute("disabled")
    assert driver.find_element(By.ID, "btn-pause").get_attribute("disabled")
    wait(driver, lambda d: "control: paused (dashboard)" in d.find_element(By.ID, "events").text,
         message="pause event listed")

    driver.find_element(By.ID, "btn-resume").click()
    wait(driver, lambda d: control_shown(d) == "running", message="running badge")
    assert status(cli, campaign_db)["control"] == "running"

    # a result recorded while the page is open appears on the next poll (every 2 s)
    running = [e for e in status(cli, campaign_db)["experiments"] if e["state"] in ("running", "proposed")]
    if running:
        run(cli, "campaign", "record", "--db", campaign_db, "--experiment", running[0]["id"], "--value", "0.0031")
        wait(driver, lambda d: "0.0031 ohm cm" in d.find_element(By.ID, "best").text, timeout=8,
             message="new best after a poll")
    assert_no_injection(driver)
    assert severe_console_errors(driver) == []


def test_dashboard_falls_back_to_svg_plots_without_chartjs(server, driver):
    # Block /chart.js in the browser: the page must notice and show the server's SVG plots instead.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/chart.js"]})
    try:
        driver.get(server + "/")
        wait(driver, lambda d: len(table_rows(d)) > 0, message="experiment table")
        assert driver.execute_script("return window.tsunaguDashboard.mode") == "svg"
        wait(driver, lambda d: d.execute_script("""
            const imgs = [document.getElementById('best-img'), ...document.querySelectorAll('#param-charts img')];
            return imgs.length === 3 && imgs.every((i) => i.complete && i.naturalWidth > 0);"""),
             message="SVG plots loaded")
        assert driver.find_element(By.ID, "name").text == XSS_NAME
        assert_no_injection(driver)
        assert severe_console_errors(driver, ignore=("chart.js",)) == []
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
