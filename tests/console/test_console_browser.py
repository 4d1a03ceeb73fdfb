"""The console in a real browser: Debian's Chromium, headless, driven by Selenium and /usr/bin/chromedriver.

`partnerbot web` runs as a separate process over a temporary copy of the knowledge base (the repository's
files are never written). The browser signs in with the one-time link, opens every page (saving a screenshot
of each; under docs/console/ when CONSOLE_SCREENSHOTS=docs/console), adds an entry through the form and finds it
with "what would the bot answer".
`bash .ci/run` installs Chromium from Debian's packages when it is missing; without it this test is skipped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.console.web import PAGES
from bot.core.startup import open_database
from tests.conftest import make_settings
from tests.console.console_support import START, copy_knowledge, seed_demo
from tests.process_support import clean_env, free_port, partnerbot_command, read_line, stop_process

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Screenshots go to a temporary folder; CONSOLE_SCREENSHOTS=docs/console refreshes the ones the README links to.
SHOTS_ENV = "CONSOLE_SCREENSHOTS"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,1400")

pytestmark = [pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()) or shutil.which("chromium") is None,
                                 reason="Chromium from Debian's packages is not installed (bash .ci/run installs it)"),
              pytest.mark.slow]  # a browser and a process: CI runs it, `-m 'not slow'` skips it


def _browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def _wait_until_serving(url: str, attempts: int = 120) -> None:
    """Ask the console over plain HTTP until it answers, so the browser's first page is not a race with startup.

    Signed out, every page answers 401 with the sign-in page; each attempt blocks on the socket (up to 5 s),
    so the loop is bounded without sleeping."""
    import urllib.error
    import urllib.request

    for _ in range(attempts):
        try:
            urllib.request.urlopen(url, timeout=5)
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and "Please sign in" in exc.read().decode():
                return
        except OSError:
            continue
    raise AssertionError(f"the console never answered at {url}")


def _drive(base: str, link: str, shots: Path) -> list[str]:
    """Everything the browser does; returns the screenshots written."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots.mkdir(parents=True, exist_ok=True)
    written = []
    driver = _browser()
    wait = WebDriverWait(driver, 20)
    try:
        driver.get(base + "/questions")
        # Wait for the page rather than read it at once: a loaded machine has been seen to hand back an empty
        # document for the first navigation of a new browser.
        wait.until(lambda d: "Please sign in" in d.page_source)
        assert "minibus" not in driver.page_source

        driver.get(link)
        driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.cards")))
        assert driver.current_url == base + "/"
        driver.save_screenshot(str(shots / "home.png"))
        written.append("home.png")
        hrefs = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "ul.cards a")]
        assert [h.removeprefix(base) for h in hrefs] == [href for href, _ in PAGES]
        for href, _name in PAGES:
            driver.get(base + href)
            wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
            assert "Sorry" not in driver.find_element(By.TAG_NAME, "h1").text, href
            name = href.strip("/").replace("/", "-") + ".png"
            driver.save_screenshot(str(shots / name))
            written.append(name)

        # From a gap to a new entry, then ask the bot.
        driver.get(base + "/questions")
        gap = driver.find_element(By.XPATH, "//li[contains(., 'minibus')]//a[contains(., 'Write an entry')]")
        gap.click()
        wait.until(ec.presence_of_element_located((By.ID, "alternates")))
        assert driver.find_element(By.ID, "question").get_attribute("value") == "can we hire a minibus together"
        driver.find_element(By.ID, "id").send_keys("sharing-a-minibus")
        Select(driver.find_element(By.ID, "theme")).select_by_value("getting-started")
        driver.find_element(By.ID, "alternates").clear()
        driver.find_element(By.ID, "alternates").send_keys(
            "can we hire a minibus together\nsharing a minibus with another charity\n"
            "two groups one minibus\nsplit the cost of a minibus")
        driver.find_element(By.ID, "keywords").send_keys("minibus, transport")
        driver.find_element(By.ID, "answer").send_keys(
            "Yes. Agree in writing who books it, who pays for fuel, insurance and repairs, and what happens "
            "if one group leaves. Check that every driver is covered by the insurance.")
        driver.find_element(By.ID, "source").send_keys("PartnerBot")
        driver.find_element(By.ID, "related").send_keys("bot-what-can-you-do")
        driver.save_screenshot(str(shots / "entry-new.png"))
        written.append("entry-new.png")
        driver.find_element(By.CSS_SELECTOR, "form.entry button[type=submit]").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.ok")))
        assert "Added." in driver.find_element(By.CSS_SELECTOR, "p.ok").text

        driver.get(base + "/ask")
        box = driver.find_element(By.ID, "q")
        box.send_keys("could we hire a minibus together with another charity")
        box.submit()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.result")))
        result = driver.find_element(By.CSS_SELECTOR, "section.result").text
        assert "answers with" in result and "sharing-a-minibus" in result, result
        driver.save_screenshot(str(shots / "ask-new-entry.png"))
        written.append("ask-new-entry.png")

        driver.set_window_size(412, 915)  # a phone
        driver.get(base + "/mentors")
        driver.save_screenshot(str(shots / "mentors-phone.png"))
        written.append("mentors-phone.png")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 412 + 1, f"the mentors page scrolls sideways on a phone ({width}px)"
    finally:
        driver.quit()
    return written


async def test_an_admin_signs_in_opens_every_page_and_adds_an_entry(tmp_path: Path) -> None:
    kb_dir = copy_knowledge(tmp_path / "kb")
    repo_themes = Path(__file__).resolve().parents[2] / "knowledge" / "themes"
    repo_before = {path.name: path.read_bytes() for path in repo_themes.glob("*.yaml")}
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    database = await open_database(make_settings(db_url))
    try:
        await seed_demo(database, START.replace(year=2026, month=12, day=1))
    finally:
        await database.dispose()
    port = free_port()
    env = clean_env(tmp_path, DATABASE_URL=db_url, KNOWLEDGE_DIR=str(kb_dir))
    process = subprocess.Popen([*partnerbot_command(), "web", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        link = (await read_line(process)).strip()
        assert link.startswith(f"http://127.0.0.1:{port}/signin?t=")
        await asyncio.to_thread(_wait_until_serving, f"http://127.0.0.1:{port}/questions")
        shots = Path(os.environ.get(SHOTS_ENV) or tmp_path / "shots")
        written = await asyncio.to_thread(_drive, f"http://127.0.0.1:{port}", link, shots)
    finally:
        stop_process(process)
    assert len(written) == len(PAGES) + 4 and all((shots / name).stat().st_size > 5000 for name in written)
    assert "- id: sharing-a-minibus" in (kb_dir / "themes" / "getting-started.yaml").read_text(encoding="utf-8")
    assert {path.name: path.read_bytes() for path in repo_themes.glob("*.yaml")} == repo_before
