"""The sentence splitter: abbreviations, initials, ordinals, decimals, ellipses, quotes and
Chinese full stops, and that the translator and the corpus builder share it."""

import pytest

from seq2seq.sentences import split_sentences

SPLITS = [
    # Abbreviations and initials (en/de/fr): the cases.
    (
        "Dr. Smith lives in St. Louis. He works for Mr. Brown.",
        ["Dr. Smith lives in St. Louis.", "He works for Mr. Brown."],
    ),
    (
        "Das ist z. B. ein Test. Hier ist noch einer.",
        ["Das ist z. B. ein Test.", "Hier ist noch einer."],
    ),
    (
        "Das ist z.B. ein Test. Hier ist noch einer.",
        ["Das ist z.B. ein Test.", "Hier ist noch einer."],
    ),
    (
        "M. Dupont habite à Paris. Il travaille chez Mme Martin.",
        ["M. Dupont habite à Paris.", "Il travaille chez Mme Martin."],
    ),
    ("J. R. R. Tolkien wrote it. It is long.", ["J. R. R. Tolkien wrote it.", "It is long."]),
    (
        "Ich wohne in der Hauptstr. 5. Das ist schön.",
        ["Ich wohne in der Hauptstr. 5.", "Das ist schön."],
    ),
    ("You like it? So do I. Then we agree.", ["You like it?", "So do I.", "Then we agree."]),
    # German ordinals are no sentence end; other numbers before a capital are.
    ("Am 5. Mai fahren wir. Kommst du mit?", ["Am 5. Mai fahren wir.", "Kommst du mit?"]),
    (
        "Er wurde in der 83. Minute eingewechselt. Dann traf er.",
        ["Er wurde in der 83. Minute eingewechselt.", "Dann traf er."],
    ),
    ("I was born in 1990. Then I moved.", ["I was born in 1990.", "Then I moved."]),
    ("It is numbered week 1. That means it.", ["It is numbered week 1.", "That means it."]),
    ("Open the file. 2. Save it.", ["Open the file.", "2. Save it."]),
    # Decimals, versions and names with dots are no sentence end.
    ("It costs 3.50 euros. That is cheap.", ["It costs 3.50 euros.", "That is cheap."]),
    ("Version 3.5 is out.", ["Version 3.5 is out."]),
    ("Visit wesnoth.org. It is fun.", ["Visit wesnoth.org.", "It is fun."]),
    # Ellipses: a sentence end only before a capital.
    ("Wait... what? Yes!", ["Wait... what?", "Yes!"]),
    ("Wait… What? Yes!", ["Wait…", "What?", "Yes!"]),
    # Closing quotes stay with their sentence; opening quotes go with the next.
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ('He left. "Why?" she asked.', ["He left.", '"Why?" she asked.']),
    ("Er sagte: „Halt.“ Dann ging er.", ["Er sagte: „Halt.“", "Dann ging er."]),
    ("Il a dit : « Arrête. » Puis il est parti.", ["Il a dit : « Arrête. »", "Puis il est parti."]),
    ("'It rained.' 'Oh, that figures.'", ["'It rained.'", "'Oh, that figures.'"]),
    ('He wrote "Plan B." Then he left.', ['He wrote "Plan B."', "Then he left."]),
    # Chinese: full stops need no space after them.
    ("你好。我是汤姆！你呢？", ["你好。", "我是汤姆！", "你呢？"]),
    (
        "他说：“走吧。”然后离开了。你们认识？！好的",
        ["他说：“走吧。”", "然后离开了。", "你们认识？！", "好的"],
    ),
    ("呃啊！！！", ["呃啊！！！"]),
    # No end punctuation, or nothing after it.
    ("no end punctuation here", ["no end punctuation here"]),
    ("  Hello.  How are you?  ", ["Hello.", "How are you?"]),
]

UNSPLIT = [
    "Apples, pears etc. Then more.",  # in doubt (an abbreviation that may end a sentence)
    "He lives in the U.S. Now he is back.",
    "Das kostet ca. 5 Euro.",
    "Jesus soll am 7. April 30 n. Chr. gestorben sein.",
    "Im 19. Jahrhundert war das anders.",
    "Tel. (Home)",
    "例如 Mr. Smith 来了。",
]


@pytest.mark.parametrize("text, sentences", SPLITS)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize("text", UNSPLIT)
def test_no_sentence_end_inside(text):
    assert split_sentences(text) == [text]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []


@pytest.mark.parametrize("text", [t for t, _ in SPLITS] + UNSPLIT)
def test_splitting_loses_and_moves_nothing(text):
    def no_space(s):
        return "".join(s.split())

    assert no_space("".join(split_sentences(text))) == no_space(text)


def test_translator_evaluation_and_corpus_share_one_splitter():
    from seq2seq import translation, translator
    from training import sources

    assert translation.split_sentences is split_sentences
    assert translator.split_sentences is split_sentences
    assert sources.split_sentences is split_sentences
