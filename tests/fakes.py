"""Stand-ins for the service's tests: a translator that reverses words."""

from types import SimpleNamespace

import numpy as np

from seq2seq.options import DecodeOptions
from seq2seq.translation import Hypothesis, Translation
from webapp.files import Upload


class FakeTranslator:
    """Reverses the words of each text; "EMPTY" gives an empty output and "HUGE" a line
    over the token cap (the library's ``errors="empty"`` answer). ``attends`` False: a
    model without attention (all-zero attention rows)."""

    bundle = SimpleNamespace(direction="xx-yy", path="/nonexistent")
    tokenizer = SimpleNamespace(encode_batch=lambda texts: [t.split() for t in texts])

    def __init__(self, length_penalty=0.6, attends=True):
        self.seen, self.attends = [], attends
        self.default_options = DecodeOptions(length_penalty=length_penalty)
        config = SimpleNamespace(
            src_lang="xx",
            tgt_lang="yy",
            attention="bahdanau" if attends else "none",
            has_attention=attends,
        )
        self.model = SimpleNamespace(model_config=config)

    def translate(self, texts, options, split=True, errors="raise", tree=False, prefixes=None):
        assert isinstance(texts, list)
        self.seen += texts
        return [self._one(text, options, errors) for text in texts]

    def _one(self, text, options, errors):
        if "HUGE" in text:
            if errors == "raise":
                raise ValueError("a sentence has 999 subword tokens; the limit is 200")
            return Translation(
                text, [], [], [], options.length_penalty, error="a sentence has 999 subword tokens"
            )
        words = [] if "EMPTY" in text else text.split()[::-1]
        n, m = len(words) + 1, len(text.split()) + 1
        hyp = Hypothesis(
            ids=list(range(n)),
            text=" ".join(words),
            pieces=[*words, "</s>"],
            log_prob=-1.0,
            score=float("nan"),
            token_log_probs=[-0.5] * n,
            attention=np.full((n, m), 1.0 / m if self.attends else 0.0),
        )
        source = [*text.split(), "</s>"]
        alpha = options.length_penalty
        return Translation(text, list(range(m)), source, [hyp], alpha, attends=self.attends)


def upload(tmp_path, data: bytes, name="in.txt") -> Upload:
    """What the page's upload event keeps in the session (see test_uploads_*)."""
    return Upload(name, data)
