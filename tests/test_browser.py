"""The app in a real browser: `streamlit run app.py` driven by headless Chromium.

Loads the app (which screens the sample batch at once), checks the outcomes are shown,
opens an applicant, checks the applicant's criteria are shown, and saves a screenshot.
Chromium comes from Debian's `chromium` and `chromium-driver` packages. Under CI
(CI=true) a missing browser fails the test; elsewhere it is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_unless_ci

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def _missing(what: str) -> None:
    skip_unless_ci(
        f"{what} is needed for the browser test (apt-get install chromium chromium-driver)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def app_url(tmp_path: Path) -> Iterator[str]:
    """A running `streamlit run app.py` on a free port; stopped after the test."""
    port = _free_port()
    env = dict(os.environ)
    env["SCREENING_DATABASE_URL"] = f"sqlite:///{tmp_path / 'audit.db'}"
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        ],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:]
                )
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_sample_results_and_applicant_in_chromium(app_url: str, tmp_path: Path) -> None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _missing("Chromium")
    if not Path(CHROMEDRIVER).exists():
        _missing("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        _missing("the selenium package")
        return

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1600,2400",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        wait = WebDriverWait(driver, 90)
        driver.get(app_url)
        # The first page screens the sample batch at once: the outcome counts appear.
        metrics = wait.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]') or False
        )
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]')) >= 5)
        text = driver.find_element(By.TAG_NAME, "body").text
        for label in ("Screened", "Qualified", "Not qualified", "Needs review"):
            assert label in text, f"{label!r} not shown on the results page"
        assert metrics
        # the three charts are drawn before the screenshot
        wait.until(
            lambda d: (
                len(d.find_elements(By.CSS_SELECTOR, ".vega-embed canvas, .vega-embed svg")) >= 3
            )
        )
        driver.save_screenshot(str(tmp_path / "results.png"))

        button = wait.until(
            ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Open applicant']]"))
        )
        button.click()
        wait.until(ec.presence_of_element_located((By.XPATH, "//h3[contains(., 'Criteria')]")))
        wait.until(lambda d: "typical.experience" in d.find_element(By.TAG_NAME, "body").text)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "typical.education" in body
        assert "typical.experience" in body
        assert "Experience" in body and "Education" in body
        shot = tmp_path / "applicant.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        keep = os.environ.get("SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "results.png", Path(keep) / "results.png")
            shutil.copy(shot, Path(keep) / "applicant.png")
    finally:
        driver.quit()
