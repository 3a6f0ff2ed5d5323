"""Translator on the tiny trained model: structured results, re-ranking, sampling, splitting."""

import numpy as np
import pytest
from conftest import reverse_task

from seq2seq.options import DecodeOptions
from seq2seq.tokenizer import BOS
from seq2seq.translator import Translator, split_sentences


@pytest.fixture(scope="module")
def translator(tiny_model_dir):
    return Translator.load(tiny_model_dir[0], batch_size=4)


def test_hypotheses_are_complete_and_consistent(translator):
    (result,) = translator.translate(["one two three"], beam_size=4, n_best=4)
    assert [len(h.ids) for h in result.hypotheses] == [h.length for h in result.hypotheses]
    assert len({tuple(h.ids) for h in result.hypotheses}) == len(result.hypotheses) == 4
    scores = [h.score for h in result.hypotheses]
    assert scores == sorted(scores, reverse=True)
    for h in result.hypotheses:
        assert h.attention.shape == (h.length, len(result.source_pieces))
        np.testing.assert_allclose(h.attention.sum(axis=1), 1.0, atol=1e-4)
        np.testing.assert_allclose(sum(h.token_log_probs), h.log_prob, rtol=1e-5)
        assert h.text == translator.tokenizer.decode(h.ids)
    assert result.best == "three two one"


def test_rerank_needs_no_decoding_and_matches_a_fresh_search(translator):
    (result,) = translator.translate(
        ["four five six seven"], beam_size=4, n_best=4, length_penalty=0.0
    )
    reranked = result.rerank(2.0)
    for h in reranked.hypotheses:
        assert h.score == pytest.approx(h.log_prob / ((5 + h.length) / 6) ** 2.0)
    assert [h.score for h in reranked.hypotheses] == sorted(
        (h.score for h in reranked.hypotheses), reverse=True
    )
    assert {tuple(h.ids) for h in reranked.hypotheses} == {tuple(h.ids) for h in result.hypotheses}
    (fresh,) = translator.translate(
        ["four five six seven"], beam_size=4, n_best=4, length_penalty=2.0
    )
    scores = {tuple(h.ids): h.score for h in fresh.hypotheses}
    common = [h for h in reranked.hypotheses if tuple(h.ids) in scores]
    assert common  # the searches share candidates; each is scored the same either way
    for h in common:
        assert h.score == pytest.approx(scores[tuple(h.ids)], rel=1e-5)


def test_batched_equals_one_by_one(translator):
    texts = [s for s, _ in reverse_task(9, seed=11)]
    together = translator.translate(texts, beam_size=3, n_best=2)
    for text, result in zip(texts, together):
        (alone,) = translator.translate([text], beam_size=3, n_best=2)
        assert [h.ids for h in alone.hypotheses] == [h.ids for h in result.hypotheses]
        np.testing.assert_allclose(
            [h.score for h in alone.hypotheses], [h.score for h in result.hypotheses], rtol=1e-4
        )


def test_sampling_is_seeded(translator):
    options = DecodeOptions(n_best=6, temperature=1.5, top_k=5, seed=7)
    a = translator.translate(["one two three four"], options)[0]
    b = translator.translate(["one two three four"], options)[0]
    assert [h.ids for h in a.hypotheses] == [h.ids for h in b.hypotheses]
    assert len(a.hypotheses) == 6
    c = translator.translate(["one two three four"], options.replace(seed=8))[0]
    assert [h.ids for h in c.hypotheses] != [h.ids for h in a.hypotheses]


def test_multi_sentence_input_is_split_and_rejoined(translator):
    (result,) = translator.translate(["One two three. Four five six."], beam_size=2)
    assert len(result.parts) == 2
    assert result.best == " ".join(p.best for p in result.parts)
    h = result.hypotheses[0]
    assert h.attention.shape == (len(h.ids), len(result.source_pieces))


def test_a_multi_sentence_text_has_the_n_best_combinations(translator):
    """Three candidates asked for a two-sentence text: the three best joins of the
    sentences' candidates, each naming which candidate of each sentence it joins."""
    (result,) = translator.translate(
        ["One two three. Four five six seven."], beam_size=3, n_best=3, length_penalty=0.6
    )
    first, second = result.parts
    assert len(first.hypotheses) == len(second.hypotheses) == 3
    every = sorted(
        ((a.finished and b.finished, a.score + b.score), (i + 1, j + 1))
        for i, a in enumerate(first.hypotheses)
        for j, b in enumerate(second.hypotheses)
    )[::-1]
    assert [h.sentence_ranks for h in result.hypotheses] == [list(r) for _, r in every[:3]]
    for h in result.hypotheses:
        i, j = h.sentence_ranks
        a, b = first.hypotheses[i - 1], second.hypotheses[j - 1]
        assert h.text == f"{a.text} {b.text}" and h.score == pytest.approx(a.score + b.score)
    assert (
        result.to_dict()["hypotheses"][1]["sentence_ranks"] == result.hypotheses[1].sentence_ranks
    )
    assert result.hypotheses[0].sentence_ranks == [1, 1]


def test_rerank_of_a_joined_text_keeps_the_score_of_its_sentences(translator):
    (result,) = translator.translate(
        ["One two three. Four five six seven."], beam_size=3, n_best=3, length_penalty=0.6
    )
    assert len(result.parts) == 2
    same = result.rerank(0.6)
    assert same.hypotheses[0].score == pytest.approx(result.hypotheses[0].score)
    assert same.hypotheses[0].score == pytest.approx(
        sum(p.hypotheses[0].score for p in result.parts)
    )
    assert len(same.parts) == 2 and same.best == result.best
    other = result.rerank(2.0)
    assert other.hypotheses[0].score == pytest.approx(
        sum(p.rerank(2.0).hypotheses[0].score for p in result.parts)
    )


def test_bare_string_is_refused(translator):
    with pytest.raises(ValueError, match="list of strings"):
        translator.translate("one two")


def test_options_or_fields_not_both(translator):
    with pytest.raises(ValueError, match="not both"):
        translator.translate(["one"], DecodeOptions(), beam_size=2)


def test_over_long_sentence_can_leave_an_empty_result(translator):
    short = Translator(translator.bundle, max_sentence_tokens=6, batch_size=4)
    results = short.translate(["one two", "one two three four five six seven"], errors="empty")
    assert results[0].best and not results[1].hypotheses
    assert "limit is 6" in results[1].error
    with pytest.raises(ValueError, match="limit is 6"):
        short.translate(["one two three four five six seven"])


def test_n_best_must_fit_the_beam(translator):
    with pytest.raises(ValueError, match="n_best"):
        translator.translate(["one"], beam_size=2, n_best=3)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("Hello. How are you?", ["Hello.", "How are you?"]),
        ("Version 3.5 is out.", ["Version 3.5 is out."]),
        ("Wait... what? Yes!", ["Wait... what?", "Yes!"]),
    ],
)
def test_split_sentences(text, parts):
    assert split_sentences(text) == parts


def test_sentences_join_with_a_space_except_after_full_width_punctuation():
    from seq2seq.translation import Hypothesis

    def hyp(text):
        return Hypothesis(
            ids=[4],
            text=text,
            pieces=["▁x"],
            log_prob=-1.0,
            score=-1.0,
            token_log_probs=[-1.0],
            attention=np.ones((1, 1)),
        )

    assert Hypothesis.join([hyp("Die Orks kommen!"), hyp("Wir gehen.")]).text == (
        "Die Orks kommen! Wir gehen."
    )
    assert Hypothesis.join([hyp("兽人来了！"), hyp("我们必须保卫村庄。"), hyp("Ja.")]).text == (
        "兽人来了！我们必须保卫村庄。Ja."
    )
    assert Hypothesis.join([hyp("好"), hyp("是")]).text == "好 是"  # no full stop: a space


def test_a_model_folder_sets_its_own_length_penalty(tiny_model_dir, tmp_path):
    import shutil

    from seq2seq import bundle

    folder = shutil.copytree(tiny_model_dir[0], tmp_path / "model")
    bundle.update_metadata(folder, decoding={"length_penalty": 1.5, "chosen_on": "a test"})
    own = Translator.load(folder, batch_size=4)
    assert own.default_options == DecodeOptions(length_penalty=1.5)
    (result,) = own.translate(["one two three"], beam_size=3, n_best=3)
    assert result.length_penalty == 1.5  # keywords change the model's defaults
    for h in result.hypotheses:
        assert h.score == pytest.approx(h.log_prob / ((5 + h.length) / 6) ** 1.5, rel=1e-5)
    (asked,) = own.translate(["one two three"], beam_size=3, length_penalty=0.0)
    assert asked.length_penalty == 0.0
    assert Translator.load(tiny_model_dir[0]).default_options == DecodeOptions()

    for decoding, message in [
        ({"length_penalty": "high"}, "length_penalty must be a number"),
        ({"beam_size": 3}, "unknown fields ['beam_size']"),
        ([1.0], "decoding must be an object"),
    ]:
        bundle.update_metadata(folder, decoding=decoding)
        with pytest.raises(bundle.BundleError, match="metadata.json") as error:
            Translator.load(folder)
        assert message in str(error.value)


@pytest.mark.parametrize("mode", [{"beam_size": 1}, {"beam_size": 3}])
def test_searchers_of_one_cache_keep_their_own_output_cap(tiny_model_dir, mode):
    """Two translators of one architecture share a graph cache; each decodes with its own
    output cap (the graph computes it, so the cap is part of the graph's key)."""
    from seq2seq.bundle import load
    from seq2seq.compiled import GraphCache

    cache, bundle = GraphCache(), load(tiny_model_dir[0])
    roomy = Translator(bundle, max_len_a=1.5, max_len_b=10, graphs=cache)
    tight = Translator(bundle, max_len_a=0.0, max_len_b=2, graphs=cache)
    text = ["one two three four five six seven"]
    assert len(roomy.translate(text, **mode)[0].hypotheses[0].ids) > 2
    assert len(tight.translate(text, **mode)[0].hypotheses[0].ids) <= 2
    assert len(cache.functions) == 2


@pytest.mark.slow
def test_a_model_without_attention_trains_and_translates(tiny_noattn_dir):
    """``attention: none`` through training.train, the model folder, greedy and beam
    search: each candidate's log-probability is the model's teacher-forced one, its
    attention rows are zero and the translation says it does not attend; the model learns
    the task well past chance (the reverse task is easy for a fixed context of 2-5 words)."""
    import keras

    translator = Translator.load(tiny_noattn_dir)
    assert translator.model.attention is None
    sources = [src for src, _ in reverse_task(20, seed=11)]
    for beam in (1, 3):
        results = translator.translate(sources, beam_size=beam, n_best=beam)
        for result in results:
            assert result.attends is False
            src = np.array([result.source_ids], "int32")
            for h in result.hypotheses:
                assert h.attention.shape == (h.length, len(result.source_pieces))
                assert not h.attention.any()
                tgt_in = np.array([[BOS, *h.ids[:-1]]], "int32")
                logits = np.asarray(translator.model((src, tgt_in)))[0]
                log_probs = np.asarray(keras.ops.log_softmax(logits, axis=-1))
                forced = log_probs[np.arange(h.length), h.ids]
                np.testing.assert_allclose(h.token_log_probs, forced, atol=1e-4)
    greedy = [r.best for r in translator.translate(sources, beam_size=1)]
    right = sum(g == " ".join(reversed(s.split())) for g, s in zip(greedy, sources))
    assert right >= 10, greedy


def test_a_given_translation_is_scored_as_the_beam_scores_it(translator):
    """Scoring the beam's own candidates gives their scores and ranks back (teacher forcing
    and the search run the same step); a wrong translation scores lower, ranks below the
    beam, and the model's own piece is shown where it disagrees."""
    (beam,) = translator.translate(["one two three"], beam_size=4, n_best=4, split=False)
    texts = [h.text for h in beam.hypotheses]
    scored = translator.score(["one two three"] * len(texts), texts, beam_size=4, n_best=4)
    for rank, (candidate, s) in enumerate(zip(beam.hypotheses, scored), 1):
        assert s.hypothesis.ids == candidate.ids and s.rank == rank
        assert s.hypothesis.score == pytest.approx(candidate.score, abs=1e-4)
        np.testing.assert_allclose(
            s.hypothesis.token_log_probs, candidate.token_log_probs, atol=1e-4
        )
        np.testing.assert_allclose(s.hypothesis.attention, candidate.attention, atol=1e-5)
    best = scored[0]
    assert best.token_ranks == [1] * best.hypothesis.length  # the greedy path: argmax each time
    assert best.best_pieces == best.hypothesis.pieces and max(best.gaps()) == pytest.approx(0)

    (wrong,) = translator.score(["one two three"], ["one two three"], beam_size=4, n_best=4)
    assert wrong.hypothesis.score < beam.hypotheses[-1].score and wrong.rank is None
    assert wrong.best_pieces[0] == best.hypothesis.pieces[0] and wrong.token_ranks[0] > 1
    assert max(wrong.gaps()) > 1.0
    answer = wrong.to_dict()
    assert answer["rank"] is None and len(answer["tokens"]) == wrong.hypothesis.length
    assert answer["tokens"][0]["best_piece"] == best.hypothesis.pieces[0]
    assert len(answer["attention"]) == wrong.hypothesis.length


@pytest.mark.parametrize(
    "texts, translations, message",
    [
        (["one"], ["   "], "translation to score is empty"),
        (["one", "two"], ["eins"], "2 texts but 1 translations"),
        (["one"], "eins", "texts must be a list"),
    ],
)
def test_scoring_refuses_what_it_cannot_score(translator, texts, translations, message):
    with pytest.raises(ValueError, match=message):
        translator.score(texts, translations)


@pytest.mark.parametrize("beam", [1, 4])
def test_a_forced_prefix_starts_every_candidate_and_counts_in_its_score(translator, beam):
    """Candidates all begin with the prefix; each scores as teacher forcing scores it (the
    prefix's log-probs included); an empty prefix changes nothing."""
    text = "one two three four"
    (plain,) = translator.translate([text], beam_size=beam, n_best=beam, split=False)
    (same,) = translator.translate([text], beam_size=beam, n_best=beam, prefixes=[""])
    assert [h.ids for h in same.hypotheses] == [h.ids for h in plain.hypotheses]
    prefix = translator.tokenizer.encode("two")
    assert plain.hypotheses[0].ids[: len(prefix)] != prefix  # the model would not start so
    (forced,) = translator.translate([text], beam_size=beam, n_best=beam, prefixes=[prefix])
    assert len(forced.hypotheses) == beam
    for h in forced.hypotheses:
        assert h.ids[: len(prefix)] == prefix
        (scored,) = translator.score([text], [h.text], beam_size=beam)
        if scored.hypothesis.ids == h.ids:  # (the text re-encodes to the same pieces)
            np.testing.assert_allclose(
                scored.hypothesis.token_log_probs, h.token_log_probs, atol=1e-4
            )
    assert forced.hypotheses[0].log_prob < plain.hypotheses[0].log_prob
    (as_text,) = translator.translate([text], beam_size=beam, n_best=beam, prefixes=["two"])
    assert [h.ids for h in as_text.hypotheses] == [h.ids for h in forced.hypotheses]


def test_a_forced_prefix_with_sampling_and_bad_prefixes(translator):
    prefix = translator.tokenizer.encode("five six")
    (sampled,) = translator.translate(
        ["one two"], temperature=1.0, n_best=3, seed=1, prefixes=[prefix]
    )
    assert all(h.ids[: len(prefix)] == prefix for h in sampled.hypotheses)
    with pytest.raises(ValueError, match="one prefix per text"):
        translator.translate(["one", "two"], prefixes=["x"])
    with pytest.raises(ValueError, match="pieces of the vocabulary"):
        translator.translate(["one"], prefixes=[[3]])  # EOS
    with pytest.raises(ValueError, match="the prefix has 30 pieces"):
        translator.translate(["one"], prefixes=[prefix * 15])
