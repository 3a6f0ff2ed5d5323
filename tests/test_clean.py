"""Cleaning filters and the corpus split."""

from training.catalogs import read_mo
from training.clean import clean, reject_reason, strip_format_tags
from training.corpus import split


def test_filters_name_their_reason():
    assert reject_reason("Hello", "Hello") == "untranslated"
    assert reject_reason("Hello $name", "Hallo $name") == "markup_or_placeholder"
    assert reject_reason("Print %s now", "Druck %s jetzt") == "markup_or_placeholder"
    assert reject_reason("See {Printer}", "Siehe {Drucker}") == "markup_or_placeholder"
    assert reject_reason("12", "12") == "no_letters"
    assert (
        reject_reason("Hi", "Hallo, wie geht es dir denn heute so, mein Freund?") == "length_ratio"
    )
    assert reject_reason("a " * 60, "b " * 60) == "too_long"
    assert reject_reason("Good night.", "Gute Nacht.") is None


def test_clean_normalises_counts_and_dedupes():
    pairs = [
        ("  Good\u00a0night. ", "Gute\tNacht."),
        ("Good night.", "Gute Nacht."),
        ("Ok", "Ok"),
        ("It is <i>me</i>.", "Ich bin <i>es</i>."),
    ]
    kept, counts = clean(pairs)
    assert kept == [("Good night.", "Gute Nacht."), ("It is me.", "Ich bin es.")]
    assert counts["raw"] == 4 and counts["duplicate"] == 1 and counts["untranslated"] == 1
    assert counts["kept"] == 2
    assert strip_format_tags('<span color="red">x</span>') == "x"


def test_split_is_seeded_disjoint_and_keeps_one_reference():
    pairs = {
        "a": [(f"sentence {i}", f"Satz {i}") for i in range(300)] + [("sentence 1", "Satz eins")],
        "b": [(f"line {i}", f"Zeile {i}") for i in range(100)],
    }
    one, dropped, frozen = split(pairs, held_out=40, seed=7, min_per_source=10)
    two, *_ = split(pairs, held_out=40, seed=7, min_per_source=10)
    assert not frozen
    assert one == two
    train = {r[0].casefold() for r in one["train"]}
    for name in ("dev", "test"):
        assert {r[2] for r in one[name]} == {"a", "b"}
        assert not train & {r[0].casefold() for r in one[name]}
    total = sum(len(v) for v in one.values()) + sum(dropped.values())
    assert total == 401


def test_split_drops_frozen_sentences_and_holds_out_only_the_named_sources():
    pairs = {
        "a": [(f"sentence {i}", f"Satz {i}") for i in range(300)],
        "b": [(f"line {i}", f"Zeile {i}") for i in range(100)],
    }
    frozen = {"sentence 3", "line 7"}
    out, _, dropped = split(
        pairs, held_out=40, seed=7, min_per_source=10, frozen=frozen, held_sources={"b"}
    )
    assert dropped == {"a": 1, "b": 1}
    assert {r[2] for name in ("dev", "test") for r in out[name]} == {"b"}
    assert not frozen & {r[0].casefold() for rows in out.values() for r in rows}


def test_read_mo(tmp_path):
    # A two-message catalog written with the stdlib's format: header + one context message.
    import struct

    msgs = [(b"", b"Content-Type: text/plain; charset=UTF-8\n"), (b"ctx\x04Hello", b"Hallo")]
    ids = b"".join(m[0] + b"\0" for m in msgs)
    strs = b"".join(m[1] + b"\0" for m in msgs)
    start = 7 * 4 + 16 * len(msgs)
    orig, trans, off = [], [], 0
    for m, _ in msgs:
        orig += [len(m), start + off]
        off += len(m) + 1
    off2 = 0
    for _, t in msgs:
        trans += [len(t), start + len(ids) + off2]
        off2 += len(t) + 1
    header = struct.pack("<7I", 0x950412DE, 0, len(msgs), 28, 28 + 8 * len(msgs), 0, 0)
    data = header + struct.pack(f"<{len(orig)}I", *orig) + struct.pack(f"<{len(trans)}I", *trans)
    (tmp_path / "x.mo").write_bytes(data + ids + strs)
    assert list(read_mo(tmp_path / "x.mo")) == [("Hello", "Hallo")]
