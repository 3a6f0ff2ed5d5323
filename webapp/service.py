"""What one request does, whichever way it came (the page or the API): check the input,
call the library once under the process's one decoding limit, write the result files.

Knows nothing of Gradio: a refusal is a :class:`~webapp.files.Refusal` whose message the
visitor reads (the page and the API log it, see :func:`webapp.events.answered`). The API's
answers are plain JSON-ready dicts.

Not for: decoding or drawing (see :mod:`seq2seq.translator`, :mod:`webapp.views`), widgets
(see :mod:`webapp.page`).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from seq2seq.bundle import read_evaluation
from seq2seq.config import attention_name
from seq2seq.options import MAX_BEAM, DecodeOptions, whole_number
from seq2seq.scoring import Scored
from seq2seq.tokenizer import has_visible
from seq2seq.translation import NO_ATTENTION
from seq2seq.translator import Translation, Translator, split_sentences
from webapp import views
from webapp.files import Refusal, ResultFolder, Upload, batch_status, megabytes, split_lines
from webapp.limits import CONCURRENCY, MAX_INPUT_CHARS, MAX_RESULT_BYTES

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "zh": "Chinese"}
EMPTY_INPUT = "Type a sentence to translate."
EMPTY_OUTPUT = "The model's translation of this input is empty."
NO_UPLOAD = "Upload a .txt file with one sentence per line."
NO_TRANSLATION = "Type the translation to score in the reference box."
MULTI_SENTENCE_STEPS = (
    "A step's rivals and arithmetic are shown for one sentence at a time: translate a "
    "single sentence to ask about its steps."
)
RIVALS = 5  # the model's most probable pieces shown at a step


def visible(text) -> str:
    """``text`` stripped, or "" when it has nothing to translate (the library's one
    definition, :func:`seq2seq.tokenizer.has_visible`: the model would invent text for
    it)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise Refusal(f"The text must be a string, got {type(text).__name__}.")
    return text.strip() if has_visible(text) else ""


def decode_options(beam, n_best, alpha, default: DecodeOptions) -> DecodeOptions:
    """Validated decode options (a bad value gets the library's message); ``alpha`` None:
    ``default``'s (the model's own); ``n_best`` is capped at the beam size, since the
    page's two sliders move independently."""
    try:
        options = default.replace(beam_size=beam).with_length_penalty(alpha)
        n_best = DecodeOptions(beam_size=MAX_BEAM, n_best=n_best).n_best
    except ValueError as e:
        raise Refusal(str(e)) from None
    return options.replace(n_best=min(n_best, options.beam_size))


def direction_label(translator: Translator, key: str = "") -> str:
    """``English → German (en-de)``; a rival model of a direction shows its own key and
    attention: ``English → German (en-de-luong, luong_general attention)``."""
    c = translator.model.model_config
    src, tgt = LANGUAGES.get(c.src_lang, c.src_lang), LANGUAGES.get(c.tgt_lang, c.tgt_lang)
    code = translator.bundle.direction
    if key and key != code:
        return f"{src} → {tgt} ({key}, {attention_name(c.attention)})"
    return f"{src} → {tgt} ({code})"


def evaluation_of(translator: Translator) -> dict | None:
    """The model folder's test scores (``eval.json``), if it has them."""
    return read_evaluation(translator.bundle.path)


class TranslationService:
    """What each request does, bound to the loaded translators (no globals, no widgets).

    Args:
        translators: by key (the direction code, ``en-de``, or a rival model's own key,
            ``en-de-luong``; see :func:`webapp.launcher.model_key`); the first is the
            default.
        results: where result files go.
        max_input_chars: longest text accepted per request (and per line of a file).
        max_result_bytes: the most one request may produce (downloads, an API answer).
        concurrency: requests decoded at once, over all endpoints and the page together.
    """

    def __init__(
        self,
        translators: dict[str, Translator],
        results: ResultFolder,
        max_input_chars: int = MAX_INPUT_CHARS,
        max_result_bytes: int = MAX_RESULT_BYTES,
        concurrency: int = CONCURRENCY,
    ):
        self.translators, self.results, self.concurrency = translators, results, concurrency
        self.max_input_chars, self.max_result_bytes = max_input_chars, max_result_bytes
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
        raise Refusal(f"Unknown direction {direction}. Available: {available}.")

    def key(self, direction) -> str:
        """The key of ``direction``'s model (as :meth:`translator` finds it)."""
        chosen = self.translator(direction)
        return next(k for k, t in self.translators.items() if t is chosen)

    def default_alpha(self, direction) -> float:
        """The length penalty of ``direction``'s model (its folder's own, see
        :meth:`DecodeOptions.for_model`)."""
        return self.translator(direction).default_options.length_penalty

    def source_text(self, text) -> str:
        text = visible(text)
        if not text:
            raise Refusal(EMPTY_INPUT)
        if len(text) > self.max_input_chars:
            raise Refusal(
                f"The input has {len(text)} characters; the limit is {self.max_input_chars}."
            )
        return text

    def translation(
        self, text, direction, beam, n_best, alpha, tree=False, answer: str = ""
    ) -> Translation:
        """One library call (``tree``: recording each sentence's beam tree); ``answer``
        ("attention" or "tree"): first refuse an input whose answer is sure to be too
        large (:meth:`check_answer_size`)."""
        text = self.source_text(text)
        translator = self.translator(direction)
        options = decode_options(beam, n_best, alpha, translator.default_options)
        if answer:
            self.check_answer_size(translator, text, options.beam_size, answer)
        try:
            with self.decoding:
                result = translator.translate([text], options, tree=tree)[0]
        except ValueError as e:  # the library's caps (e.g. a sentence of too many tokens)
            raise Refusal(str(e)) from None
        if not result.hypotheses:  # nothing left after the library's normalisation
            raise Refusal(EMPTY_INPUT)
        return result

    def scored(self, text, direction, translation, beam, alpha) -> Scored:
        """The model's score of a visitor's ``translation`` of ``text``, and where it ranks
        among the beam's candidates (all ``beam`` of them, under ``alpha``)."""
        text = self.source_text(text)
        given = visible(translation)
        if not given:
            raise Refusal(NO_TRANSLATION)
        if len(given) > self.max_input_chars:
            raise Refusal(
                f"The translation has {len(given)} characters; the limit is {self.max_input_chars}."
            )
        translator = self.translator(direction)
        options = decode_options(beam, MAX_BEAM, alpha, translator.default_options)
        try:
            with self.decoding:
                return translator.score([text], [given], options)[0]
        except ValueError as e:  # the library's caps
            raise Refusal(str(e)) from None

    def forced(self, text, direction, prefix, beam, n_best, alpha) -> Translation:
        """``text`` translated as one sentence whose candidates all start with ``prefix``
        (a target-side text, or piece ids from the page; empty: nothing forced)."""
        text = self.source_text(text)
        if prefix is None:
            prefix = ""
        if isinstance(prefix, str) and len(prefix) > self.max_input_chars:
            raise Refusal(
                f"The prefix has {len(prefix)} characters; the limit is {self.max_input_chars}."
            )
        if not isinstance(prefix, (str, list)):
            raise Refusal(f"The prefix must be a string, got {type(prefix).__name__}.")
        translator = self.translator(direction)
        options = decode_options(beam, n_best, alpha, translator.default_options)
        try:
            with self.decoding:
                result = translator.translate([text], options, prefixes=[prefix])[0]
        except ValueError as e:  # the library's caps (a prefix too long for the text)
            raise Refusal(str(e)) from None
        if not result.hypotheses:
            raise Refusal(EMPTY_INPUT)
        return result

    def inspect(self, direction, result: Translation, hyp, position: int) -> dict:
        """``Translator.inspect`` at output ``position`` of ``hyp``, a candidate of
        ``result`` (one sentence only) made by ``direction``'s model: the model's rivals
        there and, with attention, how its attention was computed."""
        if len(result.sentences) > 1:
            raise Refusal(MULTI_SENTENCE_STEPS)
        translator = self.translator(direction)
        with self.decoding:
            return translator.inspect(result.source_ids, hyp.ids, position, RIVALS)

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

    # --- sizes -------------------------------------------------------------------------

    def check_answer_size(self, translator: Translator, text: str, beam: int, what: str):
        """Refuse before decoding an answer sure to be over the size limit, estimated
        from the source's subword tokens (``n`` per sentence, ``N`` in all): the attention
        matrix of the best candidate (``what="attention"``) has about ``N × N`` numbers
        of 5 bytes, the beam tree (``"tree"``) about ``n`` steps per sentence of
        ``max(2 × beam, 10)`` nodes of 160 bytes. Four fifths of that is the bound: below
        every real answer measured on the shipped en-de model (beam 1-10, 1-60 sentences:
        0.15-0.9 of the real size), so what would fit is never refused early. ``text``
        and ``beam`` are :meth:`translation`'s, already checked."""
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
        limit = megabytes(self.max_result_bytes)
        return f"{what} would be {megabytes(size)}; the limit is {limit} per request."

    def check_size(self, size: int, what: str) -> None:
        if reason := self.over_limit(size, what):
            raise Refusal(f"{reason} Send less text.")

    # --- files -------------------------------------------------------------------------

    def export_files(self, result: Translation, word_level=False) -> tuple[list[str], str]:
        """The downloads of ``result`` (alignments of pieces, or of words with
        ``word_level``) and a note ("" if none): an attention export over the size limit
        is left out, and the note says why. A model without attention has neither the
        alignments nor the heat map (``attention.png``, the best candidate's): its
        ``attention.json`` holds the candidates only."""
        attention, note = views.attention_json(result), ""
        files = {"candidates.tsv": views.nbest_tsv(result), "attention.json": attention}
        if result.attends:
            files["alignment.pharaoh"] = views.pharaoh_text(result, word_level)
            files["attention.png"] = views.attention_png(result, word_level)
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
        with self.decoding:
            done = translator.translate([lines[n - 1] for n in todo], options, errors="empty")
        out = [""] * len(lines)
        for n, translation in zip(todo, done):
            if translation.error:
                failed[n] = translation.error
            out[n - 1] = translation.best
        return out, failed

    def take_upload(self, path) -> Upload:
        """Read a file the page's upload just wrote and delete it (uploads are not kept on
        disk; the session keeps the bytes, see :class:`Upload`). The app's own result
        files are never read this way."""
        if not path:
            raise Refusal(NO_UPLOAD)
        path = Path(path).resolve()
        if self.results.holds(path) or not path.is_file():
            raise Refusal("That file is not an upload of this page: upload the file again.")
        try:
            data = path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
        return Upload(path.name, data)

    def translate_file(self, upload: Upload | None, direction, beam, alpha) -> tuple[str, str]:
        """Translate an upload line by line; returns (output file, status)."""
        if not isinstance(upload, Upload):
            raise Refusal(NO_UPLOAD)
        lines = split_lines(upload.data)
        translator = self.translator(direction)
        options = decode_options(beam, 1, alpha, translator.default_options)
        out, failed = self.translate_lines(translator, lines, options)
        text = "".join(x + "\n" for x in out)
        self.check_size(len(text.encode("utf-8")), "The translated file")
        target = self.results.write({f"{Path(upload.name).stem}.translated.txt": text})[0]
        return target, batch_status(len(lines), failed)

    # --- API endpoints (argument order is part of the API) -------------------------------

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
            raise Refusal(EMPTY_OUTPUT)
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
        try:
            rank = whole_number("rank", rank, 1, MAX_BEAM)
        except ValueError as e:
            raise Refusal(f"{e}.") from None
        if not self.translator(direction).model.model_config.has_attention:
            raise Refusal(f"{NO_ATTENTION} Ask /beam for its translations.")
        result = self.translation(text, direction, beam_size, MAX_BEAM, None, answer="attention")
        if rank > len(result.hypotheses):
            raise Refusal(f"rank must be between 1 and {len(result.hypotheses)}, got {rank}.")
        hyp = result.hypotheses[rank - 1]
        src, tgt, matrix = views.attention_matrix(result, hyp)
        answer = {
            "text": hyp.text,
            "source_tokens": src,
            "target_tokens": tgt,
            "attention": matrix.round(5).tolist(),
        }
        answer = views.json_safe(answer)
        self.check_size(len(json.dumps(answer)), "The attention matrix")
        return answer

    def api_force(
        self,
        text: str = "",
        direction: str = "",
        prefix: str = "",
        beam_size: int = 5,
        n_best: int = 5,
        length_penalty: float | None = None,
    ) -> dict:
        """Beam candidates that all start with ``prefix`` (the text translated as one
        sentence; the prefix's log-probabilities count in the scores), the JSON of
        ``/beam``; ``length_penalty`` None: the model's own."""
        if not isinstance(prefix, str):
            raise Refusal(f"The prefix must be a string, got {type(prefix).__name__}.")
        result = self.forced(text, direction, prefix, beam_size, n_best, length_penalty)
        return views.json_safe(result.to_dict(attention=False))

    def api_score(
        self,
        text: str = "",
        direction: str = "",
        translation: str = "",
        beam_size: int = 5,
        length_penalty: float | None = None,
    ) -> dict:
        """The model's score of ``translation`` (length-normalised, comparable with
        ``/beam``'s at the same α; ``length_penalty`` None: the model's own), its
        log-probability, its rank among the beam's ``beam_size`` candidates (null: below
        them), each piece's log-prob beside the model's own best piece, and its attention."""
        scored = self.scored(text, direction, translation, beam_size, length_penalty)
        answer = views.json_safe(scored.to_dict())
        self.check_size(len(json.dumps(answer)), "The score")
        return answer

    def api_explain(
        self,
        text: str = "",
        direction: str = "",
        beam_size: int = 5,
        rank: int = 1,
        position: int = 0,
    ) -> dict:
        """How the attention of output piece ``position`` (0-based, as ``/attention``'s
        rows) of candidate ``rank`` was computed: the energy of each source piece, the
        softmax weights (that row of ``/attention``), the formula, the context's size
        and norm."""
        try:
            rank = whole_number("rank", rank, 1, MAX_BEAM)
            position = whole_number("position", position, 0, self.max_input_chars)
        except ValueError as e:
            raise Refusal(f"{e}.") from None
        translator = self.translator(direction)
        if not translator.model.model_config.has_attention:
            raise Refusal(f"{NO_ATTENTION} Ask /beam for its translations.")
        result = self.translation(text, direction, beam_size, MAX_BEAM, None, answer="attention")
        if rank > len(result.hypotheses):
            raise Refusal(f"rank must be between 1 and {len(result.hypotheses)}, got {rank}.")
        hyp = result.hypotheses[rank - 1]
        if position >= hyp.length:
            raise Refusal(f"position must be between 0 and {hyp.length - 1}, got {position}.")
        found = self.inspect(direction, result, hyp, position)
        kind = translator.model.model_config.attention
        answer = {
            "source_tokens": result.source_pieces,
            "target_token": hyp.pieces[position],
            "formula": f"{views.ENERGY_FORMULAS[kind]}; {views.SOFTMAX_FORMULA}",
            "context_size": found["context_size"],
            "context_norm": found["context_norm"],
            "energies": [round(x, 5) for x in found["energies"]],
            "weights": [round(x, 6) for x in found["weights"]],
        }
        return views.json_safe(answer)

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
        result = self.translation(
            text, direction, beam_size, n_best, length_penalty, tree=True, answer="tree"
        )
        sentences = [
            {"source": s.source, "source_pieces": s.source_pieces, **s.tree.to_dict()}
            for s in result.sentences
            if s.tree is not None
        ]
        answer = views.json_safe({"source": result.source, "sentences": sentences})
        self.check_size(len(json.dumps(answer)), "The beam tree")
        return answer
