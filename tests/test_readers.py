"""Readers of users' corpora: TSV (2/3 columns) and Moses pairs; bad lines are named."""

import gzip

import pytest

from training.readers import CorpusFormatError, read_corpus, read_moses, read_tsv


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_tsv_two_and_three_columns_and_gzip(tmp_path):
    data = "Hello\tHallo\nGood night.\tGute Nacht.\tCC-BY 2.0 (France) Attribution: tatoeba.org\n"
    plain = write(tmp_path / "a.tsv", data.encode())
    gz = tmp_path / "a.tsv.gz"
    gz.write_bytes(gzip.compress(data.encode()))
    for path in (plain, gz):
        pairs, report = read_tsv(path)
        assert [(p.src, p.tgt) for p in pairs] == [
            ("Hello", "Hallo"),
            ("Good night.", "Gute Nacht."),
        ]
        assert pairs[1].origin.startswith("CC-BY")
        assert report.pairs == 2 and not report.skipped


def test_tsv_reverse_swaps_columns(tmp_path):
    pairs, _ = read_tsv(write(tmp_path / "a.tsv", b"Hello\tHallo\n"), reverse=True)
    assert (pairs[0].src, pairs[0].tgt) == ("Hallo", "Hello")


@pytest.mark.parametrize(
    "data, reason, line",
    [
        (b"ok\tgut\njust one column\n", "wrong column count", 2),
        (b"ok\tgut\na\tb\tc\td\n", "wrong column count", 2),
        (b"ok\tgut\nbad \xff byte\tx\n", "not UTF-8", 2),
        (b"\tgut\n", "empty source", 1),
        (b"ok\t \n", "empty target", 1),
    ],
)
def test_tsv_bad_lines_name_file_and_line(tmp_path, data, reason, line):
    path = write(tmp_path / "bad.tsv", data)
    with pytest.raises(CorpusFormatError) as e:
        read_tsv(path)
    assert f"{path}:{line}: {reason}" in str(e.value)
    pairs, report = read_tsv(path, skip_bad=True)
    assert report.skipped[reason] == 1
    assert len(pairs) == data.count(b"\n") - 1


def test_blank_lines_are_skipped_and_counted(tmp_path):
    pairs, report = read_tsv(write(tmp_path / "a.tsv", b"a\tb\n\n  \nc\td\n"))
    assert len(pairs) == 2
    assert report.skipped["blank line"] == 2
    assert "a.tsv:2" in report.where[0]
    assert "skipped 2 blank line" in report.summary()


def test_moses_pair(tmp_path):
    en = write(tmp_path / "c.en", b"Hello\n\nBye\n")
    de = write(tmp_path / "c.de", b"Hallo\n\nTsch\xc3\xbcss\n")
    pairs, report = read_corpus(f"{en},{de}")
    assert [(p.src, p.tgt) for p in pairs] == [("Hello", "Hallo"), ("Bye", "Tschüss")]
    assert report.skipped["blank line"] == 1


def test_moses_errors(tmp_path):
    en = write(tmp_path / "c.en", b"Hello\nBye\n")
    short = write(tmp_path / "c.de", b"Hallo\n")
    with pytest.raises(CorpusFormatError, match="line counts differ: 2 vs 1"):
        read_moses(en, short)
    half = write(tmp_path / "d.de", b"Hallo\n\n")
    with pytest.raises(CorpusFormatError, match=r"d\.de:2: empty line opposite"):
        read_moses(en, half)
    pairs, report = read_moses(en, half, skip_bad=True)
    assert len(pairs) == 1 and sum(report.skipped.values()) == 1


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(CorpusFormatError, match="no such file"):
        read_tsv(tmp_path / "nope.tsv")
    with pytest.raises(CorpusFormatError, match="cannot be read"):
        read_tsv(write(tmp_path / "x.tsv.gz", b"not gzip at all"))
