"""The operator console in headless Chromium (Debian's ``chromium`` + ``chromium-driver``,
driven by Selenium): a job appears, progresses and finishes on the page.

Chromium is located at /usr/bin; when it is missing the test installs it with apt-get
(``make test`` does the same in ``.ci/services.sh``) and fails, saying why, if it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from client import Client, JobFailedError
from client._core import new_job_uuid
from tests.stack import ROOT, Stack, free_port

ARTIFACTS = ROOT / "test-artifacts"  # in .gitignore

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


def ensure_chromium() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], env=env, check=False
        )
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            f"the browser test needs {CHROMIUM} and {CHROMEDRIVER}: "
            "apt-get install chromium chromium-driver (make test does it via .ci/services.sh)"
        )


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    ensure_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


# The page re-renders its tables on every event, so rows are read (and buttons clicked)
# in one script call each instead of through element handles that may go stale.
def row_value(browser: WebDriver, job_uuid: str, selector: str | None = None) -> str | None:
    script = """
        const row = document.querySelector(`tr[data-uuid="${arguments[0]}"]`);
        if (!row) return null;
        if (!arguments[1]) return row.dataset.state;
        const cell = row.querySelector(arguments[1]);
        return cell ? cell.textContent : null;
    """
    value = browser.execute_script(script, job_uuid, selector)
    return None if value is None else str(value)


def state_of(browser: WebDriver, job_uuid: str) -> str | None:
    return row_value(browser, job_uuid)


def test_console_shows_a_job_appear_progress_and_finish(
    production_stack: Stack, browser: WebDriver
) -> None:
    # Given an operator logged in on the console
    browser.get(f"{production_stack.url}/console")
    wait = WebDriverWait(browser, 60, poll_frequency=0.05)
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    browser.find_element(By.ID, "password").send_keys("password")
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, "app").is_displayed())
    wait.until(lambda b: "live" in b.find_element(By.ID, "live").text)

    # When a slow job and a failing one are submitted through the API
    api = Client(production_stack.url)
    api.login("admin", "password")
    job = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 4}})
    failing = api.submit(
        "POST",
        "/v1/debug/sleep",
        {"params": {"seconds": 0, "failWith": "VOLPLANE.STORAGE.1001"}},
        webhook=f"http://127.0.0.1:{free_port()}/nobody-listens",
    )

    # Then the job appears, runs with a progress between 0 and 100, and finishes
    wait.until(lambda b: state_of(b, job.uuid) in ("Pending", "Running"))

    def progress_shown(b: WebDriver) -> int | None:
        text = row_value(b, job.uuid, ".pct")
        if text is None:
            return None
        value = int(text.rstrip("%"))
        return value if 0 < value < 100 else None

    shown = wait.until(progress_shown)
    assert 0 < shown < 100
    wait.until(lambda b: state_of(b, job.uuid) == "Succeeded")
    assert job.wait() == {}

    # And the failure is listed with its error code
    with pytest.raises(JobFailedError):
        failing.wait()
    wait.until(lambda b: state_of(b, failing.uuid) == "Failed")
    assert "VOLPLANE.STORAGE.1001" in (row_value(browser, failing.uuid, ".error") or "")
    # with its webhook's delivery state (the receiver is down: not delivered)
    wait.until(lambda b: row_value(b, failing.uuid, ".webhook"))
    assert "Delivered" not in (row_value(browser, failing.uuid, ".webhook") or "")

    # And a pending job can be cancelled from the page
    key = new_job_uuid()
    blocker = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 30, "syncOn": key}})
    queued = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 1, "syncOn": key}})
    wait.until(lambda b: state_of(b, queued.uuid) == "Pending")
    # and says what it waits for: the job before it on the same resource
    waits = row_value(browser, queued.uuid, ".waits") or ""
    assert blocker.uuid[:8] in waits and "same resource" in waits
    browser.execute_script(
        'document.querySelector(`tr[data-uuid="${arguments[0]}"] button.cancel`).click()',
        queued.uuid,
    )
    wait.until(lambda b: state_of(b, queued.uuid) == "Cancelled")
    # A test artifact, kept where git ignores it; never written over tracked files.
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console.png"))
    blocker.cancel()

    # The storage is shown next to the queue, and times carry their date
    for section in ("zones", "clusters", "hosts", "pools", "backup-storage", "volumes",
                    "trees", "backups"):  # fmt: skip
        assert browser.find_element(By.ID, section).is_displayed()
    # with the queue over time drawn from /metrics: several samples, each series drawn
    wait.until(lambda b: int(b.find_element(By.ID, "trends").get_attribute("data-samples")) >= 3)
    for series in ("depth", "throughput", "failures", "latency"):
        assert browser.find_element(By.ID, f"trend-{series}").text != ""
        assert browser.find_element(By.ID, f"spark-{series}").get_attribute("innerHTML")
    ended = row_value(browser, job.uuid, "td:nth-last-child(2)") or ""
    assert any(ch.isdigit() for ch in ended) and ("/" in ended or "-" in ended or "." in ended)

    # And the operator can log out: the session ends, the login form is back
    browser.find_element(By.ID, "logout-button").click()
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    assert browser.execute_script('return sessionStorage.getItem("volplane.session")') is None
