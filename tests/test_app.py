"""The app, started on a free port with the bundled model: API endpoints (gradio_client)
and a real browser (Playwright driving Debian's Chromium)."""

import json
import os
import re
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

from benchmarks.common import AppServer

pytestmark = pytest.mark.slow  # the app with the shipped models, in Chromium

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SECRET = "hf_secret_value_that_must_not_leak"
SENTENCE = "Click the arrow next to the icon to open the toolbar."


def start_app(tmp_path_factory, *flags, **env_vars):
    """Start ``python app.py`` on a free port (the benchmarks' harness,
    :class:`benchmarks.common.AppServer`); returns (url, process), the process with its
    ``log`` (what the app wrote)."""
    env = {
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_TOKEN": SECRET,
        **env_vars,
    }
    log = tmp_path_factory.mktemp("app") / "app.log"
    # Compiled graphs shared by every app this session starts.
    compiled = str(tmp_path_factory.getbasetemp() / "compiled")
    server = AppServer(log_path=log, env=env, extra_args=flags, cache_dir=compiled)
    server.__enter__()
    try:
        server.wait_page(timeout=180)
    except RuntimeError as e:
        server.__exit__(None, None, None)
        pytest.fail(str(e))
    server.process.log = log
    return server.url, server.process


@pytest.fixture(scope="module")
def gradio_temp(tmp_path_factory):
    """The app's Gradio upload folder (``GRADIO_TEMP_DIR``)."""
    return tmp_path_factory.mktemp("gradio")


@pytest.fixture(scope="module")
def app_process(tmp_path_factory, gradio_temp):
    """The app on the shipped models: (url, process)."""
    url, proc = start_app(tmp_path_factory, GRADIO_TEMP_DIR=str(gradio_temp))
    yield url, proc
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def app_url(app_process):
    return app_process[0]


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
    beam = client.predict(SENTENCE, "", 5, 4, None, api_name="/beam")  # None: the model's α
    meta = json.loads((ROOT / "models/en-de/metadata.json").read_text())
    assert beam["length_penalty"] == meta["decoding"]["length_penalty"]
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


def test_beam_tree_endpoint_ends_in_the_beam_candidates(client):
    beam = client.predict(SENTENCE, "", 5, 3, 0.6, api_name="/beam")["hypotheses"]
    answer = client.predict(SENTENCE, "", 5, 3, 0.6, api_name="/beam_tree")
    (sentence,) = answer["sentences"]
    nodes = sentence["nodes"]
    assert answer["source"] == sentence["source"] == SENTENCE and sentence["beam_size"] == 5
    assert sentence["source_pieces"][-1] == "</s>"

    def ids(node):
        path = [node]
        while path[-1]["parent"] is not None:
            path.append(nodes[path[-1]["parent"]])
        return [n["token"] for n in reversed(path)]

    ends = sorted((n for n in nodes if n["rank"]), key=lambda n: n["rank"])
    assert [ids(n) for n in ends] == [h["ids"] for h in beam]
    assert [n["score"] for n in ends] == [h["score"] for h in beam]
    assert {n["status"] for n in nodes} == {"open", "finished", "dropped"}
    assert all(n["on_path"] for n in ends)


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
    [
        ("en-de", SENTENCE, "Pfeil"),
        ("de-en", "Klicken Sie auf den Pfeil neben dem Symbol.", "arrow"),
        ("en-fr", SENTENCE, "flèche"),
        ("en-zh", SENTENCE, "箭头"),
        ("en-de-luong", SENTENCE, "Pfeil"),
        ("en-de-noattn", SENTENCE, "Pfeil"),
    ],
)
def test_every_shipped_direction_through_the_api(client, direction, source, expected):
    assert expected in client.predict(source, direction, api_name="/translate")


@pytest.mark.parametrize("word", ["Military", "by", "S"])
def test_shipped_en_zh_answers_single_words_with_text(client, word):
    # Its most probable output for these was "▁ </s>" (nothing): EOS may not follow "▁".
    assert re.search(r"[\u4e00-\u9fff]", client.predict(word, "en-zh", api_name="/translate"))


def test_each_shipped_model_translates_its_examples():
    from seq2seq.translator import Translator
    from webapp.launcher import DEFAULT_MODELS
    from webapp.page import EXAMPLES

    for folder in DEFAULT_MODELS:
        translator = Translator.load(ROOT / folder, jit_compile=False)
        examples = EXAMPLES[translator.bundle.direction]
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
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/file=/etc/passwd",
        "/gradio_api/file=app.py",
        "/gradio_api/file=models/en-de/config.json",
        "/../../etc/passwd",
    ],
)
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


GENERIC = "upstream app raised an exception"


def raw_call(url: str, api: str, body: str) -> tuple[str, str]:
    """POST a hand-written JSON body (NaN, Infinity, too few values: what gradio_client
    will not send) to ``/gradio_api/call/<api>``; returns (event, data) of the answer."""
    request = urllib.request.Request(
        f"{url}/gradio_api/call/{api}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/{api}/{event_id}", timeout=120) as r:
        lines = r.read().decode().strip().split("\n")
    return lines[-2].removeprefix("event: "), lines[-1].removeprefix("data: ")


@pytest.mark.parametrize(
    "api, args, message",
    [
        ("/translate", (), "Type a sentence to translate."),
        ("/translate", (SENTENCE, "", "abc"), "beam_size must be a whole number, got 'abc'"),
        ("/translate", (SENTENCE, "", None), "beam_size must be a whole number, got None"),
        ("/translate", (SENTENCE, "", 2.5), "beam_size must be a whole number, got 2.5"),
        ("/translate", (SENTENCE, "", 5, "high"), "length_penalty must be a number, got 'high'"),
        ("/translate", (SENTENCE, "", 5, 1e308), "length_penalty must be a number between 0"),
        ("/translate", (SENTENCE, "", 5, -100), "length_penalty must be a number between 0"),
        ("/translate", (42,), "The text must be a string, got int."),
        ("/translate", (["a"],), "The text must be a string, got list."),
        ("/translate", ({"a": 1},), "The text must be a string, got dict."),
        ("/translate", (SENTENCE, "xx-yy"), "Unknown direction xx-yy. Available: en-de, de-en"),
        ("/translate", ("\u200b\ufeff",), "Type a sentence to translate."),
        ("/beam", (SENTENCE, "", 5, None), "n_best must be a whole number, got None"),
        ("/attention", ("\x01\x02\x03",), "Type a sentence to translate."),
        ("/attention", (SENTENCE, "", 5, 2.5), "rank must be a whole number, got 2.5."),
        ("/attention", (SENTENCE, "", 2, 3), "rank must be between 1 and 2, got 3."),
        ("/beam_tree", (SENTENCE, "", 11), "beam_size must be between 1 and 10, got 11"),
        ("/beam_tree", ("   ",), "Type a sentence to translate."),
    ],
)
def test_bad_parameters_get_a_clear_message_through_the_api(client, api, args, message):
    with pytest.raises(Exception) as error:
        client.predict(*args, api_name=api)
    assert type(error.value).__name__ == "AppError"
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize(
    "api, body, message",
    [
        ("translate", f'{{"data": ["{SENTENCE}", "", NaN, 0.6]}}', "beam_size must be a whole"),
        ("translate", f'{{"data": ["{SENTENCE}", "", 5, NaN]}}', "length_penalty must be a number"),
        ("beam", f'{{"data": ["{SENTENCE}", "", 5, 5, Infinity]}}', "length_penalty must be"),
        ("attention", f'{{"data": ["{SENTENCE}", "", 5, -Infinity]}}', "rank must be a whole"),
    ],
)
def test_values_gradio_client_will_not_send_get_a_clear_message(app_url, api, body, message):
    event, data = raw_call(app_url, api, body)
    assert event == "error" and json.loads(data)["error"].startswith(message), data


@pytest.mark.parametrize("api, body", [("translate", '{"data": []}'), ("beam", '{"data": [1]}')])
def test_too_few_values_get_gradios_own_error(app_url, api, body):
    """Gradio checks the number of values before the app sees them (the app does not
    override Gradio's internals): an error event, and the app answers the next call."""
    event, _ = raw_call(app_url, api, body)
    assert event == "error"
    event, data = raw_call(app_url, "translate", f'{{"data": ["{SENTENCE}", "", 1, 0.6]}}')
    assert event == "complete" and json.loads(data)[0], data


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(), st.integers(), max_size=1),
)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.one_of(st.sampled_from([SENTENCE, "Hello."]), ANY_VALUE),
    direction=st.one_of(st.sampled_from(["", "en-de", "de-en"]), ANY_VALUE),
    beam=st.one_of(st.integers(1, 4), ANY_VALUE),
    n_best=st.one_of(st.integers(1, 4), ANY_VALUE),
    alpha=st.one_of(st.floats(0, 2), ANY_VALUE),
)
def test_fuzz_api_parameters_never_get_the_generic_error(
    client, text, direction, beam, n_best, alpha
):
    try:
        answer = client.predict(text, direction, beam, n_best, alpha, api_name="/beam")
    except Exception as e:
        assert type(e).__name__ == "AppError" and str(e) and GENERIC not in str(e), repr(e)
        assert not str(e).startswith(("'", '"')), str(e)  # no message in literal quotes
        return
    json.dumps(answer, allow_nan=False)  # valid JSON: no NaN or Infinity


@pytest.mark.parametrize(
    "path, status",
    [
        ("/gradio_api/runs", 404),
        ("/monitoring", 403),
        ("/monitoring/summary", 403),
        ("/gradio_api/run-history/records", 404),
    ],
)
def test_unused_gradio_features_are_off(app_url, path, status):
    """No run history (it could write to the Hub with the server's token), no public
    monitoring summary."""
    assert get(app_url + path)[0] == status


def test_result_folder_is_deleted_at_exit(tmp_path_factory):
    temp = tmp_path_factory.mktemp("gradio-exit")
    url, proc = start_app(tmp_path_factory, "--model", "models/en-de", GRADIO_TEMP_DIR=str(temp))
    try:
        assert len(list(temp.glob("translator-results-*"))) == 1
        assert Client(url, verbose=False).predict(SENTENCE, api_name="/translate").strip()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) is not None
    assert list(temp.glob("translator-results-*")) == []


def launch_browser(playwright):
    assert Path(CHROMIUM).exists(), "browser tests need Debian's chromium: apt-get install chromium"
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    )


def heatmap_src(page) -> str:
    """The heat map the browser drew (its HTML), to see that it changed."""
    return page.locator("#heatmap").inner_html()


ERROR_BADGES = ".error, [data-testid=error], .toast-body.error"


def test_refused_requests_log_one_line_and_no_traceback(app_process, client):
    """50 refused requests (empty, too long, a bad beam size): the log has one line for
    each and not a single traceback."""
    url, proc = app_process
    before = proc.log.read_text()
    for i in range(50):
        args = [("", "", 5, None), ("x" * 2500, "", 5, None), ("Hello.", "", 99, None)][i % 3]
        with pytest.raises(Exception):  # noqa: B017 (gradio_client's own AppError)
            client.predict(*args, api_name="/translate")
    time.sleep(1)
    added = proc.log.read_text()[len(before) :]
    assert "Traceback" not in added
    assert added.count("refused:") == 50, added[-2000:]


def test_browser_plain_page_loads_without_errors_and_translates(app_url, tmp_path):
    """The page as every visitor first sees it (no query string): no error anywhere, and
    the controls that need a translation change nothing before one; then type, Enter."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(app_url)
        box = page.get_by_label("Source text")
        expect(box).to_be_visible(timeout=60_000)
        page.wait_for_timeout(3000)  # the load event has run (it used to fail)
        assert page.locator(ERROR_BADGES).count() == 0
        assert page.get_by_text("Error", exact=True).count() == 0
        page.locator("#word-level input").check()  # before any translation: no change
        page.get_by_label("Hide the source </s> column").check()
        page.wait_for_timeout(1500)
        assert page.get_by_text("Error", exact=True).count() == 0
        box.click()
        box.fill("Thank you very much for your help.")
        box.press("Enter")
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        assert page.locator("#best textarea").input_value().strip()
        assert page.get_by_text("Error", exact=True).count() == 0
        page.screenshot(
            path=os.environ.get("PLAIN_SCREENSHOT_PATH", str(tmp_path / "plain.png")),
            full_page=True,
        )
        browser.close()


def test_browser_two_quick_submits_show_the_second(app_url, client):
    """A long sentence, then 150 ms later a short one: the page ends on the short one's
    translation (the earlier run is not allowed to finish last and overwrite it)."""
    from playwright.sync_api import expect, sync_playwright

    long = (
        "My brother lives in a small house near the river and he works at the train "
        "station every day."
    )
    short = "Good morning."
    expected = client.predict(short, "", 5, None, api_name="/translate")
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(app_url)
        box = page.get_by_label("Source text")
        for _ in range(2):
            box.fill(long)
            box.press("Enter")
            page.wait_for_timeout(150)
            box.fill(short)
            box.press("Enter")
            expect(page.locator("#best textarea")).to_have_value(expected, timeout=60_000)
            page.wait_for_timeout(4000)  # long enough for a stale run to land after it
            assert page.locator("#best textarea").input_value() == expected
            assert box.input_value() == short
        browser.close()


def test_browser_markup_in_a_link_or_a_translation_stays_text(app_url):
    """HTML in a share link's text reaches the page only as text: the error toast (an
    over-long input quotes it) and the compare view contain no element from it."""
    from playwright.sync_api import expect, sync_playwright

    markup = "<a href=//127.0.0.1:9/x id=planted>Log in again</a><h1 id=planted-h1>HACKED</h1>"
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{app_url}/?text={quote(markup + ' ' + 'word ' * 300)}")
        expect(page.get_by_text("subword tokens; the limit is")).to_be_visible(timeout=60_000)
        assert page.locator("#planted, #planted-h1, a[href*='127.0.0.1:9']").count() == 0
        page.goto(f"{app_url}/?text={quote(markup)}")
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        page.locator("#compare-box").get_by_text("Compare attention mechanisms").click()
        page.locator("#compare-button").click()
        expect(page.locator("#compare-text-0")).to_contain_text("score", timeout=60_000)
        assert page.locator("#compare-box h1, #compare-box a, #planted, #planted-h1").count() == 0
        browser.close()


def test_browser_translate_select_candidate_and_deep_link(app_url, gradio_temp, tmp_path):
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
        expect(page.locator("#heatmap table.heatmap")).to_be_visible(timeout=30_000)
        best = page.locator("#best textarea").input_value()
        assert best and best in rows.nth(0).inner_text()
        first_map = heatmap_src(page)

        rows.nth(2).locator("[role=gridcell]").nth(1).click()
        page.wait_for_function(
            "html => document.querySelector('#heatmap').innerHTML !== html",
            arg=first_map,
            timeout=30_000,
        )
        assert heatmap_src(page) != first_map

        # Clicking an output piece shades the source by that piece's attention row.
        shading = page.locator("#source-tokens").inner_html()
        page.locator("#target-tokens .token").nth(3).click()
        page.wait_for_function(
            "html => document.querySelector('#source-tokens').innerHTML !== html",
            arg=shading,
            timeout=30_000,
        )
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
        # Result files are written once, into the app's one result folder, never copied.
        (folder,) = gradio_temp.glob("translator-results-*")
        written = list(gradio_temp.rglob("candidates.tsv"))
        assert written and all(path.is_relative_to(folder) for path in written)
        shot = os.environ.get("SCREENSHOT_PATH", str(tmp_path / "deep_link.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()


def test_browser_beam_tree_word_level_and_coverage(app_url, tmp_path):
    """Open the beam tree, hover over and click its nodes, switch to word level, and read
    the coverage and confidence warnings (this sentence's "Bahnstoff" is unsure)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1920, "height": 1700})  # the whole tree
        page.goto(app_url)
        box = page.get_by_label("Source text")
        box.fill("Please wait at the train station until the bus arrives.")
        box.press("Enter")
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        expect(page.locator("#coverage")).to_contain_text(
            "is unsure: the model gave", timeout=30_000
        )
        expect(page.locator("#coverage")).to_contain_text("Attention received per source word")

        page.locator("#tree-box").get_by_text("Beam search tree").click()
        tree = page.locator("#beam-tree svg.beam-tree")
        expect(tree).to_be_visible(timeout=60_000)
        assert tree.locator(".node").count() > 20
        expect(tree.locator("text", has_text="#1")).to_have_count(1)
        info = page.locator("#beam-tree .beam-tree-info")
        expect(info).to_contain_text("Hover over or click a node")
        tree.locator(".node").nth(3).hover()
        expect(info).to_contain_text("log-prob")
        best = page.locator("#best textarea").input_value()
        first = tree.locator(".node", has=page.locator("text", has_text="#1"))
        first.scroll_into_view_if_needed()
        before = tree.bounding_box()
        first.click()
        # The "continue from" button appears without moving the tree under the pointer
        # (a node hovered by the shift would overwrite the info line).
        assert tree.bounding_box() == before
        page.mouse.move(0, 0)  # the info stays
        expect(info).to_contain_text(f"“{best}</s>” · log-prob")
        expect(info).to_contain_text("finished, candidate 1")
        button, line = info.locator(".continue").bounding_box(), info.bounding_box()
        assert (
            line["y"] <= button["y"]
            and button["y"] + button["height"] <= line["y"] + line["height"]
        )

        pieces = page.locator("#target-tokens .token")
        count = pieces.count()
        first_map = heatmap_src(page)
        page.locator("#word-level input").check()
        expect(pieces).to_have_count(len(best.split()), timeout=30_000)
        assert len(best.split()) < count
        page.wait_for_function(
            "html => document.querySelector('#heatmap').innerHTML !== html",
            arg=first_map,
            timeout=30_000,
        )
        expect(page.locator("#source-tokens .token")).to_have_count(10)  # the source words
        first.click()  # the best candidate's prefix and score shown above the tree
        page.mouse.move(0, 0)
        shot = os.environ.get("TREE_SCREENSHOT_PATH", str(tmp_path / "beam_tree.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()


def test_browser_compare_attention_mechanisms(
    tmp_path_factory, tiny_model_dir, tiny_luong_dir, tmp_path
):
    """Two models of one direction (Bahdanau and Luong attention; tiny ones, so the test
    does not wait for the shipped pair): the compare view shows both side by side."""
    from playwright.sync_api import expect, sync_playwright

    url, proc = start_app(
        tmp_path_factory, "--model", str(tiny_model_dir[0]), "--model", str(tiny_luong_dir)
    )
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(url)
            box = page.get_by_label("Source text")
            box.fill("one two three four")
            box.press("Enter")
            expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
            page.locator("#compare-box").get_by_text("Compare attention mechanisms").click()
            page.locator("#compare-button").click()
            for i, formula in enumerate(["vᵀ tanh(W s + U hⱼ)", "sᵀ W hⱼ"]):
                expect(page.locator(f"#compare-text-{i}")).to_contain_text(formula, timeout=60_000)
                expect(page.locator(f"#compare-map-{i} table.heatmap")).to_be_visible(
                    timeout=30_000
                )
            assert "en-de-luong" in page.locator("#compare-text-1").inner_text()
            maps = [page.locator(f"#compare-map-{i} table.heatmap").inner_html() for i in range(2)]
            assert maps[0] != maps[1]
            shot = os.environ.get("COMPARE_SCREENSHOT_PATH", str(tmp_path / "compare.png"))
            page.locator("#compare-box").screenshot(path=shot)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_browser_chinese_heat_map_is_drawn_with_a_cjk_font(app_process, tmp_path):
    """en→zh from the page: the seeds' example sentence, Chinese output, a heat map whose
    labels the app draws with the CJK font it found at start (logged), word level."""
    from playwright.sync_api import expect, sync_playwright

    url, proc = app_process
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/?dir=en-zh&text={quote('Tom loves playing football.')}&n=3")
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        expect(page.get_by_label("Direction")).to_have_value("English → Chinese (en-zh)")
        example = page.get_by_text("The orcs are coming! We must defend the village.")
        expect(example).to_be_visible(timeout=30_000)  # the direction's own examples
        best = page.locator("#best textarea").input_value()
        assert re.search(r"[\u4e00-\u9fff]", best), best
        heatmap = page.locator("#heatmap table.heatmap")
        expect(heatmap).to_be_visible(timeout=30_000)
        labels = heatmap.locator("th.tgt").all_inner_texts()  # drawn in the visitor's fonts
        assert any(re.search(r"[\u4e00-\u9fff]", label) for label in labels), labels
        page.locator("#word-level input").check()  # Chinese pieces are words of their own
        eos = page.locator("#target-tokens .token", has_text="</s>")
        expect(eos).to_have_count(0, timeout=30_000)  # words: </s> is no unit
        words = page.locator("#target-tokens .token").all_inner_texts()
        assert "".join(w.strip() for w in words) == best.replace(" ", "")
        assert len(words) > 1
        shot = os.environ.get("CHINESE_SCREENSHOT_PATH", str(tmp_path / "chinese.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()
    log = proc.log.read_text()
    assert re.search(
        r"Chinese labels in heat maps \(the PNG downloads\): font (Noto Sans CJK|WenQuanYi)", log
    ), log[-2000:]


def test_browser_what_if_rivals_arithmetic_and_scoring(app_url, tmp_path):
    """The questions a visitor asks of a translation: hover over and click a heat-map cell
    (its weight, then how its row was computed), click an output piece (the model's
    rivals), pick a rival (every candidate continues from it), and score a translation of
    one's own against the beam."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(app_url)
        box = page.get_by_label("Source text")
        box.fill("Where is the train station?")
        box.press("Enter")
        expect(page.locator("#candidates div[role=row]")).to_have_count(3, timeout=60_000)
        cells = page.locator("#heatmap table.heatmap td")
        expect(cells.first).to_be_visible(timeout=30_000)
        cells.nth(1).hover()
        expect(page.locator("#heatmap .heatmap-info")).to_contain_text("←")
        cells.nth(2).click()
        expect(page.locator("#explain")).to_contain_text(
            "vᵀ tanh(W s_i + U h_j + b)", timeout=30_000
        )
        expect(page.locator("#explain")).to_contain_text("output piece 1")

        expect(page.locator("#rivals")).to_contain_text("rivals at piece 1")  # the cell's row
        page.locator("#target-tokens .token").nth(1).click()
        expect(page.locator("#rivals")).to_contain_text("rivals at piece 2", timeout=30_000)
        labels = page.locator("#rivals label").all_inner_texts()
        assert len(labels) >= 2 and sum("(chosen)" in x for x in labels) == 1, labels
        other = next(i for i, x in enumerate(labels) if "(chosen)" not in x)
        rival = labels[other].split("p=")[0].strip()
        best = page.locator("#best textarea").input_value()
        page.locator("#rivals label").nth(other).click()
        expect(page.locator("#best textarea")).not_to_have_value(best, timeout=60_000)
        forced = page.locator("#best textarea").input_value()
        assert rival.replace("␣", "") in forced, (rival, forced)

        page.locator("#reference textarea").fill("Wo ist der Bahnhof?")
        page.locator("#score-button").click()
        expect(page.locator("#candidates")).to_contain_text("yours (", timeout=60_000)
        expect(page.locator("#coverage")).to_contain_text("Your translation scores")

        page.locator("#tree-box").get_by_text("Beam search tree").click()
        tree = page.locator("#beam-tree svg.beam-tree")
        expect(tree).to_be_visible(timeout=60_000)
        tree.locator(".node").nth(3).click()
        button = page.locator("#beam-tree .continue")
        expect(button).to_be_visible()
        prefix = button.inner_text().split("“")[1].split("”")[0].replace("</s>", "").strip()
        button.click()  # the search again, from the clicked node's prefix
        expect(page.locator("#best textarea")).to_have_value(
            re.compile("^" + re.escape(prefix)), timeout=60_000
        )
        assert page.locator(ERROR_BADGES).count() == 0
        shot = os.environ.get("WHAT_IF_SCREENSHOT_PATH", str(tmp_path / "what_if.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()
