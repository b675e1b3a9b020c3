"""The explorer in a real browser: Playwright driving the system Chromium headless."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.main import create_app

from .conftest import make_settings

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("POKIN_SCREENSHOTS", "/tmp/pokin-screenshots"))
K = "kotim-dinsos-2025"


def _serve(data_dir: Path) -> Iterator[str]:
    import uvicorn

    # The socket is bound here and handed to uvicorn: a port only chosen here could be taken by the
    # embedded engine the app starts before uvicorn binds (that failed one run in many).
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(make_settings(data_dir, pokin_token="s3cret")), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the explorer did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def base_url(seeded_dir: Path) -> Iterator[str]:
    """The explorer on the seed plans (read only)."""
    yield from _serve(seeded_dir)


@pytest.fixture()
def empty_url(tmp_path: Path) -> Iterator[str]:
    """The explorer on an empty store, for loading."""
    yield from _serve(tmp_path / "data")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def test_plans_page_lists_the_seed_plans(page, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.title() == "Rencana · pokin"
    row = page.locator("tr", has_text=K)
    assert "Rp 6.312.818.993" in row.inner_text() and "error" in row.inner_text()
    page.screenshot(path=str(SHOTS / "plans.png"))
    row.get_by_role("link").first.click()
    page.wait_for_url(f"**/plans/{K}")
    assert "Kotawaringin Timur" in page.title()


def test_search_select_and_trace(page, base_url: str) -> None:
    page.goto(f"{base_url}/plans/{K}")
    page.fill("#tree-search", "psikososial")
    assert page.locator("#tree-count").inner_text() == "1 cocok"
    hit = page.locator("li[data-id='sk-dukungan-psikososial'] > .row > .node")
    assert hit.is_visible() and page.locator("li[data-id='sk-gaji-tunjangan']").is_hidden()
    hit.click()
    detail = page.locator("#detail")
    detail.locator("h2").wait_for()
    assert detail.locator("h2").inner_text() == "Terpenuhinya Pelayanan Dukungan Psikososial Kewenangan Kabupaten/ Kota"
    trace = detail.locator(".trace ol").first.inner_text()
    assert "Meningkatnya Kesejahteraan Pemerlu Pelayanan Kesejahteraan Sosial (PPKS)" in trace
    assert "code_parent" in detail.inner_text()  # the finding on this element
    assert "node=sk-dukungan-psikososial" in page.url  # the selection is in the address
    page.locator(".diagram svg g.node").first.wait_for()
    page.screenshot(path=str(SHOTS / "plan-psikososial.png"))


def test_a_mouse_click_on_a_diagram_box_selects_its_element(page, base_url: str) -> None:
    """The diagram's drag took the pointer on press, so a click on a box never reached it (a tap did)."""
    page.goto(f"{base_url}/plans/{K}")
    box = page.locator(".diagram svg g.node", has=page.locator("title", has_text=f"{K}/p-tmp"))
    box.wait_for()
    box.scroll_into_view_if_needed()
    b = box.bounding_box()
    page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.locator("#detail h2").wait_for()
    assert page.locator("#detail h2").inner_text() == "Terkelolanya Taman Makam Pahlawan" and "node=p-tmp" in page.url
    # a drag pans the diagram and selects nothing
    page.goto(f"{base_url}/plans/{K}")
    box.wait_for()
    b = box.bounding_box()
    page.mouse.move(b["x"] + 5, b["y"] + 5)
    page.mouse.down()
    page.mouse.move(b["x"] + 80, b["y"] + 60, steps=5)
    page.mouse.up()
    assert "node=" not in page.url


def test_a_stale_element_link_shows_one_short_message(page, base_url: str) -> None:
    """The panel fetched the element, got the 404 page and showed it whole: a second header and menu."""
    page.goto(f"{base_url}/plans/{K}?node=nope")
    alert = page.locator("#detail [role=alert]")
    alert.wait_for()
    assert "nope" in alert.inner_text() and page.locator("header.top").count() == 1


def test_level_filter_and_keyboard(page, base_url: str) -> None:
    page.goto(f"{base_url}/plans/{K}")
    page.select_option("#tree-level", "program")
    assert page.locator("#tree-count").inner_text() == "7 cocok"
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("li[data-id='p-tmp'] > .row > .node")
    page.keyboard.press("Enter")
    page.locator("#detail h2").wait_for()
    assert page.locator("#detail h2").inner_text() == "Terkelolanya Taman Makam Pahlawan"


def test_what_if_cut_shows_the_unsupported_sasaran(page, base_url: str) -> None:
    page.goto(f"{base_url}/plans/{K}/impact")
    page.check("input[value='p-psks-berdaya']")
    page.check("input[value='p-tmp']")
    page.get_by_role("button", name="Hitung dampak").first.click()
    page.wait_for_url("**/impact?cut=*")
    assert "cut=p-psks-berdaya" in page.url and "cut=p-tmp" in page.url  # the scenario is shareable
    unsupported = page.locator("#unsupported").inner_text()
    assert "Meningkatnya Kapasitas Potensi Sumber Kesejahteraan Sosial (PSKS)" in unsupported
    assert "Rp 182.400.000" in page.locator(".impact-summary").inner_text()
    page.locator(".diagram svg g.node").first.wait_for()
    assert "DIPOTONG" in page.locator(".diagram svg").text_content()
    page.screenshot(path=str(SHOTS / "what-if.png"), full_page=True)


def test_jabatan_chart_and_svg_download(page, base_url: str, tmp_path: Path) -> None:
    page.goto(f"{base_url}/plans/{K}/jabatan")
    page.get_by_role("link", name="Pejabat Eselon III (PK Eselon 3)").click()
    page.wait_for_url("**/jabatan/pk-eselon-3")
    assert page.locator("table tbody tr").count() == 7  # its seven programs
    page.locator(".diagram svg g.node").first.wait_for()
    assert page.locator(".diagram svg g.node").count() >= 11
    page.screenshot(path=str(SHOTS / "jabatan-eselon3.png"))
    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh SVG").click()
    path = tmp_path / "chart.svg"
    info.value.save_as(path)
    assert ET.fromstring(path.read_bytes()).tag.endswith("svg")


def test_checks_page_links_and_downloads(page, base_url: str) -> None:
    page.goto(f"{base_url}/plans/{K}/checks")
    assert page.title().startswith("Temuan")
    group = page.locator("details", has_text="budget_rollup")
    assert group.get_attribute("open") is not None
    group.get_by_role("link", name="k-rehab-dasar").first.click()
    page.wait_for_url("**node=k-rehab-dasar")
    page.locator("#detail h2").wait_for()


def test_capaian_page_switches_scale_and_formula(page, base_url: str) -> None:
    page.goto(f"{base_url}/plans/buleleng-dinsos-2023/capaian")
    miskin = page.locator("tr", has_text="Persentase penduduk miskin")
    assert "86,41 %" in miskin.inner_text() and "Tinggi" in miskin.inner_text()
    assert "dilaporkan seolah makin tinggi makin baik" in miskin.inner_text()  # reported 113,59 % is R/T
    page.select_option("select[name=scale]", "buleleng_lkjip_2023")
    page.select_option("select[name=negatif_formula]", "t_over_r")
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url("**negatif_formula=t_over_r*")
    assert "scale=buleleng_lkjip_2023" in page.url  # the choice is shareable
    miskin = page.locator("tr", has_text="Persentase penduduk miskin")
    assert "88,03 %" in miskin.inner_text() and "Sangat berhasil" in miskin.inner_text()
    page.screenshot(path=str(SHOTS / "capaian.png"), full_page=True)
    page.get_by_role("link", name="Menurunnya penduduk miskin").first.click()
    page.wait_for_url("**node=s1-miskin")
    page.locator("#detail h2").wait_for()


def test_phone_width_has_no_sideways_scrolling(browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    for path in ("/", f"/plans/{K}?node=k-rehab-dasar", f"/plans/{K}/checks", f"/plans/{K}/impact?cut=p-tmp",
                 f"/plans/{K}/jabatan/kadis", "/load", "/plans/buleleng-dinsos-2023/capaian"):
        pg.goto(base_url + path)
        pg.wait_for_timeout(300)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390, path
    pg.goto(f"{base_url}/plans/{K}?node=k-rehab-dasar")
    pg.locator("#detail h2").wait_for()
    pg.screenshot(path=str(SHOTS / "phone-plan.png"))
    context.close()


def test_unknown_plan_is_a_page_not_json(page, base_url: str) -> None:
    response = page.goto(f"{base_url}/plans/nope")
    assert response.status == 404 and page.title() == "Tidak ditemukan · pokin"


def test_load_page_shows_problems_and_loads_a_good_file(page, empty_url: str, tmp_path: Path) -> None:
    from .conftest import SEED_DIR

    bad = tmp_path / "kotim-pemda.yaml"
    bad.write_text((SEED_DIR / "kotim-pemda-2025.yaml").read_text().replace("parents: [tujuan-rpjmd]", "parents: [tujuan-x]"))
    page.goto(empty_url + "/load")
    assert page.title() == "Muat rencana · pokin"
    page.set_input_files("#file", str(bad))
    page.click("button[type=submit]")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "token" in alert.inner_text().lower()  # no token given: refused, nothing written
    page.fill("#token", "s3cret")
    page.click("button[type=submit]")
    page.locator(".errors li").first.wait_for()
    problem = page.locator(".errors li").first.inner_text()
    assert "kotim-pemda.yaml:" in problem and "parents[0]" in problem and "unknown parent 'tujuan-x'" in problem
    page.screenshot(path=str(SHOTS / "load-error.png"))
    page.set_input_files("#file", str(SEED_DIR / "kotim-pemda-2025.yaml"))
    page.click("button[type=submit]")
    page.get_by_role("status").wait_for()
    assert "kotim-pemda-2025" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Buka rencana").click()
    page.wait_for_url("**/plans/kotim-pemda-2025")


@pytest.fixture(scope="module", autouse=True)
def _keep_screenshots() -> Iterator[None]:
    yield
    if os.environ.get("POKIN_SCREENSHOTS_TO_DOCS"):
        dest = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
        dest.mkdir(exist_ok=True)
        for f in SHOTS.glob("*.png"):
            shutil.copy(f, dest / f.name)


def test_api_docs_work_offline(page, base_url: str) -> None:
    """The Swagger UI comes from the app itself: no request leaves the machine."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base_url) and not r.url.startswith("data:") else None)
    page.goto(base_url + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock-summary-path", has_text="/api/plans/{plan_id}/checks").count() >= 1
    assert outside == []
