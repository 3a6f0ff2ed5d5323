"""The page: its widgets and their layout, no behaviour (see :mod:`webapp.events`).

:func:`layout` builds every widget inside ``gr.Blocks`` and returns them as
:class:`Widgets`, whose field names are the names the event handlers' parameters use.

Not for: what a request does (see :mod:`webapp.service`).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from seq2seq.options import MAX_BEAM
from webapp import heatmap_view, tree_view, views, why_attention
from webapp.limits import SESSION_MAX_AGE
from webapp.service import TranslationService, direction_label, evaluation_of

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
CSS = """
#best textarea { font-size: 1.5rem !important; line-height: 1.4; font-weight: 600; }
#heatmap { overflow: auto; }
"""
TREE_HINT = "Translate a sentence to see how the beam search found its candidates."
EXPLAIN_HINT = "*Click an output piece to see how its attention weights were computed.*"
RIVALS_HINT = (
    "What if? The model's rivals at the clicked output piece: pick one and the search "
    "continues from it"
)


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
    score_button: gr.Button
    best: gr.Textbox
    table: gr.Dataframe
    heatmap: gr.HTML  # drawn by the browser (webapp.heatmap_view); a click selects a row
    hide_eos: gr.Checkbox
    word_level: gr.Checkbox
    target_tokens: gr.HighlightedText
    rivals: gr.Radio  # the model's most probable pieces at the clicked output piece
    explain: gr.Markdown  # how the clicked output piece's attention was computed
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
    compare_slots: list  # (gr.Markdown, gr.HTML) per model of a direction, side by side
    upload_data: gr.State  # the session's Upload, or None
    result: gr.State  # the shown Translation
    selected: gr.State  # the candidate whose attention is shown
    result_key: gr.State  # the model (direction key) that made the shown result
    tree_open: gr.State  # whether the beam tree is shown (then translations record it)

    def attention_views(self) -> list:
        """What the selected candidate's attention shows."""
        return [
            self.heatmap,
            self.target_tokens,
            self.rivals,
            self.source_tokens,
            self.explain,
            self.coverage,
        ]

    def views(self) -> list:
        """What a new or re-ranked result updates."""
        return [
            self.best,
            self.table,
            *self.attention_views(),
            self.tree,
            self.files,
            self.result,
            self.result_key,
            self.selected,
        ]


def _input_widgets(service: TranslationService) -> dict:
    first = next(iter(service.translators))
    examples = EXAMPLES.get(first, [])
    choices = [(direction_label(t, code), code) for code, t in service.translators.items()]
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=examples[0] if examples else "",
                label="Source text (Enter translates, Shift+Enter starts a new line)",
                lines=1,
                max_lines=8,
                max_length=service.max_input_chars,
            )
            reference = gr.Textbox(
                label="Reference translation (optional: scores each "
                "candidate with sentence BLEU and chrF)",
                elem_id="reference",
            )
            score_button = gr.Button(
                "Score it: how probable does the model find this translation?",
                size="sm",
                elem_id="score-button",
            )
        with gr.Column(scale=2):
            direction = gr.Dropdown(choices, value=first, label="Direction")
            beam = gr.Slider(1, MAX_BEAM, value=5, step=1, label="Beam size")
            n_best = gr.Slider(1, MAX_BEAM, value=3, step=1, label="Candidates shown")
            alpha = gr.Slider(
                0.0,
                2.0,
                value=service.default_alpha(first),
                step=0.1,
                label="Length penalty α (re-ranks without decoding)",
                info="Starts at the model's own, chosen on its dev split",
            )
            button = gr.Button("Translate", variant="primary")
    return dict(
        text=text,
        reference=reference,
        direction=direction,
        beam=beam,
        n_best=n_best,
        alpha=alpha,
        button=button,
        score_button=score_button,
    )


def _output_widgets() -> dict:
    best = gr.Textbox(
        label="Translation", elem_id="best", lines=2, interactive=False, buttons=["copy"]
    )
    table = gr.Dataframe(
        headers=views.CANDIDATE_HEADERS,
        interactive=False,
        label="Beam candidates (click a row to see its attention)",
        elem_id="candidates",
    )
    with gr.Row():
        with gr.Column(scale=3):
            heatmap = gr.HTML("", elem_id="heatmap", js_on_load=heatmap_view.SCRIPT, padding=False)
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
                elem_id="target-tokens",
                show_legend=False,
                combine_adjacent=False,
            )
            rivals = gr.Radio([], label=RIVALS_HINT, elem_id="rivals")
            source_tokens = gr.HighlightedText(
                label="Source pieces (or words) shaded by attention "
                "(of the clicked output piece; the average before a click)",
                elem_id="source-tokens",
                show_legend=False,
                combine_adjacent=False,
            )
            explain = gr.Markdown(EXPLAIN_HINT, elem_id="explain")
            coverage = gr.Markdown(elem_id="coverage")
            files = gr.File(
                label="Downloads: n-best TSV, attention JSON, Pharaoh alignments, heat map PNG",
                file_count="multiple",
                interactive=False,
            )
            link = gr.Textbox(
                label="Link to this result",
                elem_id="share-link",
                buttons=["copy"],
                interactive=False,
            )
    with gr.Accordion(
        "Beam search tree: every candidate of every step", open=False, elem_id="tree-box"
    ) as tree_box:
        tree = gr.HTML(TREE_HINT, elem_id="beam-tree", js_on_load=tree_view.SCRIPT)
    return dict(
        best=best,
        table=table,
        heatmap=heatmap,
        hide_eos=hide_eos,
        word_level=word_level,
        target_tokens=target_tokens,
        rivals=rivals,
        explain=explain,
        source_tokens=source_tokens,
        coverage=coverage,
        tree_box=tree_box,
        tree=tree,
        files=files,
        link=link,
    )


def _compare_widgets(service: TranslationService) -> dict:
    """Side by side: the selected direction's models (e.g. Bahdanau and Luong attention)
    on the same sentence. Only when some direction has more than one model."""
    most = max(len(service.rivals(key)) for key in service.translators)
    if most < 2:
        return dict(compare_button=None, compare_slots=[])
    with gr.Accordion(
        "Compare attention mechanisms: every model of this direction on the same sentence",
        open=False,
        elem_id="compare-box",
    ):
        compare_button = gr.Button("Compare", elem_id="compare-button")
        slots = []
        with gr.Row():
            for i in range(most):
                with gr.Column(min_width=320):
                    summary = gr.Markdown(elem_id=f"compare-text-{i}")
                    heatmap = gr.HTML(
                        "", elem_id=f"compare-map-{i}", js_on_load=heatmap_view.SCRIPT
                    )
                    slots.append((summary, heatmap))
    return dict(compare_button=compare_button, compare_slots=slots)


def _why_attention(service: TranslationService) -> None:
    """BLEU by source length of a pair's models with and without attention (from their
    eval.json; nothing is decoded), when the app has such models."""
    for code in dict.fromkeys(t.bundle.direction for t in service.translators.values()):
        models = {
            key: (t.model.model_config.attention, t.bundle.path)
            for key, t in service.translators.items()
            if t.bundle.direction == code
        }
        series = why_attention.comparable(why_attention.series_of(models))
        if series:
            break
    else:
        return
    with gr.Accordion("Why attention? Quality by sentence length", open=False, elem_id="why"):
        gr.Markdown(why_attention.EXPLANATION)
        with gr.Row():
            gr.Plot(why_attention.figure(series), show_label=False, elem_id="why-plot")
            gr.Markdown(why_attention.table_markdown(series), elem_id="why-table")


def _more_widgets(service: TranslationService, text: gr.Textbox, errors) -> dict:
    first = next(iter(service.translators.values()))
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
        gr.Markdown(
            "**Models that could not be loaded** (not offered):\n"
            + "\n".join(f"- {e}" for e in errors),
            elem_id="load-errors",
        )
    return dict(
        examples=examples,
        upload=upload,
        batch_button=batch_button,
        batch_out=batch_out,
        batch_status=batch_status,
        info=info,
    )


def layout(service: TranslationService, errors=()) -> Widgets:
    """The page's widgets (call inside ``gr.Blocks``); no events."""
    gr.Markdown(
        "# Attention translator\nAn RNN encoder–decoder with attention, trained on "
        "human translations. See the beam search's candidates and where each output "
        "piece looked in the source."
    )
    inputs = _input_widgets(service)
    outputs = _output_widgets()
    compare = _compare_widgets(service)
    _why_attention(service)
    more = _more_widgets(service, inputs["text"], errors)
    return Widgets(
        **inputs,
        **outputs,
        **compare,
        **more,
        upload_data=gr.State(None, time_to_live=SESSION_MAX_AGE),
        result=gr.State(None, time_to_live=SESSION_MAX_AGE),
        selected=gr.State(0),
        result_key=gr.State(None),
        tree_open=gr.State(False),
    )
