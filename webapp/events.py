"""The page's behaviour and the API: handlers, wired to the widgets by name.

Every handler of :class:`Events` names the widgets it reads as its parameters (the field
names of :class:`~webapp.page.Widgets`; ``request`` and ``evt`` are Gradio's), so
:func:`wire` passes exactly those, by keyword; each returns ``{widget: new value}``
(widgets left out keep their value). A :class:`~webapp.files.Refusal` from the service
becomes a logged ``gr.Error`` here, in one place (:func:`answered`).

Not for: what a request does (see :mod:`webapp.service`) or the widgets (see
:mod:`webapp.page`).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import inspect
import logging

import gradio as gr
from gradio.utils import get_upload_folder

from seq2seq.options import DecodeOptions
from seq2seq.tokenizer import EOS
from seq2seq.translation import NO_ATTENTION
from seq2seq.translator import Translation, Translator
from webapp import tree_view, views
from webapp.files import Refusal, ResultFolder
from webapp.heatmap_view import heatmap_html
from webapp.limits import CONCURRENCY, MAX_INPUT_CHARS
from webapp.links import from_query, share_link
from webapp.page import EXAMPLES, EXPLAIN_HINT, RIVALS_HINT, TREE_HINT, Widgets, layout
from webapp.service import EMPTY_OUTPUT, TranslationService, decode_options, evaluation_of

log = logging.getLogger("app")
GRADIO_PARAMETERS = ("request", "evt")  # what Gradio passes itself, not widget values
DECODING = "decoding"  # Gradio's one queue of every event that decodes


def answered(fn):
    """``fn`` with its refusals shown to the visitor: as text (HTML-escaped: messages can
    quote the input, and Gradio renders a toast's message as HTML), with no traceback, and
    logged as one line (a refused request is no fault of the server)."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Refusal as e:
            log.info("refused: %s", str(e)[:300])
            raise gr.Error(html.escape(str(e), quote=False), print_exception=False) from None

    return call


def unchanged(widget) -> dict:
    """A handler's answer that changes nothing (Gradio needs at least one entry)."""
    return {widget: gr.skip()}


class Events:
    """The page's handlers: each takes widget values by the widgets' names and returns
    ``{widget: new value}``."""

    def __init__(self, service: TranslationService, widgets: Widgets):
        self.service, self.w = service, widgets

    def attention(
        self, result: Translation, selected: int, hide_eos: bool, word_level: bool, title=""
    ):
        """Heat map, token shading and coverage of candidate ``selected`` (a model without
        attention: no heat map, unshaded source, and the coverage note says why); ``title``:
        the heat map's, by default "Attention of candidate N"."""
        w = self.w
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, tgt, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
        sure = views.token_probabilities(hyp.pieces, hyp.token_log_probs, word_level)
        unit = "words" if word_level else "pieces"
        title = title or f"Attention of candidate {selected + 1}"
        drawn = heatmap_html(src, tgt, matrix, title, unit) if result.attends else ""
        return {
            w.heatmap: gr.HTML(drawn, visible=result.attends),
            w.target_tokens: sure,
            w.rivals: gr.Radio(choices=[], value=None, label=RIVALS_HINT),
            w.explain: EXPLAIN_HINT,
            w.source_tokens: views.token_shading(src, matrix.mean(axis=0), result.attends),
            w.coverage: views.coverage_markdown(result, hyp),
        }

    def render(
        self, result: Translation, reference: str, hide_eos: bool, word_level: bool, key=None
    ):
        """Every view of a new (or re-ranked) result, its first candidate selected; ``key``:
        the model that made a new one (a re-ranked one keeps its own)."""
        w = self.w
        headers, rows = views.candidate_rows(result, reference or "")
        files, note = self.service.export_files(result, word_level)
        if note:
            gr.Warning(note)
        if not result.best:
            gr.Warning(EMPTY_OUTPUT)
        return {
            w.best: result.best,
            w.table: gr.Dataframe(value=rows, headers=headers),
            **self.attention(result, 0, hide_eos, word_level),
            w.tree: tree_view.trees_html(result) or TREE_HINT,
            w.files: files,
            w.result: result,
            w.selected: 0,
            w.result_key: key or gr.skip(),
        }

    def translate(
        self,
        text,
        direction,
        beam,
        n_best,
        alpha,
        reference,
        hide_eos,
        word_level,
        tree_open,
        request: gr.Request,
    ):
        result = self.service.translation(text, direction, beam, n_best, alpha, tree=tree_open)
        link = share_link(request, text, beam, n_best, alpha, direction)
        key = self.service.key(direction)
        return {**self.render(result, reference, hide_eos, word_level, key), self.w.link: link}

    def score(self, text, direction, beam, alpha, reference, hide_eos, word_level):
        """The visitor's translation (the reference box) scored by the model: the beam's
        candidates with it as the last row, its heat map selected, and where the model
        disagreed."""
        scored = self.service.scored(text, direction, reference, beam, alpha)
        w, beam_result = self.w, scored.beam
        result = dataclasses.replace(
            beam_result, hypotheses=[*beam_result.hypotheses, scored.hypothesis]
        )
        headers, rows = views.scored_rows(scored, reference)
        row = len(rows) - 1
        return {
            w.best: beam_result.best,
            w.table: gr.Dataframe(value=rows, headers=headers),
            **self.attention(result, row, hide_eos, word_level, "Attention of your translation"),
            w.coverage: views.disagreement_markdown(scored),
            w.tree: TREE_HINT,
            w.files: self.service.export_files(beam_result, word_level)[0],
            w.result: result,
            w.result_key: self.service.key(direction),
            w.selected: row,
        }

    def open_tree(
        self,
        text,
        direction,
        beam,
        n_best,
        alpha,
        reference,
        hide_eos,
        word_level,
        result,
        request: gr.Request,
    ):
        """The tree is shown: translate again, recording it, if the result has none."""
        opened = {self.w.tree_open: True}
        if result is None or any(s.tree for s in result.sentences):
            return opened
        again = self.translate(
            text,
            direction,
            beam,
            n_best,
            alpha,
            reference,
            hide_eos,
            word_level,
            tree_open=True,
            request=request,
        )
        return {**again, **opened}

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

    def select_token(self, result, result_key, selected, hide_eos, word_level, evt: gr.SelectData):
        """An output piece clicked (see :meth:`step`)."""
        if result is None:
            return unchanged(self.w.source_tokens)
        return self.step(result, result_key, selected, hide_eos, word_level, int(evt.index))

    def select_cell(self, result, result_key, selected, hide_eos, word_level, evt: gr.SelectData):
        """A heat-map cell clicked: its row (see :meth:`step`)."""
        if result is None or not isinstance(evt.index, (list, tuple)):
            return unchanged(self.w.source_tokens)
        return self.step(result, result_key, selected, hide_eos, word_level, int(evt.index[0]))

    def step(self, result, result_key, selected, hide_eos, word_level, row: int):
        """Output ``row`` of the selected candidate: the source shaded by its attention and
        (pieces of a one-sentence result) the model's rivals at that step and how its
        attention was computed."""
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        src, _, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
        row = min(max(row, 0), matrix.shape[0] - 1)
        out = {self.w.source_tokens: views.token_shading(src, matrix[row], result.attends)}
        w = self.w
        if word_level or len(result.sentences) > 1 or result_key is None:
            why = "switch word level off" if word_level else "translate a single sentence"
            label = f"What if? Rivals are shown for one piece at a time ({why})."
            return {
                **out,
                w.rivals: gr.Radio(choices=[], value=None, label=label),
                w.explain: f"*Each step is explained for one piece at a time ({why}).*",
            }
        found = self.service.inspect(result_key, result, hyp, row)  # one model pass
        label, choices = views.rival_choices(hyp, row, found["rivals"])
        out[w.rivals] = gr.Radio(choices=choices, value=None, label=label)
        if not result.attends:
            return {**out, w.explain: f"*{NO_ATTENTION}*"}
        kind = self.service.translator(result_key).model.model_config.attention
        src = result.source_pieces
        return {**out, w.explain: views.explain_markdown(kind, src, hyp.pieces[row], row, found)}

    def continue_from_node(
        self,
        result,
        result_key,
        beam,
        n_best,
        alpha,
        reference,
        hide_eos,
        word_level,
        evt: gr.SelectData,
    ):
        """The beam tree's "continue from …" button: search again, forced through the
        clicked node's prefix (one sentence's tree)."""
        if result is None or result.tree is None or not isinstance(evt.index, int):
            return unchanged(self.w.result)
        tree = result.tree
        node = tree.nodes[min(max(evt.index, 0), len(tree.nodes) - 1)]
        prefix = [t for t in tree.token_ids(node) if t != EOS]
        forced = self.service.forced(result.source, result_key, prefix, beam, n_best, alpha)
        return self.render(forced, reference, hide_eos, word_level, result_key)

    def pick_rival(
        self,
        result,
        result_key,
        selected,
        rivals,
        beam,
        n_best,
        alpha,
        reference,
        hide_eos,
        word_level,
    ):
        """A rival picked: translate again from the prefix "pieces before it + the
        rival"; every candidate starts so."""
        if result is None or not rivals:
            return unchanged(self.w.result)
        hyp = result.hypotheses[min(selected, len(result.hypotheses) - 1)]
        prefix = views.rival_prefix(hyp, rivals)
        forced = self.service.forced(result.source, result_key, prefix, beam, n_best, alpha)
        return self.render(forced, reference, hide_eos, word_level, result_key)

    def redraw(self, result, selected, hide_eos, word_level):
        if result is None:
            return unchanged(self.w.heatmap)
        return self.attention(result, selected, hide_eos, word_level)

    def change_level(self, result, selected, hide_eos, word_level):
        """Word level on or off: the attention views and the alignment download follow."""
        if result is None:
            return unchanged(self.w.heatmap)
        files, _ = self.service.export_files(result, word_level)
        return {**self.attention(result, selected, hide_eos, word_level), self.w.files: files}

    def compare(self, text, direction, beam, alpha, hide_eos, word_level):
        """Each model's best translation, scores and attention map, side by side."""
        rows = self.service.comparison(text, direction, beam, alpha)
        unit = "words" if word_level else "pieces"
        out = {}
        for i, (text_box, plot) in enumerate(self.w.compare_slots):
            if i >= len(rows):
                out[text_box], out[plot] = gr.Markdown(visible=False), gr.HTML(visible=False)
                continue
            key, result = rows[i]
            translator, hyp = self.service.translators[key], result.hypotheses[0]
            src, tgt, matrix = views.attention_matrix(result, hyp, hide_eos, word_level)
            summary = views.rival_markdown(key, translator.bundle, evaluation_of(translator), hyp)
            out[text_box] = gr.Markdown(summary, visible=True)
            drawn = heatmap_html(src, tgt, matrix, key, unit) if result.attends else ""
            out[plot] = gr.HTML(drawn, visible=result.attends)
        return out

    def take_upload(self, upload):
        """A new upload: read into the session (the file itself is deleted), or cleared."""
        data = self.service.take_upload(upload) if upload else None
        return {self.w.upload_data: data, self.w.batch_status: ""}

    def translate_file(self, upload_data, direction, beam, alpha):
        target, status = self.service.translate_file(upload_data, direction, beam, alpha)
        return {self.w.batch_out: target, self.w.batch_status: status}

    def change_direction(self, direction):
        translator = self.service.translator(direction)
        samples = [[e] for e in EXAMPLES.get(translator.bundle.direction, [])]
        info = views.model_markdown(translator.bundle, evaluation_of(translator))
        return {self.w.examples.dataset: gr.Dataset(samples=samples), self.w.info: info}

    def reset_alpha(self, direction):
        return {self.w.alpha: self.service.default_alpha(direction)}

    def load(self, request: gr.Request):
        """Prefill from the page's query string and translate it, if it names a text."""
        w, p = self.w, from_query(self.service, request)
        if not p.text:
            return unchanged(w.result)
        shown = {getattr(w, name): value for name, value in p._asdict().items()}
        result = self.translate(
            **p._asdict(),
            reference="",
            hide_eos=False,
            word_level=False,
            tree_open=False,
            request=request,
        )
        return {**shown, **result}


def inputs_of(w: Widgets, handler) -> dict:
    """The widgets ``handler`` reads: its parameters by name (but Gradio's own)."""
    names = [p for p in inspect.signature(handler).parameters if p not in GRADIO_PARAMETERS]
    return {name: getattr(w, name) for name in names}


def decoding(service: TranslationService) -> dict:
    """Gradio's options for an event that decodes: one queue for all of them (the API's
    and the page's), served in order of arrival, ``service.concurrency`` at a time, so a
    request waits as long whichever endpoint it called (the service's own limit still
    bounds the decoding itself)."""
    return {"concurrency_id": DECODING, "concurrency_limit": service.concurrency}


def wire(blocks: gr.Blocks, w: Widgets, events: Events) -> None:
    """Connect the widgets to :class:`Events` (none of these is part of the API): each
    handler gets the widgets its parameters name; those that decode share the
    :func:`decoding` queue (the others, e.g. a redraw, never wait behind a decoding)."""
    decodes = decoding(events.service)

    def on(triggers, handler, outputs, **options):
        gr.on(
            triggers,
            answered(handler),
            inputs_kwargs=inputs_of(w, handler),
            outputs=outputs,
            api_visibility="private",
            **options,
        )

    outputs = [*w.views(), w.link]
    # One event for both triggers; a second submit while the first decodes runs after it
    # ("always_last": only the latest waits), so the page ends on the input it shows.
    on(
        [w.button.click, w.text.submit],
        events.translate,
        outputs,
        api_name="ui_translate",
        trigger_mode="always_last",
        **decodes,
    )
    on([w.score_button.click], events.score, w.views(), **decodes)
    on([w.tree_box.expand], events.open_tree, [*outputs, w.tree_open], **decodes)
    on([w.tree_box.collapse], events.close_tree, [w.tree_open])
    on([w.alpha.release], events.rerank, w.views())
    attention = w.attention_views()
    on([w.table.select], events.select_candidate, [*attention, w.selected])
    step = [w.source_tokens, w.rivals, w.explain]
    on([w.target_tokens.select], events.select_token, step, **decodes)
    on([w.heatmap.select], events.select_cell, step, **decodes)
    on([w.rivals.input], events.pick_rival, w.views(), **decodes)
    on([w.tree.select], events.continue_from_node, w.views(), **decodes)
    on([w.hide_eos.input], events.redraw, attention)
    on([w.word_level.input], events.change_level, [*attention, w.files])
    on([w.upload.change], events.take_upload, [w.upload_data, w.batch_status])
    on([w.batch_button.click], events.translate_file, [w.batch_out, w.batch_status], **decodes)
    if w.compare_button is not None:
        slots = [widget for slot in w.compare_slots for widget in slot]
        on([w.compare_button.click], events.compare, slots, **decodes)
    on([w.direction.change], events.change_direction, [w.examples.dataset, w.info])
    # Only a visitor's choice resets α: a shared link's direction keeps its own α.
    on([w.direction.input], events.reset_alpha, [w.alpha])
    prefilled = [w.text, w.direction, w.beam, w.n_best, w.alpha]
    blocks.load(answered(events.load), None, [*prefilled, *outputs], api_visibility="private")


def result_folder() -> ResultFolder:
    """A new folder for result files inside Gradio's upload folder, so Gradio serves them
    as they are (no second copy in its cache)."""
    return ResultFolder(get_upload_folder())


API = ("translate", "beam", "attention", "beam_tree", "score", "force", "explain")


def build_demo(
    translators: dict[str, Translator],
    max_input_chars: int = MAX_INPUT_CHARS,
    errors=(),
    results: ResultFolder | None = None,
    concurrency: int = CONCURRENCY,
) -> gr.Blocks:
    """The page and the API (``/translate``, ``/beam``, ``/attention``, ``/beam_tree``,
    ``/score``, ``/force``, ``/explain``) for
    ``translators`` (by key, the default first); ``results``: where result files go (a new
    folder inside Gradio's upload folder if None); ``concurrency``: requests decoded at
    once, all endpoints together."""
    results = results or result_folder()
    service = TranslationService(translators, results, max_input_chars, concurrency=concurrency)
    # Gradio's own cache (uploads) is emptied of files older than an hour.
    with gr.Blocks(
        title="Attention translator", analytics_enabled=False, delete_cache=(600, 3600)
    ) as blocks:
        # The API first: its names are taken before the page's events are named.
        for name in API:
            gr.api(answered(getattr(service, f"api_{name}")), api_name=name, **decoding(service))
        widgets = layout(service, errors)
        wire(blocks, widgets, Events(service, widgets))
    return blocks
