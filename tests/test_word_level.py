"""Word level: subword pieces merged into words on hand-built attention matrices (source
columns summed, output rows averaged, </s> left out), in the alignment and the views."""

import numpy as np
import pytest

from seq2seq.alignment import merge_attention, pharaoh, words
from seq2seq.translation import Hypothesis, Translation
from webapp import views

SRC = ["▁Hel", "lo", "▁big", "▁wor", "ld", "</s>"]  # words: Hello, big, world
TGT = ["▁Hal", "lo", "▁gro", "ße", "▁Welt", "</s>"]  # words: Hallo, große, Welt
ATTENTION = np.array(
    [
        [0.50, 0.30, 0.10, 0.05, 0.05, 0.00],
        [0.20, 0.60, 0.00, 0.10, 0.05, 0.05],
        [0.00, 0.10, 0.70, 0.10, 0.10, 0.00],
        [0.10, 0.00, 0.50, 0.20, 0.10, 0.10],
        [0.05, 0.05, 0.10, 0.40, 0.30, 0.10],
        [0.00, 0.00, 0.00, 0.10, 0.10, 0.80],
    ]
)


def expected_word_matrix(a):
    """By hand: rows (Hal+lo)/2, (gro+ße)/2, Welt; columns Hel+lo, big, wor+ld."""
    columns = lambda r: [r[0] + r[1], r[2], r[3] + r[4]]  # noqa: E731
    return np.array(
        [
            (np.array(columns(a[0])) + columns(a[1])) / 2,
            (np.array(columns(a[2])) + columns(a[3])) / 2,
            columns(a[4]),
        ]
    )


def test_words_and_merged_attention():
    assert words(SRC) == ["Hello", "big", "world"] and words(TGT) == ["Hallo", "große", "Welt"]
    merged = merge_attention(ATTENTION, SRC, TGT)
    np.testing.assert_allclose(merged, expected_word_matrix(ATTENTION))
    np.testing.assert_allclose(merged[0], [0.8, 0.05, 0.125])  # (0.8 + 0.8) / 2, ...
    # Piece level: the matrix itself, without the </s> row and column.
    np.testing.assert_allclose(merge_attention(ATTENTION, SRC, TGT, False), ATTENTION[:5, :5])


def test_pharaoh_of_pieces_and_of_words():
    assert pharaoh(ATTENTION, SRC, TGT) == "0-0 1-1 2-2 2-3 3-4"
    assert pharaoh(ATTENTION, SRC, TGT, word_level=True) == "0-0 1-1 2-2"


@pytest.fixture
def translation():
    log_probs = np.log([0.5, 0.8, 0.9, 0.1, 0.7, 0.95])
    hyp = Hypothesis(
        ids=list(range(6)),
        text="Hallo große Welt",
        pieces=TGT,
        log_prob=-1.0,
        score=-1.0,
        token_log_probs=list(log_probs),
        attention=ATTENTION,
    )
    return Translation("Hello big world", list(range(6)), SRC, [hyp])


def test_views_at_word_level(translation):
    hyp = translation.hypotheses[0]
    src, tgt, matrix = views.attention_matrix(translation, hyp, word_level=True)
    assert (src, tgt) == (["Hello", "big", "world"], ["Hallo", "große", "Welt"])
    np.testing.assert_allclose(matrix, expected_word_matrix(ATTENTION))
    # Hiding </s> renormalises the piece rows first, then merges.
    _, _, hidden = views.attention_matrix(translation, hyp, hide_eos=True, word_level=True)
    renormalised = ATTENTION[:, :5] / ATTENTION[:, :5].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(hidden, expected_word_matrix(renormalised))
    # A word's probability is the product of its pieces'.
    assert views.token_probabilities(hyp.pieces, hyp.token_log_probs, word_level=True) == [
        ("Hallo", 0.4),
        ("große", 0.09),
        ("Welt", 0.7),
    ]
    assert views.pharaoh_text(translation, word_level=True) == "0-0 1-1 2-2\n"
    assert views.pharaoh_text(translation) == "0-0 1-1 2-2 2-3 3-4\n"


def test_chinese_pieces_are_words_of_their_own():
    # No spaces in Chinese: each piece of Chinese characters is a word, and so is the
    # Latin or byte-spelled text around it; a byte-spelled character reads as itself.
    pieces = [
        "▁汤姆",
        "喜欢",
        "踢",
        "足球",
        "。",
        "Ping",
        "值",
        "<0xE5>",
        "<0x9C>",
        "<0xB0>",
        "▁Tom",
        "my",
        "</s>",
    ]
    assert words(pieces) == ["汤姆", "喜欢", "踢", "足球", "。", "Ping", "值", "地", "Tommy"]
    assert words(["▁", "把", "船", "▁", "闭", "</s>"]) == ["把", "船", "闭"]  # no empty words
    matrix = np.eye(len(pieces))
    merged = merge_attention(matrix, pieces, pieces)
    assert merged.shape == (9, 9)
    np.testing.assert_allclose(merged[8], [0, 0, 0, 0, 0, 0, 0, 0, 1])  # Tom+my averaged
    np.testing.assert_allclose(merged[7], np.eye(9)[7])  # 3 byte pieces: one character


def test_a_lone_word_start_piece_has_a_visible_label():
    # SentencePiece starts a Chinese output with a bare "▁" piece: at piece level its
    # heat-map row, probability chip and shading chip must not be a blank label.
    pieces, log_probs = ["▁", "把", "船", "</s>"], np.log([0.9, 0.5, 0.4, 0.8])
    assert [p for p, _ in views.token_probabilities(pieces, log_probs)] == ["␣", "把", "船", "</s>"]
    assert views.token_shading(["▁", "▁Tom"], [1.0, 0.5]) == [("␣", 1.0), (" Tom", 0.5)]
    fig = views.attention_figure(["▁Tom", "</s>"], pieces, np.full((4, 2), 0.5))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["␣", "把", "船", "</s>"]


def test_chinese_labels_are_drawn_with_a_cjk_font():
    # CI and the Space install fonts-wqy-microhei; without a CJK font the labels would
    # be empty boxes and matplotlib would warn of missing glyphs.
    import warnings

    assert views.cjk_font() in views.CJK_FONTS
    src, tgt = ["▁Tom", "▁loves", "▁football", "</s>"], ["▁汤姆", "喜欢", "踢", "足球", "。"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" fails the test
        fig = views.attention_figure(src, tgt, np.full((5, 4), 0.25), title="汤姆喜欢踢足球。")
        fig.canvas.draw()
    labels = [t for t in fig.axes[0].get_yticklabels() if t.get_text().strip() == "汤姆"]
    assert labels and views.cjk_font() in labels[0].get_fontfamily()
