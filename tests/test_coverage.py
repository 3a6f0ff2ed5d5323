"""Coverage and confidence on hand-built candidates: which source words are flagged as
possibly untranslated, which output pieces as unsure, and how the page says so."""

import numpy as np
import pytest

from seq2seq.coverage import MIN_COVERAGE_RATIO, MIN_PIECE_PROBABILITY, Report, coverage
from seq2seq.translation import Hypothesis, Translation
from webapp import views

SRC = ["▁the", "▁train", "▁sta", "tion", "▁.", "</s>"]  # the, train, station, .
TGT = ["▁der", "▁Zug", "▁.", "</s>"]
# "station" gets almost nothing; "." is punctuation (never flagged); </s> counts nowhere.
ATTENTION = np.array(
    [
        [0.80, 0.10, 0.01, 0.01, 0.03, 0.05],
        [0.05, 0.85, 0.01, 0.01, 0.03, 0.05],
        [0.05, 0.05, 0.00, 0.00, 0.85, 0.05],
        [0.00, 0.00, 0.00, 0.00, 0.10, 0.90],
    ]
)


def candidate(probabilities=(0.9, 0.95, 0.9, 0.99)):
    return Hypothesis(
        ids=[1, 2, 3, 4],
        text="der Zug .",
        pieces=TGT,
        log_prob=-1.0,
        score=-1.0,
        token_log_probs=list(np.log(probabilities)),
        attention=ATTENTION,
    )


def test_coverage_sums_a_words_pieces_over_the_output_pieces():
    # the: .80 + .05 + .05 (the </s> row is left out); station: its two pieces summed.
    np.testing.assert_allclose(coverage(ATTENTION, SRC, TGT), [0.90, 1.00, 0.04, 0.91])


def test_a_neglected_word_and_an_improbable_piece_are_flagged():
    report = Report.of(candidate((0.9, 0.05, 0.9, 0.99)), SRC)
    assert report.source_words == ["the", "train", "station", "."]
    assert report.median == pytest.approx(0.9)  # of the, train, station (not ".")
    np.testing.assert_allclose(report.ratios[:3], [1.0, 1.0 / 0.9, 0.04 / 0.9])
    assert np.isnan(report.ratios[3])
    assert report.missing == [2]
    assert report.unsure == [("Zug", "Zug", pytest.approx(0.05))]
    assert report.messages() == [
        "The translation of 'station' may be missing: this source word received little "
        "attention (0.04, where a typical word of this sentence received 0.90).",
        "'Zug' is unsure: the model gave this output word a probability of 5%.",
    ]


@pytest.mark.parametrize(
    "pieces, expected",
    [
        (["▁der", "▁Zu", "g", "</s>"], "'Zug' is unsure: the model gave its piece 'g' a"),
        (["▁der", "▁", "Zug", "</s>"], "'Zug' is unsure: the model gave its piece '␣' a"),
    ],
)
def test_an_unsure_piece_is_named_with_its_word(pieces, expected):
    hyp = candidate((0.9, 0.9, 0.9, 0.01))  # </s> is never flagged
    hyp.pieces = pieces
    hyp.token_log_probs[1 if pieces[1] == "▁" else 2] = np.log(0.05)
    (message,) = [m for m in Report.of(hyp, SRC).messages() if "unsure" in m]
    assert message.startswith(expected) and message.endswith("probability of 5%.")


def test_thresholds_decide():
    hyp = candidate((0.9, MIN_PIECE_PROBABILITY + 0.01, 0.9, 0.99))
    assert Report.of(hyp, SRC).unsure == []
    ratio = 0.04 / 0.9
    assert Report.of(hyp, SRC, min_ratio=ratio - 0.001).missing == []
    assert Report.of(hyp, SRC, min_ratio=ratio + 0.001).missing == [2]
    assert 0 < MIN_COVERAGE_RATIO < 1


def test_a_well_covered_sentence_says_nothing_is_flagged():
    even = np.full((4, 6), 1 / 6)
    hyp = candidate()
    hyp.attention = even
    assert Report.of(hyp, SRC).messages() == []
    text = views.coverage_markdown(Translation("the train station .", [], SRC, [hyp]), hyp)
    assert "Nothing to flag" in text


def test_the_page_shows_the_warnings_escaped():
    hyp = candidate((0.9, 0.05, 0.9, 0.99))
    text = views.coverage_markdown(Translation("the train station .", [], SRC, [hyp]), hyp)
    assert "⚠ The translation of 'station' may be missing" in text
    assert "⚠ 'Zug' is unsure" in text
    assert "station 0.04" in text
    hyp.pieces = ["▁*der*", "▁<b>", "▁.", "</s>"]
    text = views.coverage_markdown(Translation("x", [], SRC, [hyp]), hyp)
    assert "'&lt;b&gt;' is unsure" in text and "<b>" not in text  # no element, shown as typed
