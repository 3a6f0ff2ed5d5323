"""training.evaluate never stops on a test line: the tiny model with over-long lines."""

import json
import re
from types import SimpleNamespace

import pytest
from conftest import reverse_task, write_tsv

from training import evaluate


@pytest.mark.slow
def test_over_long_lines_are_counted_not_fatal(tiny_model_dir, tmp_path, capsys, caplog):
    folder = tiny_model_dir[0]
    # Each digit word is one subword piece of the tiny model; the translator adds an EOS.
    pairs = reverse_task(10, seed=5)
    at_cap = ["one", "two", "three", "four"] * 49 + ["five"] * 3  # 200 tokens: fits the app
    over_cap = at_cap + ["six"]  # 201 tokens (< 2,000 characters): over the app's cap
    too_long = ["six", "seven"] * 550  # > 1,024 tokens and > 2,000 characters: fails
    for words in (at_cap, over_cap, too_long):
        pairs.append((" ".join(words), " ".join(reversed(words))))
    pairs += reverse_task(3, seed=6)
    test = write_tsv(tmp_path / "test.tsv", pairs)

    evaluate.main(["--model", str(folder), "--test", str(test), "--json"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["sentences"] == 16 and result["bleu"] > 0  # the long lines dominate BLEU
    assert result["max_sentence_tokens"] == 1024
    assert result["over_app_caps"] == {
        "sentence_tokens": 2,
        "chars": 1,
        "lines": 2,
        "max_sentence_tokens": 200,
        "max_input_chars": 2000,
    }
    assert result["failed"] == 1
    [failure] = result["failures"]
    assert failure["pair"] == 13  # the library's own message, not a fallback's exception:
    library_message = r"a sentence has \d+ subword tokens; the limit is 1024 .*"
    assert re.fullmatch(library_message, failure["error"])
    assert "warning: test pair 13 not translated (scored as empty)" in captured.err
    assert "one text at a time" not in caplog.text  # one call: the batches of the scores
    assert [e["hypothesis"] for e in result["examples"]][:2] == [p[1] for p in pairs[:2]]


def test_scores_are_the_whole_vocabulary_unless_asked(tiny_model_dir, tmp_path, capsys):
    test = write_tsv(tmp_path / "test.tsv", reverse_task(20, seed=7))
    results = []
    for extra in ([], ["--shortlist"]):
        evaluate.main(["--model", str(tiny_model_dir[0]), "--test", str(test), "--json", *extra])
        results.append(json.loads(capsys.readouterr().out))
    assert [r["shortlist"] for r in results] == [False, True]
    assert [r["length_penalty"] for r in results] == [0.6, 0.6]  # the model sets none
    assert results[0]["bleu"] == results[1]["bleu"]  # the tiny vocabulary fits the set


def test_one_failing_text_costs_only_itself():
    """Should the call for all texts raise, each text is translated alone."""

    class Flaky:
        max_input_chars = 20

        def translate(self, texts, options, errors):
            assert errors == "empty" and options.beam_size == 5
            if any("bad" in t for t in texts):
                raise RuntimeError("boom")
            return [SimpleNamespace(best=t.upper(), error="" if t else "empty?") for t in texts]

    texts = ["a b", "bad", "c", "x" * 21, ""]
    hypotheses, failures = evaluate.translate_all(Flaky(), texts, evaluate.DecodeOptions())
    assert hypotheses == ["A B", "", "C", "", ""]
    assert failures == {
        1: "RuntimeError: boom",
        3: "21 characters; the limit is 20",
        4: "empty?",
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (["--beam-size", "11"], "--beam-size must be between 1 and 10, got 11"),
        (["--beam-size", "0"], "--beam-size must be between 1 and 10, got 0"),
        (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
        (["--max-sentence-tokens", "1"], "--max-sentence-tokens must be at least 2"),
        (["--limit", "0"], "--limit must be at least 1, got 0"),
        (["--length-penalty", "nan"], "--length-penalty must be a number between 0 and 5"),
        (["--length-penalty", "-1"], "--length-penalty must be a number between 0 and 5"),
    ],
)
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--model", "unused", "--test", "unused", *args])
    assert exit_info.value.code == 2
    assert f"error: {message}" in capsys.readouterr().err


def test_the_length_penalty_is_the_models_unless_given(tiny_model_dir, tmp_path, capsys):
    import shutil

    from seq2seq import bundle

    folder = shutil.copytree(tiny_model_dir[0], tmp_path / "model")
    bundle.update_metadata(folder, decoding={"length_penalty": 1.5})
    test = write_tsv(tmp_path / "test.tsv", reverse_task(5, seed=7))
    alphas = []
    for extra in ([], ["--length-penalty", "0.2"]):
        evaluate.main(["--model", str(folder), "--test", str(test), "--json", *extra])
        alphas.append(json.loads(capsys.readouterr().out)["length_penalty"])
    assert alphas == [1.5, 0.2]


def test_everyday_scores_only_the_pairs_whose_english_is_everyday(tiny_model_dir, tmp_path, capsys):
    rows = [
        ("Where is the train station?", "Wo ist der Bahnhof?"),
        ("Click the Preferences icon in the toolbar.", "Klicken Sie auf das Symbol."),
        ("I am sleeping.", "Ich schlafe."),
        ("Where is Tom sleeping?", "Wo schläft Tom?"),  # a name
    ]
    test = write_tsv(tmp_path / "test.tsv", rows)
    args = ["--model", str(tiny_model_dir[0]), "--test", str(test), "--json"]
    evaluate.main(args)
    assert json.loads(capsys.readouterr().out)["pairs"] == 4
    evaluate.main([*args, "--everyday"])
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"] == 2 and result["everyday"]
    sources = [e["source"] for e in result["examples"]]
    assert sources == ["Where is the train station?", "I am sleeping."]
    none = write_tsv(tmp_path / "none.tsv", rows[1:2])
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--model", str(tiny_model_dir[0]), "--test", str(none), "--everyday"])
    assert exit_info.value.code == 1
    assert "no pair whose English is everyday" in capsys.readouterr().err


def test_unreadable_test_file_is_a_clean_error(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"one two\ttwo one\nno tab here\n")
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--model", str(tiny_model_dir[0]), "--test", str(bad)])
    assert exit_info.value.code == 1
    assert "wrong column count" in capsys.readouterr().err


def test_chinese_targets_are_scored_with_chinese_tokenization():
    hyp, ref = ["汤姆喜欢足球。"], ["汤姆喜欢踢足球。"]  # one character missing
    zh = evaluate.score(hyp, ref, "zh")
    assert "tok:zh" in zh["bleu_signature"] and zh["bleu"] > 40
    as_words = evaluate.score(hyp, ref, "de")  # 13a: each sentence is one "word"
    assert "tok:13a" in as_words["bleu_signature"] and as_words["bleu"] == 0
    assert zh["chrf"] == as_words["chrf"]  # chrF works on characters either way


@pytest.mark.parametrize(
    "counts, expected",
    [
        # words 1-10, 11-20, 21-30, 31-40, 41+ (sentences in each) → the buckets reported
        ((300, 300, 200, 150, 120), [(0, 10), (11, 20), (21, 30), (31, 40), (41, None)]),
        ((300, 300, 200, 60, 30), [(0, 10), (11, 20), (21, None)]),  # 41+ then 31+ merged
        ((300, 300, 50, 150, 120), [(0, 10), (11, 30), (31, 40), (41, None)]),
        ((40, 300, 200, 150, 120), [(0, 20), (21, 30), (31, 40), (41, None)]),
        ((20, 10, 5, 0, 0), [(0, None)]),  # fewer than 100 in all: one bucket
    ],
)
def test_length_buckets_merge_small_ones_into_a_neighbour(counts, expected):
    lengths = [n for count, n in zip(counts, (5, 15, 25, 35, 50)) for _ in range(count)]
    assert evaluate.length_buckets(lengths) == expected


def test_by_length_scores_each_bucket_and_counts_every_sentence():
    """Each bucket is scored on its own sentences (a bucket translated perfectly has BLEU
    100); the sizes add up to the test's; Chinese sources count characters."""
    short = [f"word {i} here" for i in range(150)]  # 3 words: 1-10
    long = [" ".join(f"w{i}{j}" for j in range(12)) for i in range(120)]  # 12 words: 11-20
    sources = short + long
    references = [f"ref {i} a b c d" for i in range(len(sources))]
    hypotheses = references[:150] + ["wrong"] * 120
    buckets = evaluate.by_length(sources, hypotheses, references, "en", "de")
    assert [(b["bucket"], b["n"]) for b in buckets] == [("1-10", 150), ("11+", 120)]
    assert buckets[0]["bleu"] == 100.0 and buckets[1]["bleu"] < 5
    assert sum(b["n"] for b in buckets) == len(sources)
    assert (
        evaluate.source_words("我 爱 你们", "zh") == 4 and evaluate.source_words("a b", "en") == 2
    )


@pytest.mark.slow
def test_by_length_is_in_the_json_and_the_printout(tiny_model_dir, tmp_path, capsys):
    test = write_tsv(tmp_path / "test.tsv", reverse_task(120, seed=8))
    evaluate.main(["--model", str(tiny_model_dir[0]), "--test", str(test), "--json"])
    assert "by_length" not in json.loads(capsys.readouterr().out)
    args = ["--model", str(tiny_model_dir[0]), "--test", str(test), "--by-length"]
    evaluate.main([*args, "--json"])
    result = json.loads(capsys.readouterr().out)
    # the task's 2-5 words: the empty longer buckets merge into one, "1+"
    assert [b["bucket"] for b in result["by_length"]] == ["1+"]
    assert result["by_length"][0]["n"] == 120 and result["by_length"][0]["bleu"] == result["bleu"]
    evaluate.main(args)
    assert re.search(
        r"1\+ words\s+BLEU\s+[\d.]+\s+chrF\s+[\d.]+\s+\(120\)", capsys.readouterr().out
    )
