"""The console driven in headless Chromium, as a person uses it: sign in, add a custom
OAuth 2 connection and authorize it against a loopback provider, edit a script and see a
diagnostic appear, run it and open its run, create a schedule after previewing it; with a
screenshot of each page (desktop and phone width), checked to be non-blank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Console
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 30


def _shot(browser: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 5000, f"{name}: the screenshot looks blank"


def _sign_in(browser: Any, console: Console, token: str) -> None:
    browser.delete_all_cookies()
    browser.get(console.url + "/sign-in")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ready.url_to_be(console.url + "/"))


def _fill(browser: Any, field_id: str, text: str) -> None:
    element = browser.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def test_sign_in_and_every_page_renders(browser: Any, console: Console,
                                        screenshots: Path) -> None:
    browser.get(console.url + "/runs")
    assert "/sign-in" in browser.current_url
    _shot(browser, screenshots, "01-sign-in")
    _fill(browser, "token", "sgt_wrong")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located(
        (By.CLASS_NAME, "field-error")))
    assert "unknown or revoked" in browser.page_source
    _sign_in(browser, console, console.admin)
    for path, name in (("/", "02-overview-empty"), ("/runs", "03-runs-empty"),
                       ("/scripts", "04-scripts-empty"), ("/schedules", "05-schedules-empty"),
                       ("/connections", "06-connections-empty"), ("/tokens", "07-tokens"),
                       ("/connections/new", "08-pick-your-service"), ("/docs", "09-api-docs")):
        browser.get(console.url + path)
        if path == "/docs":
            WebDriverWait(browser, WAIT).until(ready.presence_of_element_located(
                (By.CSS_SELECTOR, ".swagger-ui .info")))
        _shot(browser, screenshots, name)
    browser.get(console.url + "/")
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/sign-in"))
    browser.get(console.url + "/runs")
    assert "/sign-in" in browser.current_url


def test_a_custom_oauth2_connection_is_added_and_authorized_in_the_browser(
        browser: Any, console: Console, screenshots: Path) -> None:
    provider = console.provider
    _sign_in(browser, console, console.admin)
    browser.get(console.url + "/connections/new/custom")
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "form label")]
    for label in ("Service Name", "Authentication Type", "Param Type", "Client ID",
                  "Client Secret", "Authorize URL", "Access Token URL", "Refresh Token URL",
                  "Connection Name", "Scope"):
        assert label in labels, label
    _fill(browser, "cs-service_name", "Local Books")
    Select(browser.find_element(By.ID, "cs-auth_type")).select_by_visible_text("OAuth2")
    _fill(browser, "cs-client_id", provider.client_id)
    _fill(browser, "cs-client_secret", provider.client_secret)
    _fill(browser, "cs-authorize_url", provider.authorize_url)
    _fill(browser, "cs-token_url", provider.token_url)
    _fill(browser, "cs-refresh_url", provider.token_url)
    _fill(browser, "cs-connection_name", "Local Books")
    assert browser.find_element(By.ID, "cs-link").text == "local_books"
    _fill(browser, "cs-scope", "ZohoBooks.invoices.ALL")
    _shot(browser, screenshots, "10-custom-service-filled")
    # first without a base URL: refused beside the field, the secret not sent back
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located(
        (By.CSS_SELECTOR, ".field.invalid .field-error")))
    assert "base" in browser.find_element(By.CSS_SELECTOR, ".field-error").text.lower()
    assert provider.client_secret not in browser.page_source
    _shot(browser, screenshots, "11-custom-service-error")
    _fill(browser, "cs-client_secret", provider.client_secret)
    _fill(browser, "cs-base_url", provider.api_base)
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/connections/local_books"))
    assert "needs authorization" in browser.page_source
    assert provider.client_secret not in browser.page_source
    browser.find_element(By.XPATH, "//button[normalize-space()='Authorize']").click()
    # to the provider, which approves at once, and back through /oauth/callback
    WebDriverWait(browser, WAIT).until(ready.url_contains("authorized=1"))
    assert "Authorized" in browser.page_source
    assert ">connected<" in browser.page_source
    snippet = browser.find_element(By.ID, "snippet").text
    assert 'connection: "local_books"' in snippet
    _shot(browser, screenshots, "12-connection-authorized")
    browser.get(console.url + "/connections")
    _shot(browser, screenshots, "13-connections")


def test_edit_a_script_see_a_diagnostic_run_it_and_open_the_run(
        browser: Any, console: Console, screenshots: Path) -> None:
    console.triggers.catalog.save(
        "double", 'string standalone.double(Int n)\n{\n\tinfo "doubling " + n;\n'
        '\treturn n * 2;\n}\n', kind="function")
    _sign_in(browser, console, console.admin)
    browser.get(console.url + "/scripts/double")
    editor = browser.find_element(By.ID, "source")
    editor.clear()
    editor.send_keys('x = toUpercase("a");\nreturn x;')
    WebDriverWait(browser, WAIT).until(lambda b: "did you mean" in b.find_element(
        By.ID, "source-problems").text)
    problems = browser.find_element(By.ID, "source-problems")
    assert "toUpperCase" in problems.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", problems)
    _shot(browser, screenshots, "14-editor-diagnostic")
    browser.get(console.url + "/scripts/double")
    _fill(browser, "in-n", "21")
    browser.find_element(By.XPATH, "//button[normalize-space()='Run']").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/runs/"))
    assert ">success<" in browser.page_source and "doubling 21" in browser.page_source
    assert "42" in browser.find_element(By.CSS_SELECTOR, "pre.block").text
    _shot(browser, screenshots, "15-run")
    browser.get(console.url + "/runs")
    _shot(browser, screenshots, "16-runs")
    browser.get(console.url + "/")
    _shot(browser, screenshots, "17-overview-charts")
    browser.set_window_size(390, 844)
    try:
        for path, name in (("/", "18-phone-overview"), ("/scripts/double", "19-phone-script"),
                           ("/runs", "20-phone-runs")):
            browser.get(console.url + path)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 400, f"{path} scrolls sideways at phone width ({width}px)"
            _shot(browser, screenshots, name)
    finally:
        browser.set_window_size(1280, 1000)


def test_a_failing_run_shows_the_error_on_its_source_line(browser: Any, console: Console,
                                                          screenshots: Path) -> None:
    console.triggers.catalog.save("broken", 'x = 1;\ny = x / 0;\nreturn y;\n',
                                  kind="function")
    _sign_in(browser, console, console.admin)
    browser.get(console.url + "/scripts/broken")
    browser.find_element(By.XPATH, "//button[normalize-space()='Run']").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/runs/"))
    hit = browser.find_element(By.CSS_SELECTOR, ".source li.hit")
    assert "y = x / 0;" in hit.text
    assert "Division by zero" in browser.page_source
    _shot(browser, screenshots, "21-run-error")


def test_create_a_schedule_after_previewing_its_fire_times(
        browser: Any, console: Console, screenshots: Path) -> None:
    console.triggers.catalog.save("tick", 'info "tick";', kind="schedule")
    _sign_in(browser, console, console.admin)
    browser.get(console.url + "/schedules/new")
    _fill(browser, "sc-name", "weekday-report")
    Select(browser.find_element(By.ID, "sc-kind")).select_by_visible_text("weekly")
    for day in ("mon", "wed", "fri"):
        browser.find_element(By.NAME, f"day_{day}").click()
    _fill(browser, "sc-tz", "Europe/Berlin")
    browser.find_element(By.XPATH, "//button[normalize-space()='Preview next runs']").click()
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located(
        (By.XPATH, "//h2[normalize-space()='Next fire times']")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "[role=status] ol li")) == 5
    _shot(browser, screenshots, "22-schedule-preview")
    browser.find_element(By.XPATH, "//button[normalize-space()='Create schedule']").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/schedules/weekday-report"))
    assert "Europe/Berlin" in browser.page_source
    _shot(browser, screenshots, "23-schedule")
    browser.find_element(By.XPATH, "//a[normalize-space()='Edit']").click()
    WebDriverWait(browser, WAIT).until(ready.url_contains("/edit"))
    assert browser.find_element(By.NAME, "day_wed").is_selected()
    browser.find_element(By.NAME, "day_wed").click()          # Mondays and Fridays now
    _fill(browser, "sc-retries", "2")
    _shot(browser, screenshots, "23b-schedule-edit")
    browser.find_element(By.XPATH, "//button[normalize-space()='Save changes']").click()
    WebDriverWait(browser, WAIT).until(lambda b: "saved." in b.page_source)
    info = console.triggers.schedules.get("weekday-report")
    assert info.recurrence["days"] == ["mon", "fri"] and info.retries == 2
    browser.find_element(By.XPATH, "//button[normalize-space()='Pause']").click()
    WebDriverWait(browser, WAIT).until(lambda b: ">paused<" in b.page_source)
    browser.get(console.url + "/schedules")
    _shot(browser, screenshots, "24-schedules")


def test_a_run_whose_inputs_were_cut_says_so_and_offers_no_replay(
        browser: Any, console: Console, screenshots: Path) -> None:
    from sluicegate.triggers import Actor

    console.triggers.catalog.save("size", "return payload.length();", kind="function")
    run_id = console.triggers.launcher.execute_function(
        "size", {"payload": "p" * 1_500_000}, actor=Actor.named("ada", "42")).run_id
    _sign_in(browser, console, console.admin)
    browser.get(f"{console.url}/runs/{run_id}")
    WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.TAG_NAME, "h1")))
    assert "cannot be replayed" in browser.page_source
    assert not browser.find_elements(By.XPATH, "//button[contains(., 'Replay')]")
    assert "1 statement, 0 HTTP calls" in browser.page_source
    _shot(browser, screenshots, "30-run-with-cut-inputs")
