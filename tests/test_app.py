"""The app, started on a free port with the bundled model: API endpoints (gradio_client)
and a real browser (Playwright driving Debian's Chromium)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from gradio_client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SECRET = "hf_secret_value_that_must_not_leak"
SENTENCE = "Click the arrow next to the icon to open the toolbar."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(tmp_path_factory, *flags):
    """Start ``python app.py`` on a free port; returns (url, process)."""
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1",
           "HF_TOKEN": SECRET}  # fmt: skip
    with open(log, "w") as out:
        command = [sys.executable, "app.py", "--port", str(port), *flags]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"app did not answer within 180 s:\n{log.read_text()[-3000:]}")
    return url, proc


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    url, proc = start_app(tmp_path_factory)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_overload_gets_a_clear_busy_answer(tmp_path_factory):
    """One request decoded at a time and one waiting: a burst is answered in full, the
    excess with Gradio's 'queue is full' message, and the server keeps serving."""
    import concurrent.futures

    url, proc = start_app(tmp_path_factory, "--concurrency", "1", "--max-queue", "1")
    try:

        def call(_):
            try:
                Client(url, verbose=False).predict(SENTENCE, api_name="/translate")
                return "ok"
            except Exception as e:
                return str(e)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(8)))
        assert answers.count("ok") >= 1
        assert all(a == "ok" or "Queue is full" in a for a in answers), answers
        assert "Queue is full" in " ".join(answers)
        assert Client(url, verbose=False).predict(SENTENCE, api_name="/translate").strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_api_endpoints_are_consistent(client):
    best = client.predict(SENTENCE, api_name="/translate")
    beam = client.predict(SENTENCE, "", 5, 4, 0.6, api_name="/beam")
    hyps = beam["hypotheses"]
    assert best == hyps[0]["text"] and best.strip()
    assert [h["rank"] for h in hyps] == [1, 2, 3, 4]
    scores = [h["score"] for h in hyps]
    assert scores == sorted(scores, reverse=True)
    assert len({h["text"] for h in hyps}) == 4
    assert all(h["length"] == len(h["ids"]) == len(h["token_log_probs"]) for h in hyps)
    attention = client.predict(SENTENCE, "", 5, 1, api_name="/attention")
    matrix = np.array(attention["attention"])
    assert attention["text"] == best
    assert matrix.shape == (len(attention["target_tokens"]), len(attention["source_tokens"]))
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-3)
    assert attention["source_tokens"][-1] == "</s>"


def test_api_rejects_bad_input_clearly(client):
    with pytest.raises(Exception, match="Type a sentence"):
        client.predict("   ", api_name="/translate")
    with pytest.raises(Exception, match="limit is 2000"):
        client.predict("word " * 500, api_name="/translate")
    with pytest.raises(Exception, match="between 1 and 10"):
        client.predict(SENTENCE, "", 11, api_name="/translate")
    with pytest.raises(Exception, match="Unknown direction"):
        client.predict(SENTENCE, "xx-yy", api_name="/translate")


@pytest.mark.parametrize(
    "direction, source, expected",
    [("en-de", SENTENCE, "Pfeil"),
     ("de-en", "Klicken Sie auf den Pfeil neben dem Symbol.", "arrow"),
     ("en-fr", SENTENCE, "flèche")],
)  # fmt: skip
def test_every_shipped_direction_through_the_api(client, direction, source, expected):
    assert expected in client.predict(source, direction, api_name="/translate")


def test_each_shipped_model_translates_its_examples():
    import app
    from seq2seq.translator import Translator

    for folder in app.DEFAULT_MODELS:
        translator = Translator.load(ROOT / folder, jit_compile=False)
        examples = app.EXAMPLES[translator.bundle.direction]
        outputs = translator.translate_texts(examples, beam_size=2)
        assert all(o.strip() for o in outputs) and outputs != examples
        assert (ROOT / folder / "eval.json").is_file()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


@pytest.mark.parametrize(
    "path",
    ["/gradio_api/file=/etc/passwd", "/gradio_api/file=../../../../etc/passwd",
     "/gradio_api/file=%2Fetc%2Fpasswd", "/file=/etc/passwd", "/gradio_api/file=app.py",
     "/gradio_api/file=models/en-de/config.json", "/../../etc/passwd"],
)  # fmt: skip
def test_server_serves_no_files_outside_the_app(app_url, path):
    status, body = get(app_url + path)
    assert "root:" not in body and "import gradio" not in body and "keras_version" not in body
    assert status >= 400 or len(body) < 20_000 and "<html" in body.lower()


def test_no_secret_in_page_config_api_or_errors(app_url, client):
    for path in ("/", "/config", "/gradio_api/info", "/gradio_api/openapi.json"):
        assert SECRET not in get(app_url + path)[1], path
    with pytest.raises(Exception) as error:
        client.predict("   ", api_name="/translate")
    assert SECRET not in str(error.value)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(min_size=1, max_size=80), beam=st.integers(1, 10))
def test_fuzz_http_api(client, text, beam):
    try:
        result = client.predict(text, "", beam, beam, 0.6, api_name="/beam")
    except Exception as e:  # a refusal must be a clear app error, not a crash
        assert type(e).__name__ == "AppError" and str(e), repr(e)
        return
    for h in result["hypotheses"]:
        assert h["length"] == len(h["ids"]) == len(h["pieces"])


def launch_browser(playwright):
    assert Path(CHROMIUM).exists(), "browser tests need Debian's chromium: apt-get install chromium"
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--disable-quic"],
    )  # fmt: skip


def heatmap_src(page) -> str:
    return page.locator("#heatmap img").first.get_attribute("src") or ""


def test_browser_translate_select_candidate_and_deep_link(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        requested = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(app_url)
        box = page.get_by_label("Source text")
        box.fill("Thank you very much for your help.")
        box.press("Enter")  # Enter translates
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        first_best = page.locator("#best textarea").input_value()
        assert first_best.strip()
        box.fill("Do you want to save the changes to this document?")
        page.get_by_role("button", name="Translate", exact=True).click()
        expect(page.locator("#best textarea")).not_to_have_value(first_best, timeout=60_000)
        rows = page.locator("#candidates div[role=row]")
        expect(rows).to_have_count(3, timeout=60_000)
        expect(page.locator("#heatmap img").first).to_be_visible(timeout=30_000)
        best = page.locator("#best textarea").input_value()
        assert best and best in rows.nth(0).inner_text()
        first_map = heatmap_src(page)

        rows.nth(2).locator("[role=gridcell]").nth(1).click()
        page.wait_for_function(
            "src => { const i = document.querySelector('#heatmap img');"
            " return i && i.getAttribute('src') !== src; }",
            arg=first_map, timeout=30_000,
        )  # fmt: skip
        assert heatmap_src(page) != first_map

        # Clicking an output piece shades the source by that piece's attention row.
        shading = page.locator("#source-tokens").inner_html()
        page.locator("#target-tokens .token").nth(3).click()
        page.wait_for_function(
            "html => document.querySelector('#source-tokens').innerHTML !== html",
            arg=shading, timeout=30_000,
        )  # fmt: skip
        page.screenshot(path=str(tmp_path / "selected.png"), full_page=True)

        page.goto(f"{app_url}/?text={quote(SENTENCE)}&beam=4&n=2")
        expect(page.get_by_label("Source text")).to_have_value(SENTENCE, timeout=60_000)
        expect(page.locator("#candidates div[role=row]")).to_have_count(2, timeout=60_000)
        assert page.locator("#best textarea").input_value().strip()
        link = page.locator("#share-link textarea").input_value()
        assert "text=Click+the+arrow" in link and "beam=4" in link
        # The page works offline: nothing is fetched from anywhere but the app itself.
        outside = [u for u in requested if not u.startswith((app_url, "data:", "blob:"))]
        assert outside == []
        shot = os.environ.get("SCREENSHOT_PATH", str(tmp_path / "deep_link.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()
