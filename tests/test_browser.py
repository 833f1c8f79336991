"""Notebooks 04 and 06 in a real browser: what a learner sees in JupyterLab (headless Chromium).

Starts JupyterLab on 127.0.0.1 (a free port, a private settings folder, a copy of the notebook
so nothing is saved over the committed one), opens notebook 04 and checks, in order:
- opening it does not mark it modified (clean metadata, ``tinyllm.notebooks.clean_metadata``);
- before anything runs, the widget cell's saved picture is visible, at its own size;
- "Run All Cells" finishes with the self-check passing and no error or missing-glyph text;
- choosing the Chinese sentence in the widget redraws the picture; the sharpness reads 4.0;
- in notebook 06, the same before/after checks and the slider labels are not cut off.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (the ``test``
extra); it skips with a message where they are missing. Nothing downloads a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tinyllm.notebooks import notebook_environment
from tinyllm.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "04_attention.ipynb"
NOTEBOOK_06 = REPO_ROOT / "notebooks" / "06_model_generation.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = os.environ.get("TINYLLM_SCREENSHOTS")  # a folder: keep the screenshots there
TOKEN = "tinyllm-browser-test"

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed: pip install -e '.[test]'"
)
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("no Chromium and chromedriver on PATH: on Debian/Ubuntu run "
                "`apt-get install -y chromium chromium-driver` to run the real-browser test",
                allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, path: str, method: str = "GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server serving a copy of notebook 04; always shut down afterwards."""
    root = tmp_path_factory.mktemp("lab")
    for notebook in (NOTEBOOK, NOTEBOOK_06):
        shutil.copy(notebook, root / notebook.name)
    settings = root / ".settings"
    for plugin, values in {
        # Every cell in the page (no virtual scrolling), and no autosave of the executed copy.
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        package, name = plugin.rsplit("/", 1)
        (settings / package).mkdir(parents=True, exist_ok=True)
        (settings / package / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, **notebook_environment(), "PYTHONPATH": str(REPO_ROOT),
           "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
           "JUPYTER_CONFIG_DIR": str(root / ".config"), "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=(root.parent / "server.log").open("w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                api(port, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(root.parent / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield port
    finally:
        try:
            api(port, "/api/shutdown", method="POST")  # also shuts down the kernels
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            if server.poll() is None:
                os.killpg(server.pid, 9)  # the server and its kernels (their own session)
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))


def widget_cell(driver, marker="sentence_choice = widgets.Dropdown"):
    """The code cell whose source contains `marker`, its outputs scrolled into view."""
    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell")
    cell = next(c for c in cells if marker in c.text)
    output = cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", (output or [cell])[0])
    return cell


def picture(cell):
    """The widget cell's picture: (src, natural width, shown width), or None if none is shown."""
    images = [i for i in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img") if i.is_displayed()]
    if not images:
        return None
    return (images[-1].get_attribute("src"), images[-1].get_property("naturalWidth"),
            images[-1].size["width"])


def last_prompt(driver) -> str:
    """The execution prompt of the notebook's last code cell: "[12]:", "[*]:" while queued."""
    cell = driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell")[-1]
    return cell.find_element(By.CSS_SELECTOR, ".jp-InputArea-prompt").text


def kernel_idle(port: int) -> bool:
    kernels = api(port, "/api/kernels")
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def page_problems(driver) -> list[str]:
    """Error or missing-glyph text in any output (stderr warnings are shown as outputs too)."""
    text = "\n".join(o.text for o in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))
    return [word for word in ("Traceback", "Error", "missing from font", "Glyph") if word in text]


def open_and_run(browser, port, notebook, marker, shot):
    """Open a notebook, check it opens clean with its saved picture, run all cells."""
    wait = WebDriverWait(browser, 120, poll_frequency=0.5)
    browser.get(f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={TOKEN}")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell"))
    wait.until(lambda d: kernel_idle(port))
    time.sleep(3)  # JupyterLab writes the kernel's language_info into the model now
    dirty = browser.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab.jp-mod-dirty")
    assert not dirty, "opening the notebook marked it modified (metadata JupyterLab rewrites)"

    cell = widget_cell(browser, marker)
    time.sleep(1)
    screenshot(browser, f"{shot}_before_running")
    saved = picture(cell)
    assert saved, "the widget cell shows no saved picture before running"
    assert 300 < saved[1] and saved[2] <= saved[1] * 1.05, f"picture stretched: {saved[1:]}"
    assert "VBox(children" not in cell.text

    browser.find_element(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']").click()
    browser.find_element(By.XPATH, "//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']").click()
    # The saved outputs already say "self-check passed": wait for the last cell to be queued
    # ([*]) by this run, then for it to finish.
    WebDriverWait(browser, 30, poll_frequency=0.1).until(lambda d: "*" in last_prompt(d))
    WebDriverWait(browser, 300, poll_frequency=1).until(
        lambda d: "*" not in last_prompt(d)
        and "self-check passed" in d.find_elements(By.CSS_SELECTOR, ".jp-CodeCell")[-1].text)
    wait.until(lambda d: kernel_idle(port))
    assert not page_problems(browser), page_problems(browser)
    return wait


def test_notebook_04_in_chromium(lab, browser):
    port = lab
    wait = open_and_run(browser, port, NOTEBOOK, "sentence_choice = widgets.Dropdown", "04")

    cell = widget_cell(browser)
    wait.until(lambda d: cell.find_elements(By.CSS_SELECTOR, ".widget-dropdown select"))
    readout = cell.find_element(By.CSS_SELECTOR, ".widget-readout").text
    assert readout == "4.0", f"the sharpness slider reads {readout!r}"
    before = picture(cell)
    screenshot(browser, "04_after_running")
    Select(cell.find_elements(By.CSS_SELECTOR, ".widget-dropdown select")[0]).select_by_visible_text(
        "中文: 小猫坐在垫子上")
    wait.until(lambda d: picture(widget_cell(d)) and picture(widget_cell(d))[0] != before[0])
    time.sleep(1)
    screenshot(browser, "04_chinese_sentence")
    assert not page_problems(browser), page_problems(browser)


def test_notebook_06_in_chromium(lab, browser):
    marker = "temperature_choice = widgets"
    wait = open_and_run(browser, lab, NOTEBOOK_06, marker, "06")
    cell = widget_cell(browser, marker)
    wait.until(lambda d: cell.find_elements(By.CSS_SELECTOR, ".widget-label"))
    labels = [label for label in cell.find_elements(By.CSS_SELECTOR, ".widget-label") if label.text]
    assert [label.text for label in labels] == ["temperature", "top_k", "top_p"]
    for label in labels:  # the whole word shows, not "temperat…"
        assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", label)
    before = picture(cell)
    slider = cell.find_elements(By.CSS_SELECTOR, ".widget-hslider .noUi-handle, .widget-hslider .slider-handle")[1]
    slider.click()
    slider.send_keys("\ue014\ue014\ue014")  # three right-arrow presses: top_k 0 -> 3
    wait.until(lambda d: picture(widget_cell(d, marker))[0] != before[0])
    time.sleep(1)
    screenshot(browser, "06_after_moving_top_k")
    assert not page_problems(browser), page_problems(browser)
