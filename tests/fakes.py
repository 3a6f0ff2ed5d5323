"""Stand-ins for the service's tests: a translator that reverses words."""

from types import SimpleNamespace

import numpy as np

from seq2seq.options import DecodeOptions
from seq2seq.translation import Hypothesis, Translation
from webapp.files import Upload


class FakeTranslator:
    """Reverses the words of each text; "EMPTY" gives an empty output and "HUGE" a line
    over the token cap (the library's ``errors="empty"`` answer)."""

    bundle = SimpleNamespace(direction="xx-yy", path="/nonexistent")
    model = SimpleNamespace(model_config=SimpleNamespace(src_lang="xx", tgt_lang="yy"))
    tokenizer = SimpleNamespace(encode_batch=lambda texts: [t.split() for t in texts])

    def __init__(self, length_penalty=0.6):
        self.seen = []
        self.default_options = DecodeOptions(length_penalty=length_penalty)

    def translate(self, texts, options, split=True, errors="raise", tree=False):
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
            attention=np.full((n, m), 1.0 / m),
        )
        return Translation(
            text, list(range(m)), [*text.split(), "</s>"], [hyp], options.length_penalty
        )


def upload(tmp_path, data: bytes, name="in.txt") -> Upload:
    """What the page's upload event keeps in the session (see test_uploads_*)."""
    return Upload(name, data)
