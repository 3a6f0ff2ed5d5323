"""The Gradio demo: translations, beam candidates and their attention maps.

``python app.py [--model DIR ...] [--host H] [--port P] [--share] [--max-input-chars N]
[--concurrency N] [--max-queue N]``

Top to bottom: :class:`Demo` (what one request does: check the input, call the library
once, write the result files), :func:`layout` (the widgets, no behaviour), :class:`Events`
(the UI's handlers; each returns ``{widget: value}``) and :func:`wire`, then :func:`main`
(load the models, start serving, warm up in the background). Nothing runs at import:
models load in :func:`main` (or by whoever calls :func:`build_demo`).

Not for: decoding, scoring or drawing (see :mod:`seq2seq.translator`, :mod:`seq2seq.views`).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import html
import inspect
import json
import logging
import math
import numbers
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gradio as gr  # noqa: E402
from gradio.utils import get_upload_folder  # noqa: E402

from seq2seq import tree_view, views  # noqa: E402
from seq2seq.bundle import EVAL_FILE  # noqa: E402
from seq2seq.compiled import default_cache_dir, use_disk_cache  # noqa: E402
from seq2seq.options import MAX_BEAM, PRECISIONS, DecodeOptions  # noqa: E402
from seq2seq.tokenizer import has_visible  # noqa: E402
from seq2seq.translator import Translation, Translator, split_sentences  # noqa: E402

log = logging.getLogger("app")
DEFAULT_MODELS = [
    "models/en-de", "models/de-en", "models/en-fr", "models/en-zh", "models/en-de-luong",
]  # fmt: skip
# Source widths (subword tokens) compiled with XLA after start, for one sentence at beam 1,
# 2-5 and 6-10: sentences up to ~70 words. Every graph costs ~20 MB and is shared by the
# models of one shape (the five shipped models: ~1.61 GB resident after warm-up); longer or
# multi-sentence requests run in the shape-agnostic graph.
WARM_WIDTHS = (8, 16, 24, 32, 48, 64, 96)
# The beam tree (recorded while the page shows it) is compiled for beam sizes 1-5 (one
# graph per warm width); beam 6-10 trees run in the shape-agnostic graph.
WARM_TREES = (5,)
# A second model of a direction (a rival for the compare view, e.g. models/en-de-luong) has
# graphs of its own: it is warmed at the default beam size only (8 graphs, ~160 MB, instead
# of 31, ~600 MB); its other beam sizes and its beam trees run in the shape-agnostic graphs.
RIVAL_BEAMS = (5,)
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "zh": "Chinese"}
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
    "en-zh": [
        "Tom loves playing football.",  # the example of the tutorials this app grew from
        "Click the arrow next to the icon to open the toolbar.",
        "Do you want to save the changes to this document?",
        "The orcs are coming! We must defend the village.",
        "Thank you very much for your help.",
    ],
}
EMPTY_INPUT = "Type a sentence to translate."
EMPTY_OUTPUT = "The model's translation of this input is empty."
NO_UPLOAD = "Upload a .txt file with one sentence per line."
MAX_RESULT_BYTES = 5_000_000  # what one request may produce (downloads, API answers)
RESULT_MAX_AGE = 3600.0  # seconds a result file stays downloadable
SESSION_MAX_AGE = 1800.0  # seconds a session keeps its result and upload in memory
MAX_SESSIONS = 200  # sessions whose page state the server keeps (the oldest go first)
CSS = """
#best textarea { font-size: 1.5rem !important; line-height: 1.4; font-weight: 600; }
#heatmap { overflow: auto; }
"""
TREE_HINT = "Translate a sentence to see how the beam search found its candidates."


# --- input checks ----------------------------------------------------------------


def refuse(message: str) -> gr.Error:
    """A refusal with a user-facing ``message``: logged as one line (no traceback: a
    refused request is no fault of the server), shown as text (HTML-escaped: messages can
    quote the visitor's input, and Gradio renders a toast's message as HTML)."""
    log.info("refused: %s", message[:300])
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def visible(text) -> str:
    """``text`` stripped, or "" when it has nothing to translate (the library's one
    definition, :func:`seq2seq.tokenizer.has_visible`: the model would invent text for
    it)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise refuse(f"The text must be a string, got {type(text).__name__}.")
    return text.strip() if has_visible(text) else ""


def whole_number(name: str, value) -> int:
    """``value`` as an int; bools, text, fractions, NaN and inf get a clear message."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real or not math.isfinite(value) or value != int(value):
        raise refuse(f"{name} must be a whole number, got {value!r}.")
    return int(value)


def decode_options(beam, n_best, alpha, default: DecodeOptions) -> DecodeOptions:
    """Validated decode options (a bad value gets the library's message); ``alpha`` None:
    ``default``'s (the model's own); ``n_best`` is capped at the beam size, since the
    page's two sliders move independently."""
    try:
        options = default.replace(beam_size=beam).with_length_penalty(alpha)
        n_best = DecodeOptions(beam_size=MAX_BEAM, n_best=n_best).n_best
    except ValueError as e:
        raise refuse(str(e)) from None
    return options.replace(n_best=min(n_best, options.beam_size))


def split_lines(data: bytes) -> list[str]:
    """The lines of an uploaded file: split on "\\n" only, a trailing "\\r" dropped, so
    U+2028, U+0085, form feeds and the like stay inside their line; a final "\\n" ends
    the last line. Non-UTF-8 input is refused, naming the line and the byte."""
    raw = data.split(b"\n")
    if raw[-1] == b"":
        raw.pop()
    lines = []
    for number, line in enumerate(raw, 1):
        try:
            lines.append(line.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as e:
            raise refuse(
                f"The file is not UTF-8 text: line {number}, byte {e.start + 1} of that line "
                f"({e.reason})."
            ) from None
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def batch_status(count: int, failed: dict[int, str]) -> str:
    """E.g. "12 lines translated." or "12 lines: 10 translated, 2 left empty (…)"."""
    if not failed:
        return f"{count} lines translated."
    numbers_ = sorted(failed)
    shown = ", ".join(map(str, numbers_[:20])) + (", …" if len(numbers_) > 20 else "")
    first = numbers_[0]
    return (
        f"{count} lines: {count - len(failed)} translated, {len(failed)} left empty "
        f"(could not be translated): line {shown}. Line {first}: {failed[first]}."
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


# --- result files ------------------------------------------------------------------


class ResultFolder:
    """The app's one folder for result files (downloads, batch outputs).

    It lies inside Gradio's upload folder, so Gradio serves these files as they are
    (no second copy in its cache). Each request writes into a new subfolder with a random
    name; subfolders older than ``max_age`` seconds are deleted whenever a new one is made,
    and the whole folder at exit (:meth:`close`, also registered with :mod:`atexit`).
    """

    def __init__(self, max_age: float = RESULT_MAX_AGE, parent: str | Path | None = None):
        parent = Path(parent or get_upload_folder())
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="translator-results-", dir=parent))
        self.max_age = max_age
        atexit.register(self.close)

    def write(self, files: dict[str, str]) -> list[str]:
        """Write ``{file name: text}`` (UTF-8) into a new subfolder; returns their paths."""
        self.sweep()
        folder = Path(tempfile.mkdtemp(dir=self.path))
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
        return [str(folder / name) for name in files]

    def sweep(self, now: float | None = None) -> None:
        """Delete the subfolders older than ``max_age``."""
        now = time.time() if now is None else now
        for folder in list(self.path.iterdir()):
            try:
                stale = now - folder.stat().st_mtime > self.max_age
            except FileNotFoundError:  # another request swept it
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --- what one request does ---------------------------------------------------------


class Upload(NamedTuple):
    """A file a visitor uploaded, read into memory (at most the page's 2 MB limit) and
    kept in their session only: a request can translate its own upload and no other
    file."""

    name: str
    data: bytes


def direction_label(translator: Translator, key: str = "") -> str:
    """``English → German (en-de)``; a rival model of a direction shows its own key and
    attention: ``English → German (en-de-luong, luong_general attention)``."""
    c = translator.model.model_config
    src, tgt = LANGUAGES.get(c.src_lang, c.src_lang), LANGUAGES.get(c.tgt_lang, c.tgt_lang)
    code = translator.bundle.direction
    if key and key != code:
        return f"{src} → {tgt} ({key}, {c.attention} attention)"
    return f"{src} → {tgt} ({code})"


def evaluation_of(translator: Translator) -> dict | None:
    path = Path(translator.bundle.path) / EVAL_FILE
    return json.loads(path.read_text()) if path.is_file() else None


class Demo:
    """What each request does, bound to the loaded translators (no globals, no widgets).

    Args:
        translators: by key (:func:`model_key`: the direction code, ``en-de``, or a rival
            model's own key, ``en-de-luong``); the first is the default.
        max_input_chars: longest text accepted per request (and per line of a file).
        results: where result files go (a new :class:`ResultFolder` if None).
        max_result_bytes: the most one request may produce (downloads, an API answer).
        concurrency: requests decoded at once, over all endpoints and the page together.
    """

    def __init__(
        self,
        translators: dict[str, Translator],
        max_input_chars: int = 2000,
        results: ResultFolder | None = None,
        max_result_bytes: int = MAX_RESULT_BYTES,
        concurrency: int = 2,
    ):
        self.translators, self.max_input_chars = translators, max_input_chars
        self.results = results or ResultFolder()
        self.max_result_bytes = max_result_bytes
        # One limit for the whole process: every request, whatever its endpoint, decodes
        # only while it holds one of these.
        self.decoding = threading.BoundedSemaphore(concurrency)
        self.codes = {direction_label(t, code): code for code, t in translators.items()}

    def translator(self, direction) -> Translator:
        """By code (``en-de``) or label; "" or None is the default direction."""
        if direction in ("", None):
            return next(iter(self.translators.values()))
        if isinstance(direction, str):
            code = self.codes.get(direction, direction)
            if code in self.translators:
                return self.translators[code]
        available = ", ".join(self.translators)
        raise refuse(f"Unknown direction {direction}. Available: {available}.")

    def default_alpha(self, direction) -> float:
        """The length penalty of ``direction``'s model (its folder's own, see
        :meth:`DecodeOptions.for_model`)."""
        return self.translator(direction).default_options.length_penalty

    def source_text(self, text) -> str:
        text = visible(text)
        if not text:
            raise refuse(EMPTY_INPUT)
        if len(text) > self.max_input_chars:
            raise refuse(
                f"The input has {len(text)} characters; the limit is {self.max_input_chars}."
            )
        return text

    def translation(self, text, direction, beam, n_best, alpha, tree=False) -> Translation:
        """One library call (``tree``: recording each sentence's beam tree); every refusal
        becomes a clear ``gr.Error``."""
        text = self.source_text(text)
        translator = self.translator(direction)
        options = decode_options(beam, n_best, alpha, translator.default_options)
        try:
            with self.decoding:
                result = translator.translate([text], options, tree=tree)[0]
        except ValueError as e:  # the library's caps (e.g. a sentence of too many tokens)
            raise refuse(str(e)) from None
        if not result.hypotheses:  # nothing left after the library's normalisation
            raise refuse(EMPTY_INPUT)
        return result

    def rivals(self, direction) -> list[str]:
        """Keys of every model of ``direction``'s language pair, the selected one first."""
        chosen = self.translator(direction)
        code = chosen.bundle.direction
        keys = [k for k, t in self.translators.items() if t.bundle.direction == code]
        return sorted(keys, key=lambda k: self.translators[k] is not chosen)

    def comparison(self, text, direction, beam, alpha) -> list[tuple[str, Translation]]:
        """``text`` translated by every model of the direction's pair (the selected one
        first): (model key, its translation) each, same beam size and length penalty."""
        return [
            (key, self.translation(text, key, beam, 1, alpha)) for key in self.rivals(direction)
        ]

    def check_answer_size(self, text, direction, beam, what: str) -> None:
        """Refuse before decoding an answer sure to be over the size limit, estimated
        from the source's subword tokens (``n`` per sentence, ``N`` in all): the attention
        matrix of the best candidate (``what="attention"``) has about ``N × N`` numbers
        of 5 bytes, the beam tree (``"tree"``) about ``n`` steps per sentence of
        ``max(2 × beam, 10)`` nodes of 160 bytes. Four fifths of that is the bound: below
        every real answer measured on the shipped en-de model (beam 1-10, 1-60 sentences:
        0.15-0.9 of the real size), so what would fit is never refused early."""
        text = self.source_text(text)
        translator = self.translator(direction)
        beam = decode_options(beam, 1, None, translator.default_options).beam_size
        sizes = [len(ids) + 1 for ids in translator.tokenizer.encode_batch(split_sentences(text))]
        if what == "attention":
            estimate = sum(sizes) ** 2 * 5
        else:
            estimate = sum(n * max(2 * beam, 10) * 160 for n in sizes)
        name = {"attention": "The attention matrix", "tree": "The beam tree"}[what]
        self.check_size(int(0.8 * estimate), f"{name} of this input (estimated before decoding)")

    def over_limit(self, size: int, what: str) -> str:
        """Why ``what`` of ``size`` bytes may not be produced ("" if it may)."""
        if size <= self.max_result_bytes:
            return ""
        return (f"{what} would be {megabytes(size)}; the limit is "
                f"{megabytes(self.max_result_bytes)} per request.")  # fmt: skip

    def check_size(self, size: int, what: str) -> None:
        if reason := self.over_limit(size, what):
            raise refuse(f"{reason} Send less text.")

    def export_files(self, result: Translation, word_level=False) -> tuple[list[str], str]:
        """The downloads of ``result`` (alignments of pieces, or of words with
        ``word_level``) and a note ("" if none): an attention export over the size limit
        is left out, and the note says why."""
        attention, note = views.attention_json(result), ""
        files = {"candidates.tsv": views.nbest_tsv(result), "attention.json": attention,
                 "alignment.pharaoh": views.pharaoh_text(result, word_level)}  # fmt: skip
        # Not a refusal (the request is answered without this one file): nothing is logged.
        if reason := self.over_limit(len(attention.encode("utf-8")), "The attention export"):
            note = f"{reason} Send less text. It is not offered for download."
            del files["attention.json"]
        return self.results.write(files), note

    def translate_lines(self, translator, lines, options) -> tuple[list[str], dict[int, str]]:
        """The best translation of each line ("" for blank ones) and, by line number, why a
        line was left empty (over the app's length limit or the library's token cap)."""
        limit = self.max_input_chars
        failed = {n: f"over {limit} characters" for n, x in enumerate(lines, 1) if len(x) > limit}
        todo = [n for n, x in enumerate(lines, 1) if n not in failed and visible(x)]
        done = translator.translate([lines[n - 1] for n in todo], options, errors="empty")
        out = [""] * len(lines)
        for n, translation in zip(todo, done):
            if translation.error:
                failed[n] = translation.error
            out[n - 1] = translation.best
        return out, failed

    def take_upload(self, path) -> Upload:
        """Read a file Gradio's upload just wrote and delete it (uploads are not kept on
        disk; the session keeps the bytes, see :class:`Upload`). The app's own result
        files are never read this way."""
        if not path:
            raise refuse(NO_UPLOAD)
        path = Path(path).resolve()
        if path.is_relative_to(self.results.path.resolve()) or not path.is_file():
            raise refuse("That file is not an upload of this page: upload the file again.")
        try:
            data = path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
        return Upload(path.name, data)

    def translate_file(self, upload: Upload | None, direction, beam, alpha) -> tuple[str, str]:
        """Translate an upload line by line; returns (output file, status)."""
        if not isinstance(upload, Upload):
            raise refuse(NO_UPLOAD)
        lines = split_lines(upload.data)
        translator = self.translator(direction)
        options = decode_options(beam, 1, alpha, translator.default_options)
        out, failed = self.translate_lines(translator, lines, options)
        text = "".join(x + "\n" for x in out)
        self.check_size(len(text.encode("utf-8")), "The translated file")
        target = self.results.write({f"{Path(upload.name).stem}.translated.txt": text})[0]
        return target, batch_status(len(lines), failed)

    # --- API endpoints (argument order is part of the API) -------------------------

    def api_translate(
        self,
        text: str = "",
        direction: str = "",
        beam_size: int = 5,
        length_penalty: float | None = None,
    ) -> str:
        """The best translation of ``text`` (``length_penalty`` None: the model's own)."""
        best = self.translation(text, direction, beam_size, 1, length_penalty).best
        if not best:
            raise refuse(EMPTY_OUTPUT)
        return best

    def api_beam(
        self,
        text: str = "",
        direction: str = "",
        beam_size: int = 5,
        n_best: int = 5,
        length_penalty: float | None = None,
    ) -> dict:
        """Beam candidates with scores (best first; ``length_penalty`` None: the model's
        own)."""
        result = self.translation(text, direction, beam_size, n_best, length_penalty)
        return views.json_safe(result.to_dict(attention=False))

    def api_attention(
        self, text: str = "", direction: str = "", beam_size: int = 5, rank: int = 1
    ) -> dict:
        """Source and output tokens of candidate ``rank`` and its attention matrix."""
        rank = whole_number("rank", rank)
        self.check_answer_size(text, direction, beam_size, "attention")
        result = self.translation(text, direction, beam_size, MAX_BEAM, None)
        if not 1 <= rank <= len(result.hypotheses):
            raise refuse(f"rank must be between 1 and {len(result.hypotheses)}, got {rank}.")
        hyp = result.hypotheses[rank - 1]
        src, tgt, matrix = views.attention_matrix(result, hyp)
        answer = views.json_safe({"text": hyp.text, "source_tokens": src, "target_tokens": tgt,
                                  "attention": matrix.round(5).tolist()})  # fmt: skip
        self.check_size(len(json.dumps(answer)), "The attention matrix")
        return answer

    def api_beam_tree(
        self,
        text: str = "",
        direction: str = "",
        beam_size: int = 5,
        n_best: int = 5,
        length_penalty: float | None = None,
    ) -> dict:
        """The beam search's tree of each sentence: every candidate it ranked at every
        step (parent, token, piece, log-prob, score, open/finished/dropped, rank if
        returned, on a returned path or not); ``length_penalty`` None: the model's own."""
        self.check_answer_size(text, direction, beam_size, "tree")
        result = self.translation(text, direction, beam_size, n_best, length_penalty, tree=True)
        sentences = [{"source": s.source, "source_pieces": s.source_pieces, **s.tree.to_dict()}
                     for s in result.sentences if s.tree is not None]  # fmt: skip
        answer = views.json_safe({"source": result.source, "sentences": sentences})
        self.check_size(len(json.dumps(answer)), "The beam tree")
        return answer


# --- page links ----------------------------------------------------------------------


class Prefill(NamedTuple):
    text: str
    direction: str
    beam: int
    n_best: int
    alpha: float


def share_link(request, text, beam, n_best, alpha, direction) -> str:
    """A URL that reopens the page with this input and runs it."""
    headers = getattr(request, "headers", None) or {}
    base = (headers.get("referer") or "").split("?")[0]
    query = {"text": text, "beam": int(beam), "n": int(n_best), "lp": alpha, "dir": direction}
    return f"{base}?{urlencode(query)}"


def from_query(demo: Demo, request: gr.Request | None) -> Prefill:
    """The inputs of ``?text=…&beam=…&n=…&lp=…&dir=…`` (out-of-range values clamped)."""
    params = dict(request.query_params) if request else {}

    def number(key, default, low, high):
        try:
            value = float(params.get(key, default))
        except ValueError:
            return default
        return min(max(value, low), high) if math.isfinite(value) else default

    direction = params.get("dir", "")
    direction = direction if direction in demo.translators else next(iter(demo.translators))
    return Prefill(
        text=params.get("text", ""),
        direction=direction,
        beam=int(number("beam", 5, 1, MAX_BEAM)),
        n_best=int(number("n", 3, 1, MAX_BEAM)),
        alpha=number("lp", demo.default_alpha(direction), 0.0, 2.0),
    )


# --- the page ------------------------------------------------------------------------


@dataclass
class Widgets:
    """Every widget an event reads or writes (built by :func:`layout`)."""

    text: gr.Textbox
    reference: gr.Textbox
    direction: gr.Dropdown
    beam: gr.Slider
    n_best: gr.Slider
    alpha: gr.Slider
    button: gr.Button
    best: gr.Textbox
    table: gr.Dataframe
    heatmap: gr.Plot
    hide_eos: gr.Checkbox
    word_level: gr.Checkbox
    target_tokens: gr.HighlightedText
    source_tokens: gr.HighlightedText
    coverage: gr.Markdown
    tree_box: gr.Accordion
    tree: gr.HTML
    files: gr.File
    link: gr.Textbox
    examples: gr.Examples
    upload: gr.File
    batch_button: gr.Button
    batch_out: gr.File
    batch_status: gr.Markdown
    info: gr.Markdown
    compare_button: gr.Button | None  # None when no direction has a second model
    compare_slots: list  # (gr.Markdown, gr.Plot) per model of a direction, side by side
    upload_data: gr.State  # the session's Upload, or None
    result: gr.State  # the shown Translation
    selected: gr.State  # the candidate whose attention is shown
    tree_open: gr.State  # whether the beam tree is shown (then translations record it)

    def attention_views(self) -> list:
        """What the selected candidate's attention shows."""
        return [self.heatmap, self.target_tokens, self.source_tokens, self.coverage]

    def views(self) -> list:
        """What a new or re-ranked result updates."""
        return [self.best, self.table, *self.attention_views(), self.tree, self.files,
                self.result, self.selected]  # fmt: skip


def _input_widgets(demo: Demo) -> dict:
    first = next(iter(demo.translators))
    examples = EXAMPLES.get(first, [])
    choices = [(direction_label(t, code), code) for code, t in demo.translators.items()]
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=examples[0] if examples else "",
                label="Source text (Enter translates, Shift+Enter starts a new line)",
                lines=1,
                max_lines=8,
                max_length=demo.max_input_chars,
            )
            reference = gr.Textbox(
                label="Reference translation (optional: scores each "
                "candidate with sentence BLEU and chrF)"
            )
        with gr.Column(scale=2):
            direction = gr.Dropdown(choices, value=first, label="Direction")
            beam = gr.Slider(1, MAX_BEAM, value=5, step=1, label="Beam size")
            n_best = gr.Slider(1, MAX_BEAM, value=3, step=1, label="Candidates shown")
            alpha = gr.Slider(
                0.0, 2.0, value=demo.default_alpha(first), step=0.1,
                label="Length penalty α (re-ranks without decoding)",
                info="Starts at the model's own, chosen on its dev split",
            )  # fmt: skip
            button = gr.Button("Translate", variant="primary")
    return dict(text=text, reference=reference, direction=direction, beam=beam,
                n_best=n_best, alpha=alpha, button=button)  # fmt: skip


def _output_widgets() -> dict:
    best = gr.Textbox(
        label="Translation", elem_id="best", lines=2, interactive=False, buttons=["copy"]
    )
    table = gr.Dataframe(headers=views.CANDIDATE_HEADERS, interactive=False,
                         label="Beam candidates (click a row to see its attention)",
                         elem_id="candidates")  # fmt: skip
    with gr.Row():
        with gr.Column(scale=3):
            heatmap = gr.Plot(label="Attention of the selected candidate", elem_id="heatmap")
            with gr.Row():
                hide_eos = gr.Checkbox(label="Hide the source </s> column (renormalise rows)")
                word_level = gr.Checkbox(
                    label="Word level: merge subword pieces into words (source pieces summed, "
                    "output pieces averaged; </s> left out), also in the alignment download",
                    elem_id="word-level",
                )
        with gr.Column(scale=2):
            target_tokens = gr.HighlightedText(
                label="Output pieces (or words), shaded by the model's probability: click one",
                elem_id="target-tokens", show_legend=False, combine_adjacent=False,
            )  # fmt: skip
            source_tokens = gr.HighlightedText(
                label="Source pieces (or words) shaded by attention "
                "(of the clicked output piece; the average before a click)",
                elem_id="source-tokens", show_legend=False, combine_adjacent=False,
            )  # fmt: skip
            coverage = gr.Markdown(elem_id="coverage")
            files = gr.File(label="Downloads: n-best TSV, attention JSON, Pharaoh alignments",
                            file_count="multiple", interactive=False)  # fmt: skip
            link = gr.Textbox(label="Link to this result", elem_id="share-link",
                              buttons=["copy"], interactive=False)  # fmt: skip
    with gr.Accordion("Beam search tree: every candidate of every step", open=False,
                      elem_id="tree-box") as tree_box:  # fmt: skip
        tree = gr.HTML(TREE_HINT, elem_id="beam-tree", js_on_load=tree_view.SCRIPT)
    return dict(best=best, table=table, heatmap=heatmap, hide_eos=hide_eos,
                word_level=word_level, target_tokens=target_tokens, source_tokens=source_tokens,
                coverage=coverage, tree_box=tree_box, tree=tree, files=files,
                link=link)  # fmt: skip


def _compare_widgets(demo: Demo) -> dict:
    """Side by side: the selected direction's models (e.g. Bahdanau and Luong attention)
    on the same sentence. Only when some direction has more than one model."""
    most = max(len(demo.rivals(key)) for key in demo.translators)
    if most < 2:
        return dict(compare_button=None, compare_slots=[])
    with gr.Accordion("Compare attention mechanisms: every model of this direction on the "
                      "same sentence", open=False, elem_id="compare-box"):  # fmt: skip
        compare_button = gr.Button("Compare", elem_id="compare-button")
        slots = []
        with gr.Row():
            for i in range(most):
                with gr.Column(min_width=320):
                    summary = gr.Markdown(elem_id=f"compare-text-{i}")
                    slots.append((summary, gr.Plot(show_label=False, elem_id=f"compare-map-{i}")))
    return dict(compare_button=compare_button, compare_slots=slots)


def _more_widgets(demo: Demo, text: gr.Textbox, errors) -> dict:
    first = next(iter(demo.translators.values()))
    examples = gr.Examples(
        examples=[[e] for e in EXAMPLES.get(first.bundle.direction, [])],
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
        gr.Markdown("**Models that could not be loaded** (not offered):\n"
                    + "\n".join(f"- {e}" for e in errors), elem_id="load-errors")  # fmt: skip
    return dict(examples=examples, upload=upload, batch_button=batch_button,
                batch_out=batch_out, batch_status=batch_status, info=info)  # fmt: skip


def layout(demo: Demo, errors=()) -> Widgets:
    """The page's widgets (call inside ``gr.Blocks``); no events."""
    gr.Markdown(
        "# Attention translator\nAn RNN encoder–decoder with attention, trained on "
        "human translations. See the beam search's candidates and where each output "
        "piece looked in the source."
    )
    inputs = _input_widgets(demo)
    outputs = _output_widgets()
    compare = _compare_widgets(demo)
    more = _more_widgets(demo, inputs["text"], errors)
    return Widgets(**inputs, **outputs, **compare, **more,
                   upload_data=gr.State(None, time_to_live=SESSION_MAX_AGE),
                   result=gr.State(None, time_to_live=SESSION_MAX_AGE),
                   selected=gr.State(0), tree_open=gr.State(False))  # fmt: skip


def unchanged(widget) -> dict:
    """A handler's answer that changes nothing (Gradio needs at least one entry)."""
    return {widget: gr.skip()}


class Events:
    """The page's handlers: each takes widget values and returns ``{widget: new value}``
    (widgets left out keep their value)."""

    def __init__(self, demo: Demo, widgets: Widgets):
        self.demo, self.w = demo, widgets

    def attention(self, result: Translation, selected: int, hide_eos: bool,
                  word_level: bool) -> dict:  # fmt: skip
        """Heat map, token shading and coverage of candidate ``selected``."""
        w = self.w
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, tgt, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
        sure = views.token_probabilities(hyp.pieces, hyp.token_log_probs, word_level)
        unit = "words" if word_level else "pieces"
        return {
            w.heatmap: views.attention_figure(src, tgt, matrix, f"candidate {selected + 1}", unit),
            w.target_tokens: sure,
            w.source_tokens: views.token_shading(src, matrix.mean(axis=0)),
            w.coverage: views.coverage_markdown(result, hyp),
        }

    def render(self, result: Translation, reference: str, hide_eos: bool,
               word_level: bool) -> dict:  # fmt: skip
        """Every view of a new (or re-ranked) result, its first candidate selected."""
        w = self.w
        headers, rows = views.candidate_rows(result, reference or "")
        files, note = self.demo.export_files(result, word_level)
        if note:
            gr.Warning(note)
        if not result.best:
            gr.Warning(EMPTY_OUTPUT)
        tree = tree_view.trees_html(result) or TREE_HINT
        return {w.best: result.best, w.table: gr.Dataframe(value=rows, headers=headers),
                **self.attention(result, 0, hide_eos, word_level), w.tree: tree,
                w.files: files, w.result: result, w.selected: 0}  # fmt: skip

    def translate(self, text, direction, beam, n_best, alpha, reference, hide_eos, word_level,
                  tree_open, request: gr.Request):  # fmt: skip
        result = self.demo.translation(text, direction, beam, n_best, alpha, tree=tree_open)
        link = share_link(request, text, beam, n_best, alpha, direction)
        return {**self.render(result, reference, hide_eos, word_level), self.w.link: link}

    def open_tree(self, text, direction, beam, n_best, alpha, reference, hide_eos, word_level,
                  result, request: gr.Request):  # fmt: skip
        """The tree is shown: translate again, recording it, if the result has none."""
        opened = {self.w.tree_open: True}
        if result is None or any(s.tree for s in result.sentences):
            return opened
        args = (text, direction, beam, n_best, alpha, reference, hide_eos, word_level)
        return {**self.translate(*args, True, request), **opened}

    def close_tree(self):
        return {self.w.tree_open: False}

    def rerank(self, result, alpha, reference, hide_eos, word_level):
        if result is None:
            return unchanged(self.w.result)
        alpha = decode_options(1, 1, alpha, DecodeOptions()).length_penalty
        return self.render(result.rerank(alpha), reference, hide_eos, word_level)

    def select_candidate(self, result, hide_eos, word_level, evt: gr.SelectData):
        if result is None:
            return unchanged(self.w.selected)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)
        return {**self.attention(result, row, hide_eos, word_level), self.w.selected: row}

    def select_token(self, result, selected, hide_eos, word_level, evt: gr.SelectData):
        if result is None:
            return unchanged(self.w.source_tokens)
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, _, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
        row = min(int(evt.index), matrix.shape[0] - 1)
        return {self.w.source_tokens: views.token_shading(src, matrix[row])}

    def redraw(self, result, selected, hide_eos, word_level):
        if result is None:
            return unchanged(self.w.heatmap)
        return self.attention(result, selected, hide_eos, word_level)

    def change_level(self, result, selected, hide_eos, word_level):
        """Word level on or off: the attention views and the alignment download follow."""
        if result is None:
            return unchanged(self.w.heatmap)
        files, _ = self.demo.export_files(result, word_level)
        return {**self.attention(result, selected, hide_eos, word_level), self.w.files: files}

    def compare(self, text, direction, beam, alpha, hide_eos, word_level):
        """Each model's best translation, scores and attention map, side by side."""
        rows = self.demo.comparison(text, direction, beam, alpha)
        unit = "words" if word_level else "pieces"
        out = {}
        for i, (text_box, plot) in enumerate(self.w.compare_slots):
            if i >= len(rows):
                out[text_box], out[plot] = gr.Markdown(visible=False), gr.Plot(visible=False)
                continue
            key, result = rows[i]
            translator, hyp = self.demo.translators[key], result.hypotheses[0]
            src, tgt, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
            summary = views.rival_markdown(key, translator.bundle, evaluation_of(translator), hyp)
            out[text_box] = gr.Markdown(summary, visible=True)
            out[plot] = gr.Plot(views.attention_figure(src, tgt, matrix, key, unit), visible=True)
        return out

    def take_upload(self, path):
        """A new upload: read into the session (the file itself is deleted), or cleared."""
        upload = self.demo.take_upload(path) if path else None
        return {self.w.upload_data: upload, self.w.batch_status: ""}

    def translate_file(self, upload, direction, beam, alpha):
        target, status = self.demo.translate_file(upload, direction, beam, alpha)
        return {self.w.batch_out: target, self.w.batch_status: status}

    def change_direction(self, direction):
        translator = self.demo.translator(direction)
        samples = [[e] for e in EXAMPLES.get(translator.bundle.direction, [])]
        info = views.model_markdown(translator.bundle, evaluation_of(translator))
        return {self.w.examples.dataset: gr.Dataset(samples=samples), self.w.info: info}

    def load(self, request: gr.Request):
        """Prefill from the page's query string and translate it, if it names a text."""
        w, p = self.w, from_query(self.demo, request)
        if not p.text:
            return unchanged(w.result)
        values = {w.text: p.text, w.direction: p.direction, w.beam: p.beam,
                  w.n_best: p.n_best, w.alpha: p.alpha}  # fmt: skip
        return {**values, **self.translate(*p, "", False, False, False, request)}


def wire(blocks: gr.Blocks, w: Widgets, events: Events) -> None:
    """Connect the widgets to :class:`Events` (none of these is part of the API)."""
    hidden = {"api_visibility": "private"}
    inputs = [w.text, w.direction, w.beam, w.n_best, w.alpha, w.reference, w.hide_eos,
              w.word_level]  # fmt: skip
    outputs = [*w.views(), w.link]
    translate = [*inputs, w.tree_open]
    # One event for both triggers; a second submit while the first decodes runs after it
    # ("always_last": only the latest waits), so the page ends on the input it shows.
    gr.on([w.button.click, w.text.submit], events.translate, translate, outputs,
          api_name="ui_translate", trigger_mode="always_last", **hidden)  # fmt: skip
    w.tree_box.expand(events.open_tree, [*inputs, w.result], [*outputs, w.tree_open], **hidden)
    w.tree_box.collapse(events.close_tree, None, [w.tree_open], **hidden)
    reranked = [w.result, w.alpha, w.reference, w.hide_eos, w.word_level]
    w.alpha.release(events.rerank, reranked, w.views(), **hidden)
    shown = [w.result, w.selected, w.hide_eos, w.word_level]
    attention = w.attention_views()
    w.table.select(events.select_candidate, [w.result, w.hide_eos, w.word_level],
                   [*attention, w.selected], **hidden)  # fmt: skip
    w.target_tokens.select(events.select_token, shown, [w.source_tokens], **hidden)
    w.hide_eos.input(events.redraw, shown, attention, **hidden)
    w.word_level.input(events.change_level, shown, [*attention, w.files], **hidden)
    w.upload.change(events.take_upload, [w.upload], [w.upload_data, w.batch_status], **hidden)
    batch = [w.upload_data, w.direction, w.beam, w.alpha]
    w.batch_button.click(events.translate_file, batch, [w.batch_out, w.batch_status], **hidden)
    if w.compare_button is not None:
        compared = [w.text, w.direction, w.beam, w.alpha, w.hide_eos, w.word_level]
        slots = [widget for slot in w.compare_slots for widget in slot]
        w.compare_button.click(events.compare, compared, slots, **hidden)
    examples = [w.examples.dataset, w.info]
    w.direction.change(events.change_direction, [w.direction], examples, **hidden)
    # Only a visitor's choice resets α: a shared link's direction keeps its own α.
    w.direction.input(events.demo.default_alpha, [w.direction], [w.alpha], **hidden)
    prefilled = [w.text, w.direction, w.beam, w.n_best, w.alpha]
    blocks.load(events.load, None, [*prefilled, *outputs], **hidden)


class Blocks(gr.Blocks):
    """``gr.Blocks`` whose answer to a call with too few values names the endpoint's
    parameters (Gradio's own answer is a generic "upstream app raised an exception")."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) < len(block_fn.inputs):
            names = [p for p in inspect.signature(block_fn.fn).parameters if p != "request"]
            raise refuse(
                f"/{block_fn.api_name} takes {len(block_fn.inputs)} values "
                f"({', '.join(names)}); got {len(inputs)}."
            )
        super().validate_inputs(block_fn, inputs)


def build_demo(
    translators: dict[str, Translator],
    max_input_chars: int = 2000,
    errors=(),
    results: ResultFolder | None = None,
    concurrency: int = 2,
) -> gr.Blocks:
    """The page and the API (``/translate``, ``/beam``, ``/attention``, ``/beam_tree``) for
    ``translators`` (by direction code, the default first); ``concurrency``: requests
    decoded at once, all endpoints together."""
    demo = Demo(translators, max_input_chars, results, concurrency=concurrency)
    # Gradio's own cache (uploads) is emptied of files older than an hour.
    with Blocks(title="Attention translator", analytics_enabled=False,
                   delete_cache=(600, 3600)) as blocks:  # fmt: skip
        # The API first: its names are taken before the page's events are named.
        gr.api(demo.api_translate, api_name="translate")
        gr.api(demo.api_beam, api_name="beam")
        gr.api(demo.api_attention, api_name="attention")
        gr.api(demo.api_beam_tree, api_name="beam_tree")
        widgets = layout(demo, errors)
        wire(blocks, widgets, Events(demo, widgets))
    return blocks


# --- start ---------------------------------------------------------------------------


def load_translators(
    specs: list[str], precision: str = "float32"
) -> tuple[dict[str, Translator], list[str]]:
    """Load every model named (to compute in ``precision``). The first is the default: if
    it cannot be loaded the app refuses to start (rather than serve something else); a
    broken extra model is skipped and reported. Returns (translators by direction code,
    error messages)."""
    translators, errors = {}, []
    for i, spec in enumerate(specs):
        try:
            # A server never waits on the compiler: shapes not warmed up yet (or never:
            # see WARM_WIDTHS) run in the search's shape-agnostic graph.
            translator = Translator.load(spec, on_demand=False, precision=precision)
        except Exception as e:  # a broken model must not take the others down
            if i == 0:
                raise SystemExit(f"cannot load the default model {spec}: {e}") from None
            errors.append(f"{spec}: {e}")
            log.error("cannot load model %s", errors[-1])
            continue
        translators[model_key(spec, translator, translators)] = translator
    return translators, errors


def model_key(spec: str, translator: Translator, taken) -> str:
    """The key a model is offered under: its direction code (``en-de``) for the first model
    of a direction; for another (a rival to compare with) its folder or repo name when
    that starts with the code (``models/en-de-luong`` → ``en-de-luong``), else the code
    and its attention (``en-de-luong_general``), numbered if need be."""
    code = translator.bundle.direction
    if code not in taken:
        return code
    name = Path(spec.split("@")[0].rstrip("/")).name
    key = (
        name if name.startswith(f"{code}-") else f"{code}-{translator.model.model_config.attention}"
    )
    number = 2
    while key in taken:
        key, number = f"{key.rsplit('#', 1)[0]}#{number}", number + 1
    return key


def check_fonts(translators: dict[str, Translator]) -> None:
    """Log the font that draws Chinese labels, or warn that they would be empty boxes."""
    configs = [t.model.model_config for t in translators.values()]
    if not any("zh" in (c.src_lang, c.tgt_lang) for c in configs):
        return
    font = views.cjk_font()
    if font:
        log.info("Chinese labels in heat maps: font %s", font)
    else:
        log.warning("no font with Chinese glyphs found (Debian: fonts-wqy-microhei): Chinese "
                    "labels in heat maps will be drawn as empty boxes")  # fmt: skip


def limit_heap_growth() -> bool:
    """Make glibc give freed memory back, so that a server's resident size follows its
    load: the top of a heap is returned once 128 KiB of it are free, and at most 2 heaps
    (arenas) are shared by all threads instead of up to 8 per core. (By default glibc
    raises that trim threshold, up to 64 MiB, each time a large block is freed; fixing the
    mmap threshold at its maximum, 32 MiB, turns that off without moving the blocks of a
    search step into mappings of their own, which made each translation ~15 ms slower.)
    The README's reliability section has the soak figures. Returns whether it applied
    (False without glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # glibc's malloc.h
    settings = ((m_mmap_threshold, 32 << 20), (m_trim_threshold, 128 << 10), (m_arena_max, 2))
    return all(libc.mallopt(option, value) for option, value in settings)


def warm_up(translators: dict[str, Translator]) -> None:
    """Compile every shape each translator can be asked for (a rival only at the default
    beam, see :data:`RIVAL_BEAMS`); log what took how long (the library logs each graph as
    it compiles; this logs one summary per model)."""
    for code, translator in translators.items():
        start = time.perf_counter()
        rival = code != translator.bundle.direction
        beams, trees = (RIVAL_BEAMS, ()) if rival else ((1, 5, 10), WARM_TREES)
        try:
            compiled = translator.warm_up(rows=(1,), beams=beams, widths=WARM_WIDTHS, trees=trees)
        except Exception:  # a failed warm-up only costs speed: keep serving
            log.exception("warm-up of %s failed", code)
            continue
        slowest = max(compiled, key=lambda item: item[1], default=("nothing", 0.0))
        log.info("warm-up %s: %d graphs compiled in %.1f s (slowest: %s, %.1f s)", code,
                 len(compiled), time.perf_counter() - start, *slowest)  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
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
    parser.add_argument("--cache-dir", default=default_cache_dir(),
                        help="compiled search graphs kept on disk, so a restart loads instead "
                        "of compiling ('' = none; default %(default)s)")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=2,
                        help="requests decoded at once, all endpoints together")  # fmt: skip
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="how the models compute (mixed_bfloat16: bfloat16 matrix "
                        "products, float32 weights and scores)")  # fmt: skip
    parser.add_argument("--max-queue", type=int, default=64,
                        help="requests waiting at most; more are refused as busy")  # fmt: skip
    return parser.parse_args(argv)


def launch(blocks: gr.Blocks, args: argparse.Namespace) -> None:
    """Start serving and return (the caller blocks); Gradio features the app does not use
    are off: run history, the monitoring dashboard, MCP, footer links but the API's."""
    options = dict(server_name=args.host, server_port=args.port, css=CSS, max_file_size="2mb",
                   prevent_thread_lock=True, run_history=False, enable_monitoring=False,
                   mcp_server=False, footer_links=["api"],
                   state_session_capacity=MAX_SESSIONS)  # fmt: skip
    if args.share:
        try:
            blocks.launch(share=True, **options)
            return
        except Exception as e:  # offline: no share server can be reached
            log.error("could not create a share link (%s); serving locally only", e)
    blocks.launch(**options)


def _stop(signum, frame):
    raise KeyboardInterrupt  # Gradio's block_thread closes the server on it


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not limit_heap_growth():
        log.warning("not glibc: freed memory may stay with the process")
    use_disk_cache(args.cache_dir)  # before the first model loads (XLA reads it once)
    from_env = [m for m in os.environ.get("TRANSLATOR_MODELS", "").split(",") if m.strip()]
    translators, errors = load_translators(args.model or from_env or DEFAULT_MODELS, args.precision)
    check_fonts(translators)
    results = ResultFolder()
    blocks = build_demo(translators, args.max_input_chars, errors, results, args.concurrency)
    blocks.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
    signal.signal(signal.SIGTERM, _stop)
    try:
        launch(blocks, args)
        # Compile in the background: the first visitors are answered meanwhile.
        threading.Thread(target=warm_up, args=(translators,), name="warm-up", daemon=True).start()
        blocks.block_thread()
    finally:
        results.close()


if __name__ == "__main__":
    main()
