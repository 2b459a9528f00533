"""The app in a real browser: Playwright drives Debian's Chromium against `python app.py`.

Screenshots go to artifacts/ (git-ignored); artifacts/browser_first_view.png is docs/screenshot.png.
Without /usr/bin/chromium the tests are skipped, unless REQUIRE_BROWSER=1, when they fail.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from test_app import ROOT, App, _hub_cache

from tests.helpers import composites_zip

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts"
WAIT_MS = 90_000  # a loaded 2-core CPU can take a while for the first forecast
LAPTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
MIN_CELL_PX = 48  # the grid's frames (64 px) as shown on any screen, in CSS pixels, at least


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not CHROMIUM.exists():
        _unavailable("no browser at /usr/bin/chromium (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed")
    tmp = tmp_path_factory.mktemp("browser")
    _hub_cache(tmp / "cache", "someone/tiny-convlstm", horizon=3, hidden_channels=[4])  # a Hub model, offline
    running = App(tmp, env={"HF_HUB_CACHE": str(tmp / "cache")}).wait()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, viewport: dict = LAPTOP):
    """A fresh page (its own context: no session, cookies or clipboard shared), showing a forecast."""
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    wait_for_new_grid(page, None)
    return page


@pytest.fixture(scope="module")
def page(app, browser):
    """The page the tests of the controls share."""
    page = open_page(browser, app.url, {"width": 1280, "height": 900})
    yield page
    page.context.close()


def grid_source(page, panel: str = "video") -> str | None:
    image = page.locator(f"#{panel}-grid img")
    return image.get_attribute("src") if image.count() else None


def wait_for_new_grid(page, previous: str | None, panel: str = "video") -> str:
    """Until the page shows a new forecast's grid, wide or narrow (whichever the screen shows), loaded. Returns the
    wide one's address, which is new with every forecast."""
    page.wait_for_function(
        "([panel, prev]) => { const wide = document.querySelector(`#${panel}-grid img`);"
        " const shown = [...document.querySelectorAll(`#${panel}-grid img, #${panel}-narrow-grid img`)]"
        "   .find(img => img.offsetParent !== null);"
        " return wide && wide.getAttribute('src') !== prev && shown && shown.complete && shown.naturalWidth > 0; }",
        arg=[panel, previous], timeout=WAIT_MS)
    return grid_source(page, panel)


def grid_shown(page, panel: str = "video") -> dict:
    """Which grid the page shows, its size on screen and in the picture, and its box's."""
    return page.evaluate("""(panel) => {
        const shown = [...document.querySelectorAll(`#${panel}-grid img, #${panel}-narrow-grid img`)]
            .filter(img => img.offsetParent !== null);
        const img = shown[0], box = img.closest('.block').getBoundingClientRect();
        return {count: shown.length, narrow: img.closest(`#${panel}-narrow-grid`) !== null,
                width: img.getBoundingClientRect().width, natural: img.naturalWidth, right: box.right,
                scrolls: img.closest('.block').scrollWidth > img.closest('.block').clientWidth + 1}; }""", panel)


def shown_forecast(page) -> dict:
    """The Moving MNIST controls and the scores table as the page shows them."""
    return page.evaluate("""() => ({
        seed: document.querySelector('#seed input').value,
        digits: document.querySelector('#digits input[type=number]').value,
        horizon: document.querySelector('#horizon input[type=number]').value,
        scores: [...document.querySelectorAll('#video-scores [role=row]')].slice(1)
            .map(row => [...row.querySelectorAll('.body-cell')].map(cell => cell.innerText.trim()))
            .filter(row => row.length),
    })""")


def wait_for_scores(page, rows: list[list[str]]) -> None:
    page.wait_for_function(
        "(rows) => JSON.stringify([...document.querySelectorAll('#video-scores [role=row]')].slice(1)"
        ".map(row => [...row.querySelectorAll('.body-cell')].map(cell => cell.innerText.trim()))"
        ".filter(row => row.length)) === JSON.stringify(rows)", arg=rows, timeout=WAIT_MS)


def box(page, selector: str) -> dict:
    found = page.locator(selector).filter(visible=True).first.bounding_box()
    assert found, f"{selector} is not on the page"
    return found


def wait_for_link_of(page, text: str) -> None:
    """Until the page's link (kept in a hidden box) is that of the forecast shown: it follows the forecast."""
    page.wait_for_function(
        "(text) => { const el = document.querySelector('#share-query textarea, #share-query input');"
        " return el && el.value.includes(text); }", arg=text, timeout=WAIT_MS)


def copy_link(page) -> str:
    page.locator("#copy-link").click()
    field = page.locator("#share-link textarea, #share-link input").first
    page.wait_for_function("(el) => el.value !== ''", arg=field.element_handle(), timeout=WAIT_MS)
    return field.input_value()


def api_scores(app, tmp_path, seed: int, digits: int, horizon: int) -> list[list[str]]:
    result = app.client(tmp_path).predict(seed, digits, horizon, api_name="/forecast_moving_mnist")
    return result[5]["metadata"]["display_value"]  # as the page formats them: "77.3", "0.188"


def test_first_view_shows_a_finished_forecast_above_the_fold(browser, app):
    page = open_page(browser, app.url, LAPTOP)  # no click: the start-up forecast is there
    page.locator("#video-scores").get_by_text("optical flow").filter(visible=True).first.wait_for()
    page.locator('#video-animation video[src*="comparison"], #video-animation-gif img[src*="comparison"]') \
        .first.wait_for()
    for selector in ("#video-grid img", "#video-scores", "#video-animation video, #video-animation-gif img",
                     "#copy-link"):
        found = box(page, selector)
        assert found["y"] + found["height"] <= LAPTOP["height"], f"{selector} is below the fold: {found}"
    assert page.get_by_text("vs 172.1 for optical flow").first.is_visible()  # the model, in one line
    assert not page.locator("#video-to-controls").is_visible()  # the controls are beside the forecast
    assert page.get_by_role("tablist").first.get_by_role("tab").all_inner_texts() == ["Video frames",
                                                                                      "Radar nowcast"]
    assert not page.get_by_text("Network:").first.is_visible()  # its details are folded away
    grid = grid_shown(page)
    assert grid["count"] == 1 and not grid["narrow"] and grid["width"] == grid["natural"], grid  # pixel for pixel
    page.wait_for_timeout(1500)  # let the video show a frame
    page.screenshot(path=str(ARTIFACTS / "browser_first_view.png"))
    page.context.close()


def test_a_link_shows_its_forecast(browser, app, tmp_path):
    expected = api_scores(app, tmp_path, 7, 1, 12)
    page = open_page(browser, app.url + "?seed=7&digits=1&horizon=12")
    wait_for_scores(page, expected)
    assert {k: v for k, v in shown_forecast(page).items() if k != "scores"} == \
        {"seed": "7", "digits": "1", "horizon": "12"}
    assert "trained to forecast 10 frames" in page.locator("#video-notes").inner_text()  # 12 > 10: said so
    page.context.close()


def test_a_link_names_a_hub_model(browser, app):
    page = open_page(browser, app.url + "?seed=3&digits=2&horizon=5&model=someone/tiny-convlstm")
    page.get_by_text("trained to forecast 3 frames").first.wait_for()  # made by that model
    assert "someone/tiny-convlstm" in page.locator("#model-line").inner_text()
    wait_for_link_of(page, "model=someone")
    assert parse_qs(urlsplit(copy_link(page)).query) == {
        "seed": ["3"], "digits": ["2"], "horizon": ["5"], "model": ["someone/tiny-convlstm"]}
    page.context.close()


def test_a_bad_link_says_why_and_shows_the_start_up_forecast(browser, app):
    page = open_page(browser, app.url + "?seed=7&digits=4&model=../secret")
    page.get_by_text("The link's number of digits must be a whole number from 1 to 3").first.wait_for()
    assert shown_forecast(page)["seed"] == "2015"
    page.context.close()
    page = open_page(browser, app.url + "?model=../secret")
    page.get_by_text("not a Hugging Face Hub repo id").first.wait_for()
    page.context.close()


def test_copy_link_round_trips(browser, app, page):
    page.locator("#seed input").fill("42")
    page.locator("#digits input[type=number]").fill("1")
    page.locator("#digits input[type=number]").press("Enter")
    before = grid_source(page)
    page.get_by_role("button", name="Forecast", exact=True).first.click()
    wait_for_new_grid(page, before)
    wait_for_link_of(page, "seed=42&digits=1")
    link = copy_link(page)
    assert parse_qs(urlsplit(link).query) == {"seed": ["42"], "digits": ["1"], "horizon": ["10"]}
    assert link.startswith(app.url)  # window.location: the server's own address
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    shown = shown_forecast(page)
    fresh = open_page(browser, link)
    wait_for_scores(fresh, shown["scores"])
    assert shown_forecast(fresh) == shown
    fresh.context.close()


def test_phone_shows_the_forecast_readably(browser, app):
    page = open_page(browser, app.url, PHONE)
    page.locator("#video-scores").get_by_text("optical flow").filter(visible=True).first.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "browser_phone.png"))
    page.screenshot(path=str(ARTIFACTS / "browser_phone_full.png"), full_page=True)
    sizes = page.evaluate("""() => {
        const player = document.querySelector('#video-animation video, #video-animation-gif img');
        return {player: player.getBoundingClientRect().width, playerRight: player.getBoundingClientRect().right,
                playerNatural: player.videoWidth || player.naturalWidth,
                page: document.documentElement.scrollWidth,
                scores: document.querySelector('#video-scores').getBoundingClientRect().right}; }""")
    grid = grid_shown(page)
    assert grid["count"] == 1 and grid["narrow"] and not grid["scrolls"], grid  # one row per lead time, no scrolling
    assert grid["right"] <= PHONE["width"] and 64 * grid["width"] / grid["natural"] >= MIN_CELL_PX, grid
    assert sizes["playerRight"] <= PHONE["width"], sizes  # the whole animation, the truth last, on screen...
    assert sizes["player"] >= 0.6 * sizes["playerNatural"], sizes  # ...its labels still legible
    assert sizes["page"] <= PHONE["width"] and sizes["scores"] <= PHONE["width"], sizes  # only they scroll
    cut = page.evaluate("""() => [...document.querySelectorAll('#video-scores *')]
        .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className)""")
    assert not cut, cut  # the scores table fits the phone: every column, every method's whole name
    legend = page.locator("#video-plot .caption")  # the plot's line colours, named in words that wrap
    assert legend.inner_text() == ("Lines: blue: ConvLSTM, orange: ConvLSTM+advection, red: optical flow, "
                                   "gray: persistence") and box(page, "#video-plot .caption")["width"] <= PHONE["width"]
    names = page.evaluate("""() => [...document.querySelectorAll('#video-downloads .filename')]
        .map(cell => [cell.innerText.replace(/\\s+/g, ''), cell.scrollWidth <= cell.clientWidth + 1])""")
    assert names == [[name, True] for name in ("forecast_comparison.gif", "convlstm_forecast.npy",
                                               "convlstm_forecast.gif")], names  # whole names, none cut
    assert page.locator("#video-downloads .label-clear-button").filter(visible=True).count() == 0
    page.locator("#video-to-controls a").click()  # the controls, a few screens down, one tap away
    page.wait_for_function("() => { const r = document.querySelector('#seed').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }", timeout=WAIT_MS)
    page.context.close()


def test_a_small_laptop_shrinks_the_wide_grid_a_little_a_tablet_shows_the_narrow_one(browser, app):
    for width, narrow in ((1100, False), (1000, True)):
        page = open_page(browser, app.url, {"width": width, "height": 800})
        grid = grid_shown(page)
        assert grid["count"] == 1 and grid["narrow"] == narrow and not grid["scrolls"], (width, grid)
        assert 64 * grid["width"] / grid["natural"] >= MIN_CELL_PX, (width, grid)  # frames and labels legible
        page.context.close()


def test_phone_fits_the_radar_animation_to_the_screen(browser, app):
    page = open_page(browser, app.url, PHONE)
    before = open_radar_tab(page)
    page.get_by_role("tab", name="Synthetic", exact=True).click()
    page.get_by_role("button", name="Generate and forecast").click()
    wait_for_new_grid(page, before, "radar")
    player = page.locator("#radar-animation-gif img")  # a colour scale's animation is the comparison GIF
    player.scroll_into_view_if_needed()  # images below the fold load lazily
    page.wait_for_function("() => { const img = document.querySelector('#radar-animation-gif img');"
                           " return img && img.complete && img.naturalWidth > 0; }", timeout=WAIT_MS)
    sizes = page.evaluate("""() => {
        const player = document.querySelector('#radar-animation-gif img');
        return {left: player.getBoundingClientRect().left, right: player.getBoundingClientRect().right,
                natural: player.naturalWidth, page: document.documentElement.scrollWidth}; }""")
    assert sizes["natural"] > PHONE["width"], sizes  # three 200-px windows: wider than the phone...
    assert 0 <= sizes["left"] and sizes["right"] <= PHONE["width"], sizes  # ...fitted to it
    assert sizes["page"] <= PHONE["width"], sizes
    page.locator("#radar-narrow-grid").scroll_into_view_if_needed()
    grid = grid_shown(page, "radar")  # lead times down, the colour legend folded: the phone's width
    assert grid["narrow"] and not grid["scrolls"] and grid["right"] <= PHONE["width"], grid
    assert grid["width"] == grid["natural"], grid  # pixel for pixel
    page.screenshot(path=str(ARTIFACTS / "browser_phone_radar.png"))
    page.context.close()


def upload(page, path: Path) -> None:
    """Put a file into the upload box and wait until the page shows it as uploaded (listed, with its
    download link), whatever the machine's load: the box's own file input, not whichever input comes
    first. The link's download name, not the text: a narrow column shortens the name shown."""
    page.get_by_role("tab", name="Your sequence").click()
    box = page.locator("#upload")
    box.wait_for(state="visible")
    box.locator('input[type="file"]').set_input_files(str(path))
    try:
        box.locator(f'a[download="{path.name}"]').first.wait_for(state="visible")
    except Exception:  # what the page showed instead, for whoever reads the CI artifacts
        page.screenshot(path=str(ARTIFACTS / "browser_upload_failed.png"), full_page=True)
        raise


def test_moving_mnist_forecast(page):
    page.get_by_role("tab", name="Moving MNIST").click()
    page.locator("#seed input").fill("1506")  # a forecast not shown yet: same inputs, same picture, same address
    before = grid_source(page)
    page.get_by_role("button", name="Forecast", exact=True).first.click()
    wait_for_new_grid(page, before)
    page.locator('video[src*="comparison"], img[src*="comparison"]').first.wait_for()
    # the scores table (its visible copy), not the intro text
    page.locator("#video-scores").get_by_text("optical flow").filter(visible=True).first.wait_for()
    assert "In plain words:" in page.locator("#video-verdict").inner_text()  # above the scores
    page.wait_for_timeout(1500)  # let the video show its first frame and the plot draw
    page.screenshot(path=str(ARTIFACTS / "browser_moving_mnist.png"), full_page=True)


def test_a_random_seed_is_forecast_at_once(page):
    page.get_by_role("tab", name="Moving MNIST").click()
    before = grid_source(page)
    page.get_by_role("button", name="Random seed").click()
    wait_for_new_grid(page, before)
    seed = page.locator("#seed input").input_value()
    wait_for_link_of(page, f"seed={seed}&")  # the controls, the picture and the link agree


def test_upload_forecast(page, tmp_path):
    before = grid_source(page)
    upload(page, ROOT / "examples" / "moving_mnist_frames.zip")
    page.get_by_role("button", name="Forecast", exact=True).last.click()
    wait_for_new_grid(page, before)
    page.locator('#video-downloads a[download="forecast_comparison.gif"]').first.wait_for()
    # no link can carry an upload: the share control says so, and points at the GIF
    wait_for_link_of(page, "can't travel in a link")
    assert "forecast_comparison.gif" in copy_link(page)
    page.screenshot(path=str(ARTIFACTS / "browser_upload.png"), full_page=True)


def test_example_runs_on_click(page):
    before = grid_source(page)
    page.get_by_role("tab", name="Your sequence").click()
    example = page.get_by_role("button", name="moving_mnist_3digits.mp4")
    example.locator("img").wait_for()  # shown by its picture, the last input frame
    assert example.locator("img").evaluate("img => img.complete && img.naturalWidth") == 64
    example.click()
    wait_for_new_grid(page, before)
    assert page.locator("#upload a[download='moving_mnist_3digits.mp4']").first.is_visible()  # the file it ran


def error_shown(page, panel: str):
    """The visible error box of a tab, once it says something."""
    box = page.locator(f"#{panel}-layout .input-error, #{panel}-tab .input-error").filter(visible=True)
    box.first.wait_for()
    return box.first


def test_bad_upload_keeps_the_page_and_says_why(page, tmp_path):
    bad = tmp_path / "holiday.gif"
    bad.write_text("this is text, not a picture")
    page.reload()
    shown = wait_for_new_grid(page, None)
    upload(page, bad)
    page.get_by_role("button", name="Forecast", exact=True).last.click()
    message = error_shown(page, "video")
    assert "holiday.gif: this is not a picture that can be read" in message.inner_text()
    page.wait_for_timeout(3000)  # a toast would be fading by now; the message stays
    assert message.is_visible() and grid_source(page) == shown  # the last good forecast stays on screen
    assert page.locator(".error").filter(visible=True).count() == 0  # no output turned into an error badge
    page.screenshot(path=str(ARTIFACTS / "browser_error.png"), full_page=True)
    page.get_by_role("tab", name="Moving MNIST").click()
    page.locator("#seed input").fill("9")
    page.get_by_role("button", name="Forecast", exact=True).first.click()
    wait_for_new_grid(page, shown)
    assert not message.is_visible()  # until the next forecast


def test_a_foreign_upload_is_forecast_with_a_warning_first(page, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    pictures = [Image.fromarray((rng.random((64, 64)) * 255).astype(np.uint8)) for _ in range(16)]
    noise = tmp_path / "snow.gif"
    pictures[0].save(noise, save_all=True, append_images=pictures[1:], duration=100)
    page.reload()  # an empty upload box
    before = wait_for_new_grid(page, None)
    upload(page, noise)
    page.get_by_role("button", name="Forecast", exact=True).last.click()
    wait_for_new_grid(page, before)
    first_note = page.locator("#video-notes li").first.inner_text()
    assert first_note.startswith("Unlike what the model learned from") and "not black" in first_note
    page.screenshot(path=str(ARTIFACTS / "browser_foreign.png"), full_page=True)


def open_radar_tab(page) -> str:
    """The radar tab, as it opens: the first real example already forecast. Returns its grid's address."""
    page.get_by_role("tab", name="Radar nowcast").click()
    page.locator("#radar-grid, #radar-narrow-grid").filter(visible=True).first.scroll_into_view_if_needed()
    # (on a phone it is far below: loaded lazily)
    return wait_for_new_grid(page, None, "radar")


def test_radar_nowcast_tab(page):
    page.reload()
    shown = open_radar_tab(page)
    assert not page.locator("#model-line").is_visible()  # the video model's line: the radar tab names its own
    page.get_by_text("Radar data: EUMETNET OPERA (open data, CC BY 4.0)").first.wait_for()  # not an empty tab
    page.locator("#radar-locator img").wait_for()  # where on Europe the window lies
    assert not page.locator("#radar-window").is_visible()  # an example's window can't be moved: no files
    page.evaluate("window.scrollTo(0, 0)")
    for selector in ("#radar-verdict", "#radar-animation-gif img"):  # the forecast above the fold, no click
        found = box(page, selector)
        assert found["y"] + found["height"] <= 900, f"{selector} is below the fold: {found}"
    page.get_by_role("tab", name="Synthetic", exact=True).click()
    page.get_by_role("button", name="Generate and forecast").click()
    wait_for_new_grid(page, shown, "radar")
    page.locator("#radar-scores").get_by_text("optical flow").filter(visible=True).first.wait_for()
    page.locator('#radar-downloads a[download="forecast_comparison.gif"]').first.wait_for()
    assert not page.locator("#radar-locator").is_visible()  # a synthetic loop lies nowhere
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "browser_radar.png"), full_page=True)


def test_the_real_radar_example_runs_on_click(page):
    page.reload()
    before = open_radar_tab(page)
    page.get_by_role("button", name="Finland, a rain band, FMI").click()
    wait_for_new_grid(page, before, "radar")
    page.get_by_text("Finnish Meteorological Institute (open data, CC BY 4.0)").first.wait_for()  # the credit
    page.locator("#radar-scores").get_by_text("optical flow").filter(visible=True).first.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "browser_radar_real.png"), full_page=True)


def test_radar_composites_uploaded_as_a_zip_then_the_window_moved(page, tmp_path):
    pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads ODIM composites")
    archive, paths = composites_zip(tmp_path, "odim", frames=8, shape=(130, 220))
    page.reload()
    before = open_radar_tab(page)
    page.get_by_role("tab", name="A loop", exact=True).click()
    negative = tmp_path / "negative.npy"
    np.save(negative, -np.ones((8, 20, 20), np.float32))
    page.locator('#radar-upload input[type="file"]').set_input_files(str(negative))
    page.locator(f'#radar-upload a[download="{negative.name}"]').first.wait_for(state="visible")
    page.get_by_role("button", name="Forecast the loop").click()
    assert "negative rain rates" in error_shown(page, "radar").inner_text()
    assert grid_source(page, "radar") == before  # the example stays on screen
    page.get_by_role("tab", name="Composites", exact=True).click()
    box = page.locator("#composites")
    box.locator('input[type="file"]').set_input_files(str(archive))
    box.locator(f'a[download="{archive.name}"]').first.wait_for(state="visible")
    page.get_by_role("button", name="Forecast the composites").click()
    shown = wait_for_new_grid(page, before, "radar")
    page.get_by_text("(row 10, column 0 of the 220×130 grid)").first.wait_for()
    page.locator("#radar-window").wait_for(state="visible")  # the window's controls, at its place
    assert page.locator("#window-row input").input_value() == "10"
    page.locator("#radar-locator img").wait_for()
    assert not page.locator("#radar-tab .input-error").first.is_visible()  # a forecast: the message goes
    page.screenshot(path=str(ARTIFACTS / "browser_radar_composites.png"), full_page=True)
    page.locator("#window-row input").fill("30")
    page.get_by_role("button", name="Forecast this window").click()
    wait_for_new_grid(page, shown, "radar")
    assert page.locator("#window-row input").input_value() == "30"


def test_radar_links_open_the_radar_tab_on_their_forecast(browser, app):
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app.url + "?radar=synthetic&seed=3&intensity=1.5&motion=rotation")
    shown = wait_for_new_grid(page, None, "radar")  # the radar tab, opened by the link
    assert page.locator("#radar-tab").is_visible() and not page.locator("#model-line").is_visible()
    assert page.locator("#radar-seed input").input_value() == "3"  # the link's controls, in their tab
    page.wait_for_function("() => document.querySelector('#radar-share-query textarea, #radar-share-query input')"
                           ".value.includes('radar=synthetic&seed=3&intensity=1.5&motion=rotation')")
    page.get_by_role("button", name="Finland, a rain band, FMI").click()
    wait_for_new_grid(page, shown, "radar")
    page.wait_for_function("() => document.querySelector('#radar-share-query textarea, #radar-share-query input')"
                           ".value === '?radar=fmi_2016-09-28'")  # an example's link, by its file's name
    page.goto(app.url + "?radar=fmi_2016-09-28")
    page.get_by_text("Finnish Meteorological Institute (open data, CC BY 4.0)").first.wait_for()
    page.context.close()
