"""The Gradio demo: translations, beam candidates and their attention maps.

``python app.py [--model DIR ...] [--host H] [--port P] [--share] [--max-input-chars N]``

Widgets and events only: every event calls one function of the library
(:class:`seq2seq.translator.Translator`, :mod:`seq2seq.views`). Nothing runs at import:
models load in :func:`main` (or by whoever calls :func:`build_demo`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gradio as gr  # noqa: E402

from seq2seq import views  # noqa: E402
from seq2seq.translator import Translation, Translator  # noqa: E402

log = logging.getLogger("app")
DEFAULT_MODELS = ["models/en-de", "models/de-en", "models/en-fr"]
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}
EXAMPLES = {
    "en-de": [
        "Click the arrow next to the icon to open the toolbar.",
        "Do you want to save the changes to this document?",
        "The orcs are coming! We must defend the village.",
        "My brother lives in a small house near the river.",
        "Thank you very much for your help.",
        "The quick brown fox jumps over the lazy dog.",
    ],
    "de-en": [
        "Klicken Sie auf den Pfeil neben dem Symbol, um die Symbolleiste zu öffnen.",
        "Möchten Sie die Änderungen an diesem Dokument speichern?",
        "Die Orks kommen! Wir müssen das Dorf verteidigen.",
        "Vielen Dank für Ihre Hilfe.",
        "Mein Bruder wohnt in einem kleinen Haus am Fluss.",
        "Ich habe keine Ahnung, wovon du redest.",
    ],
    "en-fr": [
        "Click the arrow next to the icon to open the toolbar.",
        "Do you want to save the changes to this document?",
        "The orcs are coming! We must defend the village.",
        "Thank you very much for your help.",
        "My brother lives in a small house near the river.",
        "The weather is nice today.",
    ],
}
# Sentences of the commonest source widths (16 and 24 pieces): XLA compiles each shape
# once (~2 s), so the default direction compiles these before the first visitor; other
# widths and directions compile on first use.
WARM_UP = [
    "Choose Format - Cells to change the font.",
    "The orcs are coming from the north, and we must defend the village until dawn.",
]
CSS = """
#best textarea { font-size: 1.5rem !important; line-height: 1.4; font-weight: 600; }
#heatmap { overflow: auto; }
"""


def direction_label(translator: Translator) -> str:
    c = translator.model.model_config
    src, tgt = LANGUAGES.get(c.src_lang, c.src_lang), LANGUAGES.get(c.tgt_lang, c.tgt_lang)
    return f"{src} → {tgt} ({c.src_lang}-{c.tgt_lang})"


def load_translators(specs: list[str]) -> tuple[dict[str, Translator], list[str]]:
    """Load every model named. The first is the default: if it cannot be loaded the app
    refuses to start (rather than serve something else); a broken extra model is
    skipped and reported. Returns (translators by label, error messages)."""
    translators, errors = {}, []
    for i, spec in enumerate(specs):
        try:
            translator = Translator.load(spec)
        except Exception as e:  # a broken model must not take the others down
            if i == 0:
                raise SystemExit(f"cannot load the default model {spec}: {e}") from None
            errors.append(f"{spec}: {e}")
            log.error("cannot load model %s", errors[-1])
            continue
        translators[direction_label(translator)] = translator
    return translators, errors


def evaluation_of(translator: Translator) -> dict | None:
    path = Path(translator.bundle.path) / "eval.json"
    return json.loads(path.read_text()) if path.is_file() else None


class Demo:
    """The app's event handlers, bound to the loaded translators (no globals)."""

    def __init__(self, translators: dict[str, Translator], max_input_chars: int = 2000):
        self.translators, self.max_input_chars = translators, max_input_chars

    def _translator(self, direction: str) -> Translator:
        """By label (``English → German (en-de)``) or code (``en-de``)."""
        for label, translator in self.translators.items():
            if direction in (label, translator.bundle.direction):
                return translator
        codes = ", ".join(t.bundle.direction for t in self.translators.values())
        raise gr.Error(f"Unknown direction {direction!r}; available: {codes}.")

    def _check(self, text: str) -> str:
        text = (text or "").strip()
        if not text:
            raise gr.Error("Type a sentence to translate.")
        if len(text) > self.max_input_chars:
            raise gr.Error(
                f"The input has {len(text)} characters; the limit is {self.max_input_chars}."
            )
        return text  # beam and candidate caps: the library's (see Translator._check)

    def translation(self, text, direction, beam, n_best, alpha) -> Translation:
        text = self._check(text)
        beam, n_best = int(beam), int(n_best)
        try:
            return self._translator(direction).translate(
                [text], beam_size=beam, n_best=min(n_best, beam), length_penalty=float(alpha)
            )[0]
        except ValueError as e:  # the library's caps (e.g. a sentence of too many tokens)
            raise gr.Error(str(e)) from None

    # --- UI events --------------------------------------------------------------

    def translate(
        self, text, direction, beam, n_best, alpha, reference, hide_eos, request: gr.Request
    ):
        result = self.translation(text, direction, beam, n_best, alpha)
        link = share_link(request, text, beam, n_best, alpha, direction)
        return (*self.render(result, reference, hide_eos, 0), result, 0, link)

    def rerank(self, result, alpha, reference, hide_eos):
        if result is None:
            return (gr.skip(),) * 8 + (None,)
        result = result.rerank(float(alpha))
        return (*self.render(result, reference, hide_eos, 0), result)

    def render(self, result: Translation, reference: str, hide_eos: bool, selected: int):
        headers, rows = views.candidate_rows(result, reference or "")
        table = gr.Dataframe(value=rows, headers=headers)
        heatmap, target, source = self.attention_views(result, selected, hide_eos)
        files = self.export_files(result)
        return result.best, table, heatmap, target, source, files, selected, hide_eos

    def attention_views(self, result: Translation, selected: int, hide_eos: bool):
        if not result.hypotheses:
            return None, [], []
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, tgt, matrix = views.attention_matrix(result, hyp, hide_eos)
        figure = views.attention_figure(src, tgt, matrix, f"candidate {selected + 1}")
        target = views.token_probabilities(tgt, hyp.token_log_probs)
        source = views.token_shading(src, matrix.mean(axis=0))
        return figure, target, source

    def select_candidate(self, result, hide_eos, evt: gr.SelectData):
        if result is None:
            return gr.skip(), gr.skip(), gr.skip(), 0
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)
        return (*self.attention_views(result, row, hide_eos), row)

    def select_token(self, result, selected, hide_eos, evt: gr.SelectData):
        if result is None or not result.hypotheses:
            return gr.skip()
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, _, matrix = views.attention_matrix(result, hyp, hide_eos)
        row = min(int(evt.index), matrix.shape[0] - 1)
        return views.token_shading(src, matrix[row])

    def redraw(self, result, selected, hide_eos):
        if result is None:
            return gr.skip(), gr.skip(), gr.skip()
        return self.attention_views(result, selected, hide_eos)

    def export_files(self, result: Translation) -> list[str]:
        folder = Path(tempfile.mkdtemp(prefix="translation-"))
        files = {
            "candidates.tsv": views.nbest_tsv(result),
            "attention.json": views.attention_json(result),
            "alignment.pharaoh": views.pharaoh_text(result),
        }
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
        return [str(folder / name) for name in files]

    def translate_file(self, path, direction, beam, alpha, progress=gr.Progress()):  # noqa: B008 (Gradio idiom)
        if not path:
            raise gr.Error("Upload a .txt file with one sentence per line.")
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise gr.Error(f"The file is not UTF-8 text ({e.reason} at byte {e.start}).") from None
        finally:
            Path(path).unlink(missing_ok=True)  # uploads are not kept
        translator, out = self._translator(direction), []
        chunk = 64
        for start in progress.tqdm(range(0, len(lines), chunk), desc="translating"):
            part = lines[start : start + chunk]
            for line in part:
                if len(line) > self.max_input_chars:
                    raise gr.Error(
                        f"Line {start + part.index(line) + 1} is over the limit of "
                        f"{self.max_input_chars} characters."
                    )
            texts = [x for x in part if x.strip()]
            try:
                done = iter(
                    translator.translate_texts(
                        texts, beam_size=int(beam), length_penalty=float(alpha)
                    )
                )
            except ValueError as e:
                raise gr.Error(f"Lines {start + 1}-{start + len(part)}: {e}") from None
            out += [next(done) if x.strip() else "" for x in part]
        target = Path(tempfile.mkdtemp(prefix="batch-")) / f"{Path(path).stem}.translated.txt"
        target.write_text("".join(x + "\n" for x in out), encoding="utf-8")
        return str(target), f"{len(lines)} lines translated."

    # --- API endpoints ---------------------------------------------------------

    def api_translate(
        self, text: str, direction: str = "", beam_size: int = 5, length_penalty: float = 0.6
    ) -> str:
        """The best translation of ``text``."""
        direction = direction or next(iter(self.translators))
        return self.translation(text, direction, beam_size, 1, length_penalty).best

    def api_beam(
        self,
        text: str,
        direction: str = "",
        beam_size: int = 5,
        n_best: int = 5,
        length_penalty: float = 0.6,
    ) -> dict:
        """Beam candidates with scores (best first)."""
        direction = direction or next(iter(self.translators))
        result = self.translation(text, direction, beam_size, n_best, length_penalty)
        return result.to_dict(attention=False)

    def api_attention(
        self, text: str, direction: str = "", beam_size: int = 5, rank: int = 1
    ) -> dict:
        """Source and output tokens of candidate ``rank`` and its attention matrix."""
        direction = direction or next(iter(self.translators))
        result = self.translation(text, direction, beam_size, beam_size, 0.6)
        if not 1 <= rank <= len(result.hypotheses):
            raise gr.Error(f"rank must be between 1 and {len(result.hypotheses)}")
        hyp = result.hypotheses[rank - 1]
        src, tgt, matrix = views.attention_matrix(result, hyp)
        return {
            "text": hyp.text,
            "source_tokens": src,
            "target_tokens": tgt,
            "attention": matrix.round(5).tolist(),
        }


def share_link(request, text, beam, n_best, alpha, direction) -> str:
    """A URL that reopens the page with this input and runs it."""
    headers = getattr(request, "headers", None) or {}
    base = (headers.get("referer") or "").split("?")[0]
    query = urlencode(
        {
            "text": text,
            "beam": int(beam),
            "n": int(n_best),
            "lp": alpha,
            "dir": direction.split("(")[-1].rstrip(")"),
        }
    )
    return f"{base}?{query}"


def from_query(demo: Demo, request: gr.Request):
    """Prefill the inputs from ``?text=…&beam=…&n=…&lp=…&dir=…``."""
    params = dict(request.query_params) if request else {}
    direction = next(iter(demo.translators))
    for label in demo.translators:
        if params.get("dir") and label.endswith(f"({params['dir']})"):
            direction = label

    def number(key, default, kind):
        try:
            return kind(params.get(key, default))
        except ValueError:
            return default

    return (
        params.get("text", ""),
        direction,
        max(1, min(10, number("beam", 5, int))),
        max(1, min(10, number("n", 3, int))),
        number("lp", 0.6, float),
    )


def build_demo(
    translators: dict[str, Translator], max_input_chars: int = 2000, errors: list[str] = ()
) -> gr.Blocks:
    demo_state = Demo(translators, max_input_chars)
    directions = list(translators)
    first = translators[directions[0]]
    first_key = first.bundle.direction
    examples = EXAMPLES.get(first_key, [])

    # Result files (downloads, batch outputs) are deleted after an hour.
    with gr.Blocks(
        title="Attention translator", analytics_enabled=False, delete_cache=(600, 3600)
    ) as demo:
        gr.Markdown(
            "# Attention translator\nAn RNN encoder–decoder with attention, trained on "
            "human translations. See the beam search's candidates and where each output "
            "piece looked in the source."
        )
        result_state, selected_state = gr.State(None), gr.State(0)
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    value=examples[0] if examples else "",
                    label="Source text (Enter translates, Shift+Enter starts a new line)",
                    lines=1,
                    max_lines=8,
                    max_length=max_input_chars,
                )
                reference = gr.Textbox(
                    label="Reference translation (optional: scores each "
                    "candidate with sentence BLEU and chrF)"
                )
            with gr.Column(scale=2):
                direction = gr.Dropdown(directions, value=directions[0], label="Direction")
                beam = gr.Slider(1, 10, value=5, step=1, label="Beam size")
                n_best = gr.Slider(1, 10, value=3, step=1, label="Candidates shown")
                alpha = gr.Slider(
                    0.0,
                    2.0,
                    value=0.6,
                    step=0.1,
                    label="Length penalty α (re-ranks without decoding)",
                )
                button = gr.Button("Translate", variant="primary")
        best = gr.Textbox(
            label="Translation", elem_id="best", lines=2, interactive=False, buttons=["copy"]
        )
        table = gr.Dataframe(
            headers=views.CANDIDATE_HEADERS,
            label="Beam candidates (click a row to see its attention)",
            interactive=False,
            elem_id="candidates",
        )
        with gr.Row():
            with gr.Column(scale=3):
                heatmap = gr.Plot(label="Attention of the selected candidate", elem_id="heatmap")
                hide_eos = gr.Checkbox(label="Hide the source </s> column (renormalise rows)")
            with gr.Column(scale=2):
                target_tokens = gr.HighlightedText(
                    label="Output pieces, shaded by the model's probability: click one",
                    elem_id="target-tokens",
                    show_legend=False,
                    combine_adjacent=False,
                )
                source_tokens = gr.HighlightedText(
                    label="Source pieces shaded by attention "
                    "(of the clicked output piece; the average before a click)",
                    elem_id="source-tokens",
                    show_legend=False,
                    combine_adjacent=False,
                )
                files = gr.File(
                    label="Downloads: n-best TSV, attention JSON, Pharaoh alignments",
                    file_count="multiple",
                    interactive=False,
                )
                link = gr.Textbox(
                    label="Link to this result",
                    elem_id="share-link",
                    buttons=["copy"],
                    interactive=False,
                )
        example_box = gr.Examples(
            examples=[[e] for e in examples],
            inputs=[text],
            label="Examples (the model at its best and at its limits)",
        )
        with gr.Accordion("Translate a file", open=False):
            upload = gr.File(label="A .txt file, one sentence per line", file_types=[".txt"])
            batch_button = gr.Button("Translate file")
            batch_out = gr.File(label="Translations", interactive=False)
            batch_status = gr.Markdown()
        with gr.Accordion("About the model", open=False):
            info = gr.Markdown(views.model_markdown(first.bundle, evaluation_of(first)))
        if errors:
            gr.Markdown(
                "**Models that could not be loaded** (not offered):\n"
                + "\n".join(f"- {e}" for e in errors),
                elem_id="load-errors",
            )

        views_out = [
            best,
            table,
            heatmap,
            target_tokens,
            source_tokens,
            files,
            selected_state,
            hide_eos,
        ]
        inputs = [text, direction, beam, n_best, alpha, reference, hide_eos]
        run = dict(
            fn=demo_state.translate,
            inputs=inputs,
            outputs=[*views_out, result_state, selected_state, link],
            api_name="ui_translate",
            api_visibility="private",
        )
        button.click(**run)
        text.submit(**run)
        alpha.release(
            demo_state.rerank,
            [result_state, alpha, reference, hide_eos],
            [*views_out, result_state],
            api_visibility="private",
        )
        table.select(
            demo_state.select_candidate,
            [result_state, hide_eos],
            [heatmap, target_tokens, source_tokens, selected_state],
            api_visibility="private",
        )
        target_tokens.select(
            demo_state.select_token,
            [result_state, selected_state, hide_eos],
            [source_tokens],
            api_visibility="private",
        )
        hide_eos.input(
            demo_state.redraw,
            [result_state, selected_state, hide_eos],
            [heatmap, target_tokens, source_tokens],
            api_visibility="private",
        )
        batch_button.click(
            demo_state.translate_file,
            [upload, direction, beam, alpha],
            [batch_out, batch_status],
            api_visibility="private",
        )

        def on_direction(label):
            t = translators[label]
            samples = [[e] for e in EXAMPLES.get(t.bundle.direction, [])]
            return gr.Dataset(samples=samples), views.model_markdown(t.bundle, evaluation_of(t))

        direction.change(
            on_direction, [direction], [example_box.dataset, info], api_visibility="private"
        )

        def on_load(request: gr.Request):
            prefill = from_query(demo_state, request)
            if not prefill[0]:
                return [gr.skip()] * (5 + len(views_out) + 3)
            out = demo_state.translate(*prefill, "", False, request)
            return (*prefill, *out)

        demo.load(
            on_load,
            None,
            [text, direction, beam, n_best, alpha, *views_out, result_state, selected_state, link],
            api_visibility="private",
        )

        gr.api(demo_state.api_translate, api_name="translate")
        gr.api(demo_state.api_beam, api_name="beam")
        gr.api(demo_state.api_attention, api_name="attention")
    return demo


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument(
        "--model",
        action="append",
        help="model folder or Hub repo USER/NAME[@REVISION] (repeatable; default: "
        "$TRANSLATOR_MODELS, comma-separated, else the bundled models)",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument("--max-input-chars", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2, help="requests decoded at once")
    parser.add_argument("--max-queue", type=int, default=64,
                        help="requests waiting at most; more are refused as busy")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from_env = [m for m in os.environ.get("TRANSLATOR_MODELS", "").split(",") if m.strip()]
    translators, errors = load_translators(args.model or from_env or DEFAULT_MODELS)
    default = next(iter(translators.values()))  # others compile on first use
    for sentence in WARM_UP:
        default.translate([sentence], beam_size=5, n_best=3, split=False)
    demo = build_demo(translators, args.max_input_chars, errors)
    demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
    launch = dict(server_name=args.host, server_port=args.port, css=CSS, max_file_size="2mb")
    if args.share:
        try:
            demo.launch(share=True, **launch)
            return
        except Exception as e:  # offline: no share server can be reached
            log.error("could not create a share link (%s); serving locally only", e)
    demo.launch(**launch)


if __name__ == "__main__":
    main()
