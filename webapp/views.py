"""Views of a :class:`~seq2seq.translator.Translation` for people: the candidate table,
the attention heat map, token shading, sentence scores and the export files.

Plain data in, plain data (or a matplotlib figure) out, so the app stays thin and these
are testable without a browser.

Not for: searching or scoring models (see :mod:`seq2seq.translator`, ``training.evaluate``).
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from pathlib import Path

import numpy as np
import sacrebleu

from seq2seq.alignment import WORD_START, merge_attention, pharaoh, word_index, words
from seq2seq.config import attention_name
from seq2seq.coverage import Report
from seq2seq.hub import search_setting
from seq2seq.options import DEFAULT_LENGTH_PENALTY
from seq2seq.scoring import Scored
from seq2seq.tokenizer import EOS
from seq2seq.translation import NO_ATTENTION, Hypothesis, Translation

EOS_PIECE = "</s>"
# Fonts with Chinese glyphs, best first. matplotlib's own DejaVu Sans has none: without
# one of these a Chinese label is drawn as empty boxes. Debian packages: fonts-wqy-microhei
# (what CI and the Space's packages.txt install) or fonts-noto-cjk.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
_CJK_FONT_FILE = re.compile(r"cjk|wqy|droidsansfallback|uming|ukai|sourcehan", re.IGNORECASE)
CANDIDATE_HEADERS = ["rank", "candidate", "score", "log-prob", "length"]


def readable(piece: str) -> str:
    """A piece as shown to people: ``▁`` word starts become a leading space; a lone ``▁``
    (SentencePiece's word start before a Chinese character or a digit) becomes ``␣``, so its
    heat-map row and chip have a visible label."""
    return "␣" if piece == WORD_START else piece.replace(WORD_START, " ")


def candidate_rows(translation: Translation, reference: str = "") -> tuple[list[str], list[list]]:
    """Headers and rows: rank, text, length-normalised score, log-prob, length
    (+ sentence BLEU and chrF against ``reference`` when one is given)."""
    headers = CANDIDATE_HEADERS + (["BLEU", "chrF"] if reference.strip() else [])
    rows = []
    for rank, h in enumerate(translation.hypotheses, 1):
        row = [rank, h.text, round(h.score, 4), round(h.log_prob, 4), h.length]
        if reference.strip():
            row += [
                round(sacrebleu.sentence_bleu(h.text, [reference]).score, 1),
                round(sacrebleu.sentence_chrf(h.text, [reference]).score, 1),
            ]
        rows.append(row)
    return headers, rows


def scored_rows(scored: Scored, reference: str) -> tuple[list[str], list[list]]:
    """The candidate table with the visitor's translation as its last row, marked
    ``yours (would rank N)`` or ``yours (below the beam)``, scored the same way."""
    headers, rows = candidate_rows(scored.beam, reference)
    place = f"would rank {scored.rank}" if scored.rank else "below the beam"
    h = scored.hypothesis
    row = [f"yours ({place})", h.text, round(h.score, 4), round(h.log_prob, 4), h.length]
    if reference.strip():
        row += [100.0, 100.0]  # it is the reference
    return headers, [*rows, row]


def disagreement_markdown(scored: Scored, top: int = 3) -> str:
    """Where the model disagreed most with the visitor's translation: the ``top`` pieces
    with the largest gap between the model's own best piece and the given one."""
    h = scored.hypothesis
    gaps = scored.gaps()
    worst = [i for i in sorted(range(len(gaps)), key=lambda i: -gaps[i]) if gaps[i] > 1e-4][:top]
    place = f"would rank **{scored.rank}**" if scored.rank else "ranks **below the beam**"
    lines = [
        f"**Your translation** scores {h.score:.3f} (log-prob {h.log_prob:.3f}, "
        f"{h.length} pieces) and {place} among the beam's {len(scored.beam.hypotheses)} "
        "candidates.",
        "",
    ]
    if not worst:
        return "\n".join([*lines, "The model would have written every piece of it itself."])
    lines.append("Where the model disagreed most:")
    for i in sorted(worst):
        lines.append(
            f"- piece {i + 1}, {markdown_text(readable(h.pieces[i]))} "
            f"(p = {math.exp(h.token_log_probs[i]):.3f}, rank {scored.token_ranks[i]}): "
            f"the model expected {markdown_text(readable(scored.best_pieces[i]))} "
            f"(p = {math.exp(scored.best_log_probs[i]):.3f})"
        )
    return "\n".join(lines)


def attention_matrix(
    translation: Translation,
    hypothesis: Hypothesis,
    hide_eos: bool = False,
    word_level: bool = False,
) -> tuple[list[str], list[str], np.ndarray]:
    """Source units, target units and their ``(target, source)`` attention. Units are
    pieces, or with ``word_level`` words (see :func:`seq2seq.alignment.merge_attention`:
    no ``</s>`` on either side). With ``hide_eos`` the source ``</s>`` column is dropped
    and each row renormalised first."""
    src, tgt = list(translation.source_pieces), list(hypothesis.pieces)
    matrix = np.asarray(hypothesis.attention, dtype="float64")[: len(tgt), : len(src)]
    if hide_eos and src and src[-1] == EOS_PIECE:
        src, matrix = src[:-1], matrix[:, :-1]
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1e-9)
    if word_level:
        return words(src), words(tgt), merge_attention(matrix, src, tgt)
    return src, tgt, matrix


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs (see :data:`CJK_FONTS`),
    or ``None``. A font installed after matplotlib cached its font list is added first."""
    from matplotlib import font_manager

    def installed():
        names = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in names), None)

    if installed() is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FONT_FILE.search(Path(path).name):
                font_manager.fontManager.addfont(path)
    return installed()


def attention_figure(
    src: list[str], tgt: list[str], matrix: np.ndarray, title: str = "", unit: str = "pieces"
):
    """A heat map (target rows × source columns) sized so that ~50 labels stay readable;
    ``unit`` names what the rows and columns are (pieces, words). Labels fall back to
    :func:`cjk_font` for glyphs the default font lacks (Chinese)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cell = 0.3 if max(len(src), len(tgt)) <= 30 else 0.22
    font = 9 if cell >= 0.3 else 7
    width = min(max(4.0, cell * len(src) + 2.2), 24)
    height = min(max(3.0, cell * len(tgt) + 1.8), 24)
    # The labels' fonts are fixed when they are created: inside the fallback context.
    with plt.rc_context({"font.family": ["sans-serif", *filter(None, [cjk_font()])]}):
        fig, ax = plt.subplots(figsize=(width, height), dpi=100)
        ax.imshow(
            matrix,
            cmap="Blues",
            vmin=0.0,
            vmax=max(float(matrix.max(initial=0)), 1e-6),
            aspect="auto",
        )
        ax.set_xticks(range(len(src)), [readable(p) for p in src], rotation=90, fontsize=font)
        ax.set_yticks(range(len(tgt)), [readable(p) for p in tgt], fontsize=font)
        ax.xaxis.tick_top()
        ax.set_xlabel(f"source {unit}", fontsize=font + 1)
        ax.set_ylabel(f"output {unit}", fontsize=font + 1)
        if title:
            ax.set_title(title, fontsize=font + 1, pad=8)
        fig.tight_layout()
    plt.close(fig)
    return fig


def attention_png(translation: Translation, word_level: bool = False) -> bytes:
    """The best candidate's heat map as a PNG (the download; the page draws its own)."""
    import io

    hypothesis = translation.hypotheses[0]
    src, tgt, matrix = attention_matrix(translation, hypothesis, word_level=word_level)
    unit = "words" if word_level else "pieces"
    out = io.BytesIO()
    attention_figure(src, tgt, matrix, "candidate 1", unit).savefig(out, format="png")
    return out.getvalue()


def token_shading(pieces: list[str], weights, shaded: bool = True):
    """``(piece, weight)`` pairs for a highlighted-text view (weights scaled to 0..1);
    ``shaded`` False: ``(piece, None)``, nothing shaded (a model without attention)."""
    if not shaded:
        return [(readable(p), None) for p in pieces]
    weights = np.asarray(weights, dtype="float64")
    top = float(weights.max(initial=0)) or 1.0
    return [(readable(p), round(float(w) / top, 3)) for p, w in zip(pieces, weights)]


def token_probabilities(pieces: list[str], log_probs, word_level: bool = False):
    """``(piece, probability)`` pairs: how sure the model was of each output piece; with
    ``word_level``, ``(word, probability)``: the product over the word's pieces (special
    pieces left out)."""
    if not word_level:
        return [(readable(p), round(float(np.exp(lp)), 3)) for p, lp in zip(pieces, log_probs)]
    totals = np.zeros(len(words(pieces)))
    for word, lp in zip(word_index(pieces), log_probs):
        if word is not None:
            totals[word] += lp
    return [(w, round(float(np.exp(t)), 3)) for w, t in zip(words(pieces), totals)]


def rival_choices(hypothesis: Hypothesis, position: int, rivals: list[tuple]):
    """The rivals radio for output ``position`` of ``hypothesis``: its label and its
    ``(label, value)`` choices, ``"piece  p=0.620 (chosen)"`` and ``"position:id"``. The
    end of the sentence is no rival to continue from: it is left out."""
    chosen = hypothesis.ids[position]
    choices = [
        (
            f"{readable(piece)}  p={math.exp(lp):.3f}" + (" (chosen)" if i == chosen else ""),
            f"{position}:{i}",
        )
        for i, piece, lp in rivals
        if i > EOS
    ]
    label = (
        f"What if? The model's rivals at piece {position + 1} "
        f"({readable(hypothesis.pieces[position])}): pick one and the search continues from it"
    )
    return label, choices


def rival_prefix(hypothesis: Hypothesis, choice: str) -> list[int]:
    """The prefix a picked rival (``"position:id"``) asks for: the pieces before it, then it."""
    position, piece = (int(x) for x in str(choice).split(":"))
    return [*hypothesis.ids[:position], piece]


def markdown_text(text: str) -> str:
    """``text`` with the characters that Markdown or HTML would interpret escaped, for a
    line that starts with a bullet (shown as typed)."""
    escaped = "".join(f"\\{ch}" if ch in "\\`*_[]()!#|~+-=" else ch for ch in text)
    return html.escape(escaped, quote=False)  # & < > as entities: no element, no entity


def coverage_markdown(translation: Translation, hypothesis: Hypothesis) -> str:
    """What :class:`seq2seq.coverage.Report` finds in ``hypothesis``, in plain words, and
    the attention each source word received."""
    if not translation.attends:
        return f"**Coverage and confidence:** not for this model. {NO_ATTENTION}"
    report = Report.of(hypothesis, translation.source_pieces)
    found = [f"- ⚠ {markdown_text(m)}" for m in report.messages()]
    received = " · ".join(
        f"{markdown_text(w)} {c:.2f}" for w, c in zip(report.source_words, report.coverage)
    )
    return "\n".join(
        [
            "**Coverage and confidence** of the selected candidate",
            "",
            *(
                found
                or [
                    "- Nothing to flag: every source word received its share of attention "
                    "and no output piece was improbable."
                ]
            ),
            "",
            f"Attention received per source word: {received}",
        ]
    )


def nbest_tsv(translation: Translation) -> str:
    lines = ["rank\tscore\tlog_prob\tlength\ttext"]
    for rank, h in enumerate(translation.hypotheses, 1):
        lines.append(f"{rank}\t{h.score:.5f}\t{h.log_prob:.5f}\t{h.length}\t{h.text}")
    return "\n".join(lines) + "\n"


def json_safe(value):
    """``value`` with every NaN or infinite float replaced by None: valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def attention_json(translation: Translation) -> str:
    """All candidates with their attention, as JSON (never NaN or Infinity)."""
    safe = json_safe(translation.to_dict())
    return json.dumps(safe, ensure_ascii=False, indent=1, allow_nan=False)


def pharaoh_text(translation: Translation, word_level: bool = False) -> str:
    """One line per candidate: its Pharaoh alignment to the source (of pieces, or of
    words with ``word_level``)."""
    lines = [
        pharaoh(h.attention, translation.source_pieces, h.pieces, word_level)
        for h in translation.hypotheses
    ]
    return "\n".join(lines) + "\n"


ATTENTION_FORMULAS = {
    "bahdanau": "additive (Bahdanau et al. 2015): score(s, hⱼ) = vᵀ tanh(W s + U hⱼ)",
    "luong_general": "general (Luong et al. 2015): score(s, hⱼ) = sᵀ W hⱼ",
    "luong_dot": "dot (Luong et al. 2015): score(s, hⱼ) = sᵀ hⱼ",
    "none": "none: one fixed context c = [h→_S; h←_1] for every output word (Cho et al. 2014)",
}


ENERGY_FORMULAS = {
    "bahdanau": "e_ij = vᵀ tanh(W s_i + U h_j + b)",
    "luong_general": "e_ij = s_iᵀ W h_j",
    "luong_dot": "e_ij = s_iᵀ h_j",
}
SOFTMAX_FORMULA = "α_ij = exp(e_ij) / Σ_k exp(e_ik)"


def explain_markdown(kind: str, source: list[str], target: str, position: int, found: dict):
    """The arithmetic behind one row of the heat map (see ``Translator.inspect``): the
    energies of output piece ``position`` against every source piece (the top few listed,
    the rest summarised), the softmax that turns them into weights, the context vector."""
    energies, weights = found["energies"], found["weights"]
    order = sorted(range(len(weights)), key=lambda j: -weights[j])
    shown, rest = order[:5], order[5:]
    lines = [
        f"**How output piece {position + 1} ({markdown_text(readable(target))}) chose where "
        f"to look.** Its decoder state s_i is scored against each source piece's encoding "
        f"h_j: `{ENERGY_FORMULAS.get(kind, kind)}`; a softmax turns the scores into the "
        f"weights: `{SOFTMAX_FORMULA}`.",
        "",
        "| source piece | energy e_ij | weight α_ij |",
        "|---|---|---|",
    ]
    for j in shown:
        lines.append(
            f"| {markdown_text(readable(source[j]))} | {energies[j]:.3f} | {weights[j]:.4f} |"
        )
    if rest:
        low, high = min(energies[j] for j in rest), max(energies[j] for j in rest)
        mass = sum(weights[j] for j in rest)
        lines.append(f"| {len(rest)} other pieces | {low:.3f} … {high:.3f} | {mass:.4f} in all |")
    lines += [
        "",
        f"The context c_i = Σ_j α_ij h_j is a vector of {found['context_size']} numbers "
        f"(norm {found['context_norm']:.3f}); with s_i it gives the attentional vector that "
        "scores the next piece.",
    ]
    return "\n".join(lines)


def attention_formula(kind: str) -> str:
    """How ``kind`` (``ModelConfig.attention``) scores decoder state ``s`` against encoder
    output ``hⱼ``; the weights are the softmax of the scores over the source."""
    return ATTENTION_FORMULAS.get(kind, kind)


def rival_markdown(key: str, bundle, evaluation: dict | None, hypothesis: Hypothesis) -> str:
    """One model's column of the compare view: its attention, its best translation with
    its scores, and its test-set score (a model without attention: what it lacks, in place
    of a heat map)."""
    c = bundle.model.model_config
    lines = [
        f"**{markdown_text(key)}** · {attention_formula(c.attention)}",
        "",
        f"> {markdown_text(hypothesis.text)}",
        "",
        f"score {hypothesis.score:.3f} · log-prob {hypothesis.log_prob:.3f} · "
        f"{hypothesis.length} pieces",
    ]
    if evaluation:
        lines.append(f"  \ntest set: BLEU {evaluation['bleu']}, chrF {evaluation['chrf']}")
    if not c.has_attention:
        lines += ["", f"*{NO_ATTENTION}*"]
    return "\n".join(lines)


def decoding_note(metadata: dict) -> str:
    """``1 (chosen on dev-v1.tsv.gz chrF, beam 5: …)``, or the library's default."""
    decoding = metadata.get("decoding") or {}
    if "length_penalty" not in decoding:
        return f"{DEFAULT_LENGTH_PENALTY:g} (the library's default)"
    how = decoding.get("chosen_on")
    return f"{decoding['length_penalty']:g}" + (f" (chosen on {how})" if how else "")


def model_markdown(bundle, evaluation: dict | None) -> str:
    """The model info panel."""
    meta = bundle.metadata or {}
    c = bundle.model.model_config
    lines = [
        f"**{c.src_lang} → {c.tgt_lang}** · {meta.get('parameters', bundle.model.count_params()):,}"
        f" parameters · {c.cell.upper()} encoder–decoder, {attention_name(c.attention)}, "
        f"{c.vocab_size} subword vocabulary",
        "",
        f"**Attention:** {attention_formula(c.attention)}",
        "",
        f"**Length penalty α:** {decoding_note(meta)}",
        "",
        f"**Loaded from:** {bundle.source}",
    ]
    if evaluation:
        lines += [
            "",
            f"**Test set** ({evaluation.get('sentences')} sentences, "
            f"{search_setting(evaluation)}): BLEU **{evaluation['bleu']}**, "
            f"chrF **{evaluation['chrf']}**",
            f"`{evaluation['bleu_signature']}`  ",
            f"`{evaluation['chrf_signature']}`",
        ]
        for name, s in evaluation.get("per_source", {}).items():
            lines.append(f"- {name}: BLEU {s['bleu']}, chrF {s['chrf']} ({s['sentences']})")
    data = meta.get("data_sources")
    if data:
        lines += ["", "**Training data** (human translations from Debian packages):"]
        for name, d in data.items():
            lines.append(f"- {name}: {d['description']} — {d['license']}, {d['train_pairs']} pairs")
    if meta.get("trained_on"):
        lines += ["", f"**Trained on:** {meta['trained_on']}"]
    return "\n".join(lines)
