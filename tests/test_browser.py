"""The app in a real browser: `streamlit run app.py` driven by headless Chromium.

Loads the app (which screens the sample batch at once), checks the outcomes are shown,
opens an applicant, checks the applicant's criteria are shown, and saves a screenshot; in
the review queue, settles a group and checks the selectors and the decision form act on the
applicant shown (a browser keeps widget values a script rerun alone would reset).
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
from typing import Any

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
    env["SCREENING_SETTLED_DIR"] = str(tmp_path / "settled")
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


@pytest.fixture()
def driver(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium (skipped, or failed under CI, when it is not installed)."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _missing("Chromium")
    if not Path(CHROMEDRIVER).exists():
        _missing("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
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
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def test_sample_results_and_applicant_in_chromium(
    app_url: str, driver: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

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
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".vega-embed canvas, .vega-embed svg")) >= 3
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


def _selectbox(driver: Any, label: str) -> Any:
    """A selectbox's input (its value is the option shown)."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//input[@aria-label='{label}']")


def _shown(driver: Any, label: str) -> str:
    """The option a selectbox shows ("" while a rerun is replacing the box)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    try:
        return str(_selectbox(driver, label).get_attribute("value") or "").strip()
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def _decision_on(driver: Any) -> str:
    """The applicant the decision form names ('' when none)."""
    from selenium.webdriver.common.by import By

    found = driver.find_elements(
        By.XPATH, "//p[starts-with(normalize-space(), 'Decision on applicant')]"
    )
    return str(found[0].text.split()[-1]) if found else ""


def _open_options(driver: Any, label: str) -> list[Any]:
    """Open a selectbox's list and return its options, clicking again while a rerun
    replaced, covered or disabled the box before its list opened."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d: Any) -> list[Any] | bool:
        options = d.find_elements(By.CSS_SELECTOR, "[role='option']")
        if options:
            return list(options)
        _selectbox(d, label).click()
        return False

    found: list[Any] = WebDriverWait(
        driver,
        60,
        poll_frequency=1,
        ignored_exceptions=[
            StaleElementReferenceException,
            ElementNotInteractableException,
            ElementClickInterceptedException,
        ],
    ).until(attempt)
    return found


def _settled(driver: Any) -> bool:
    from selenium.webdriver.common.by import By

    return "Settled" in driver.find_element(By.TAG_NAME, "body").text


def test_after_a_settlement_the_review_form_acts_on_the_applicant_shown(
    app_url: str, driver: Any
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 90, ignored_exceptions=[StaleElementReferenceException])
    driver.get(f"{app_url}/review_queue")
    # one kind of doubt at a time: the industries, which a settlement resolves
    wait.until(lambda d: _shown(d, "Kind of doubt") == "every kind")
    kinds = _open_options(driver, "Kind of doubt")
    next(o for o in kinds if o.text == "industry").click()
    wait.until(lambda d: _shown(d, "Kind of doubt") == "industry")
    wait.until(lambda d: _shown(d, "Group").startswith("industry: "))
    group = _shown(driver, "Group")
    kind_value = group.rsplit(" (", 1)[0]
    # pick the last member, so a kept value would name someone else after the re-screen
    options = _open_options(driver, "Applicant")
    picked = options[-1].text
    options[-1].click()
    wait.until(lambda d: _shown(d, "Applicant") == picked)
    value = kind_value.split(": ", 1)[1]
    settle = driver.find_element(
        By.XPATH, f"//button[.//p[text()=\"Treat industry '{value}' as related\"]]"
    )
    settle.click()
    wait.until(_settled)
    # the settled group no longer exists: the selector must not keep showing it
    WebDriverWait(driver, 20).until(
        lambda d: _shown(d, "Group") not in ("", group),
        f"the Group selector still shows {group!r}",
    )
    shown_group = _shown(driver, "Group")
    assert not shown_group.startswith(f"{kind_value} ("), shown_group  # the old group is gone
    shown = wait.until(lambda d: _shown(d, "Applicant"))
    groups = [o.text for o in _open_options(driver, "Group")]
    _selectbox(driver, "Group").send_keys(Keys.ESCAPE)
    assert shown_group in groups and not [g for g in groups if g.startswith(f"{kind_value} (")]
    assert _decision_on(driver) == shown

    driver.find_element(
        By.XPATH, "//div[@data-testid='stRadio']//label[.//p[text()='not_qualified']]"
    ).click()
    driver.find_element(By.XPATH, "//div[@data-testid='stTextArea']//textarea").send_keys(
        "Checked the employer's industry by phone"
    )
    name = driver.find_element(
        By.XPATH, "//input[@aria-label='Your name (recorded with the decision)']"
    )
    name.send_keys("Pat Reviewer", Keys.TAB)
    driver.find_element(By.XPATH, "//button[.//p[text()='Record decision']]").click()
    recorded = wait.until(
        lambda d: next(
            (
                e.text
                for e in d.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]')
                if "Recorded in" in e.text
            ),
            False,
        )
    )
    assert f": {shown} needs_review → not_qualified by Pat Reviewer" in recorded, recorded


CLASS_SPEC = """PROGRAM ANALYST

MINIMUM QUALIFICATIONS
Education: Graduation from an accredited four-year college or university.
Experience: Two years of professional experience in program management.
Applicants must be able to juggle flaming torches.
"""


def test_compile_review_and_save_a_spec_revision_in_chromium(
    app_url: str, driver: Any, tmp_path: Path
) -> None:
    """Upload and compile a document, read it beside the draft, save it reviewed, use it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    document = tmp_path / "analyst.txt"
    document.write_text(CLASS_SPEC, encoding="utf-8")
    wait = WebDriverWait(driver, 90)
    driver.get(f"{app_url}/spec_view")
    wait.until(ec.presence_of_element_located((By.XPATH, "//p[text()='Compile']")))
    driver.find_element(
        By.XPATH, "//summary[contains(., 'Compile a class specification document')]"
    ).click()
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'input[type="file"]')))
    upload.send_keys(str(document))
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Compile']]"))).click()
    # the document beside the draft, each sentence highlighted with where it went
    wait.until(lambda d: "The document" in d.find_element(By.TAG_NAME, "body").text)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "juggle flaming torches" in body and "pattern_1.experience" in body
    marked = driver.find_elements(
        By.XPATH, "//span[contains(@style, 'background') and contains(., 'juggle flaming')]"
    )
    assert marked, "the unparsed sentence is not highlighted"
    reviewer = wait.until(
        ec.presence_of_element_located((By.XPATH, "//input[@aria-label='Reviewed by']"))
    )
    reviewer.clear()
    reviewer.send_keys("A. Analyst")
    driver.find_element(By.XPATH, "//button[.//p[text()='Save as a reviewed revision']]").click()
    wait.until(lambda d: "Saved revision" in d.find_element(By.TAG_NAME, "body").text)
    assert "reviewed by A. Analyst" in driver.find_element(By.TAG_NAME, "body").text
    driver.save_screenshot(str(tmp_path / "spec-review.png"))
    saved = list((tmp_path / "settled").glob("*.yaml"))
    assert len(saved) == 1 and "+reviewed.1" in saved[0].name
    wait.until(
        ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Use the saved revision']]"))
    ).click()
    wait.until(lambda d: "Screen applicants" in d.find_element(By.TAG_NAME, "body").text)
    assert "has not been reviewed" not in driver.find_element(By.TAG_NAME, "body").text
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "spec-review.png", Path(keep) / "spec-review.png")
