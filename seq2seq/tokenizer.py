"""Subword tokenizer: a SentencePiece unigram model shared by source and target.

Why joint: names, numbers and technical terms (LibreOffice function names, Wesnoth
heroes) are copied between English and German/French; one vocabulary segments them the
same way on both sides, and one file travels with the model.

Special ids are fixed for every model (the search and the loss rely on them):
``PAD = 0``, ``UNK = 1``, ``BOS = 2``, ``EOS = 3``. With byte fallback, any Unicode text
(unseen scripts, emoji) encodes to known pieces, so UNK is practically never produced.

Text is normalised before encoding (NFC, whitespace collapsed; :func:`normalize`) and
SentencePiece's own normaliser is the identity, so ``decode(encode(x)) == normalize(x)``.

Not for: corpus cleaning (see ``training.clean``), which uses the same :func:`normalize`.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import sentencepiece as spm

PAD, UNK, BOS, EOS = 0, 1, 2, 3
FILENAME = "tokenizer.model"

# Character classes of written Chinese, shared by cleaning, word merging and sentence
# joining: Han characters, and CJK symbols/punctuation plus full-width forms (。，！).
HANZI = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCTUATION = r"\u3000-\u303f\uff01-\uff60"
CJK = re.compile(f"[{CJK_PUNCTUATION}{HANZI}]")  # one Chinese character or mark

_WS = re.compile(r"\s+")
# Control characters other than whitespace, and lone surrogates (which cannot be UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Invisible format characters (Unicode category Cf: zero-width, bidi marks, BOM, soft hyphen).
_FORMAT = re.compile(
    "[" + "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf") + "]"
)


# Letters and symbols that draw nothing: the Hangul fillers and the blank Braille pattern.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible(text: str) -> bool:
    """Whether ``text`` has something to translate: a letter, digit, punctuation mark or
    symbol that draws something (Unicode categories L, N, P, S, but not the fillers in
    :data:`_BLANK`). Whitespace, control and format characters, combining marks on their
    own, variation selectors, private-use and unassigned code points do not count. The one
    definition of "nothing to translate" (library, CLI, app)."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK for ch in text)


def normalize(text: str) -> str:
    """Unicode NFC and collapsed whitespace (tabs, newlines, no-break spaces → one space);
    control and format characters (category Cf: zero-width, bidi marks, BOM) are dropped,
    lone surrogates become U+FFFD. Text with nothing visible (:func:`has_visible`)
    normalises to ``""``."""
    text = _SURROGATE.sub("\ufffd", _FORMAT.sub("", _CONTROL.sub("", text)))
    text = _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text if has_visible(text) else ""


class Tokenizer:
    """A SentencePiece model held as bytes (no file paths inside).

    Args:
        model_proto: the serialized SentencePiece model.

    Example:
        >>> tok = Tokenizer.train(["Hallo Welt", "Hello world"] * 50, vocab_size=300)
        >>> tok.decode(tok.encode("Hello world"))
        'Hello world'
    """

    def __init__(self, model_proto: bytes):
        self.model_proto = bytes(model_proto)
        self._sp = spm.SentencePieceProcessor(model_proto=self.model_proto)
        specials = (self._sp.pad_id(), self._sp.unk_id(), self._sp.bos_id(), self._sp.eos_id())
        if specials != (PAD, UNK, BOS, EOS):
            raise ValueError(
                f"tokenizer special ids (pad, unk, bos, eos) are {specials}, "
                f"expected {(PAD, UNK, BOS, EOS)}"
            )

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int = 8000,
        model_type: str = "unigram",
        max_sentences: int = 2_000_000,
        character_coverage: float = 0.9995,
    ) -> Tokenizer:
        """Train on ``texts`` (both languages of the training split, already cleaned).

        ``character_coverage``: share of the characters of ``texts`` that get pieces; the
        rarest of the rest are spelled in UTF-8 bytes. On the en-zh corpus (English and
        Chinese halves joined) 0.9995 left 1.3 % of the Chinese test pieces as bytes
        (rare characters, 3 pieces each), 1.0 left 0.2 % (characters never seen)."""
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=(normalize(t) for t in texts),
            model_writer=buffer,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=character_coverage,
            byte_fallback=True,
            hard_vocab_limit=False,  # small corpora may have fewer pieces than asked for
            split_digits=True,
            normalization_rule_name="identity",
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            input_sentence_size=max_sentences,
            shuffle_input_sentence=True,
            num_threads=2,
            minloglevel=2,
        )
        return cls(buffer.getvalue())

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """Ids of the normalised ``text``, without BOS/EOS."""
        return self._sp.encode(normalize(text))

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self._sp.encode([normalize(t) for t in texts])

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; PAD, BOS and EOS are skipped (an UNK shows as ``⁇``)."""
        return self._sp.decode([int(i) for i in ids if int(i) not in (PAD, BOS, EOS)])

    def silent(self) -> np.ndarray:
        """``(vocab_size,)`` bool: the pieces that write no visible text on their own
        (``▁``, whitespace bytes), which EOS may not follow in a search (no empty output).
        PAD, BOS and EOS are not marked."""
        specials = (PAD, BOS, EOS)
        return np.array(
            [i not in specials and not self._sp.decode([i]).strip() for i in range(self.vocab_size)]
        )

    def pieces(self, ids: Iterable[int]) -> list[str]:
        """Human-readable piece of each id (``▁`` marks a word start; bytes as ``<0xE2>``)."""
        return [self._sp.id_to_piece(int(i)) for i in ids]

    def save(self, folder: Path) -> Path:
        path = Path(folder) / FILENAME
        path.write_bytes(self.model_proto)
        return path

    @classmethod
    def load(cls, folder: Path) -> Tokenizer:
        path = Path(folder) / FILENAME
        try:
            return cls(path.read_bytes())
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: tokenizer file missing") from None
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"{path}: not a valid SentencePiece model ({e})") from None
