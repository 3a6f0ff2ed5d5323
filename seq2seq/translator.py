"""Translator: texts in → :class:`~seq2seq.translation.Translation` objects out.

Checks the texts, splits them into sentences, tokenizes, batches sentences of similar
length and hands each batch to :class:`~seq2seq.compiled.CompiledSearch`; turns the
search's arrays into hypotheses.

Not for: the search algorithms (see :mod:`seq2seq.search`), compiled shapes (see
:mod:`seq2seq.compiled`), joining and re-ranking (see :mod:`seq2seq.translation`).
"""

from __future__ import annotations

import numpy as np

from seq2seq import hub
from seq2seq.beam_tree import BeamTree
from seq2seq.bundle import Bundle, BundleError
from seq2seq.compiled import PROCESS_GRAPHS, CompiledSearch, GraphCache
from seq2seq.options import MAX_INPUT_CHARS, MAX_SENTENCE_TOKENS, DecodeOptions
from seq2seq.penalties import NEG, gnmt_penalty
from seq2seq.scoring import Scored, beam_rank, forced_hypothesis
from seq2seq.tokenizer import BOS, EOS, normalize
from seq2seq.translation import Hypothesis, Translation, split_sentences

__all__ = ["Hypothesis", "Translation", "Translator", "split_sentences"]
ERRORS = ("raise", "empty")


class Translator:
    """Translate with a loaded :class:`seq2seq.bundle.Bundle`.

    Args:
        bundle: the loaded model folder.
        batch_size: sentences per compiled call.
        max_len_a, max_len_b: an output has at most ``a * source_width + b`` tokens.
        jit_compile: compile the search (see :mod:`seq2seq.compiled`).
        max_input_chars: longest text accepted (characters).
        max_sentence_tokens: longest sentence accepted (subword tokens with EOS, after
            splitting); above 200 the search runs in ad-hoc wider graphs.
        on_demand: see :class:`~seq2seq.compiled.CompiledSearch` (servers pass
            ``on_demand=False`` and call :meth:`warm_up`).
        shortlist: score only each batch's candidate pieces where the model folder has a
            shortlist (:mod:`seq2seq.shortlist`; faster, scores normalised over the
            candidates); False: always the whole vocabulary.
        graphs: the compiled searches to use and add to (see
            :class:`~seq2seq.compiled.GraphCache`; by default the process's).

    Attributes:
        default_options: the options a call without any uses, and the base that
            option keywords change: the model folder's own defaults
            (:meth:`DecodeOptions.for_model`).

    Example:
        >>> translator = Translator.load("models/en-de")
        >>> [t.best for t in translator.translate(["Good morning!"], beam_size=5)]
    """

    def __init__(
        self,
        bundle,
        batch_size: int = 64,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        jit_compile: bool = True,
        max_input_chars: int = MAX_INPUT_CHARS,
        max_sentence_tokens: int = MAX_SENTENCE_TOKENS,
        on_demand: bool = True,
        shortlist: bool = True,
        graphs: GraphCache = PROCESS_GRAPHS,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        try:
            self.default_options = DecodeOptions.for_model(bundle.metadata)
        except ValueError as e:
            raise BundleError(f"{bundle.source}: metadata.json: {e}") from None
        self.bundle, self.model, self.tokenizer = bundle, bundle.model, bundle.tokenizer
        self.batch_size = batch_size
        self.max_input_chars, self.max_sentence_tokens = max_input_chars, max_sentence_tokens
        self.search = CompiledSearch(
            self.model,
            batch_size,
            max_len_a,
            max_len_b,
            jit_compile,
            on_demand,
            bundle.shortlist if shortlist else None,
            self.tokenizer.silent(),
            graphs,
        )

    @classmethod
    def load(cls, spec, precision: str = "float32", **kwargs) -> Translator:
        """Load a model folder, or a Hub repo (``USER/NAME[@REVISION]``, ``hf://…``), to
        compute in ``precision`` (``"float32"`` or ``"mixed_bfloat16"``: bfloat16 matrix
        products, float32 weights, softmaxes and scores)."""
        return cls(hub.load(str(spec), precision), **kwargs)

    @classmethod
    def for_model(cls, model, **kwargs) -> Translator:
        """A translator for a model loaded by Keras (``keras.saving.load_model``), which
        carries its tokenizer as ``model.tokenizer``."""
        if getattr(model, "tokenizer", None) is None:
            raise ValueError(
                "this model has no tokenizer: load it with keras.saving.load_model() from a "
                "model folder or hf:// repo (after `import seq2seq.model`), or set model.tokenizer"
            )
        return cls(Bundle(model, model.tokenizer), **kwargs)

    def warm_up(self, **buckets) -> list[tuple[str, float]]:
        """Compile the graphs a server uses: ``rows``, ``beams``, ``widths``, ``trees`` (see
        :meth:`CompiledSearch.warm_up`); returns ``[(what, seconds)]``."""
        return self.search.warm_up(**buckets)

    # --- public API --------------------------------------------------------------

    def translate(
        self,
        texts: list[str],
        options: DecodeOptions | None = None,
        *,
        split: bool = True,
        errors: str = "raise",
        tree: bool = False,
        prefixes: list | None = None,
        **option_fields,
    ) -> list[Translation]:
        """Translate ``texts``; one :class:`Translation` per text.

        Args:
            texts: a list of strings (a bare string is refused, not split into letters).
            options: how to decode; or give its fields as keywords
                (``beam_size=5, n_best=3``), validated the same way.
            split: translate multi-sentence texts sentence by sentence and rejoin them
                (see :meth:`Translation.join`).
            errors: a sentence over ``max_sentence_tokens`` raises ``ValueError``
                (``"raise"``) or gives its text a Translation without candidates whose
                ``error`` says why (``"empty"``), the other texts still translated.
            tree: also record the beam search of each sentence: its translation's
                ``tree`` is a :class:`~seq2seq.beam_tree.BeamTree` (beam search only;
                beam size 1 records the greedy path and its runners-up). The candidates
                are the same as without it.
            prefixes: what each text's translation must start with ("what if it began
                like this?"): a target-side text or a list of piece ids, one per text;
                each text is then translated as one sentence (no splitting). The search
                writes the prefix (its pieces' log-probabilities count in the scores, as
                the model gives them) and continues as ``options`` say.
        """
        options = self._options(options, option_fields)
        if errors not in ERRORS:
            raise ValueError(f"errors must be one of {ERRORS}, got {errors!r}")
        self._check(texts)
        if prefixes is not None:
            prefixes, split = self._prefix_ids(prefixes, len(texts)), False
        parts = [(split_sentences(t) if split else []) or [t] for t in texts]
        sentences = [s for p in parts for s in p]
        done = iter(self._sentences(sentences, options, errors, tree, prefixes))
        results = []
        for text, sentences in zip(texts, parts):
            pieces = [next(done) for _ in sentences]
            failed = [p.error for p in pieces if p.error]
            joined = Translation.join(text, pieces, options.length_penalty)
            results.append(_failed(text, failed[0], options) if failed else joined)
        return results

    def translate_texts(self, texts: list[str], options=None, **option_fields) -> list[str]:
        """Best translation of each text."""
        return [t.best for t in self.translate(texts, options, **option_fields)]

    def score(
        self, texts: list[str], translations: list[str], options=None, **option_fields
    ) -> list[Scored]:
        """Score a given translation of each text: the model's log-probability of each of
        its pieces (teacher forcing through the step the search uses, so a candidate of
        the beam scores exactly as the beam scored it), its own best piece at each
        position, and where the whole translation ranks among the beam's candidates
        (searched with ``options``; each text as one sentence, ``split=False``).

        Raises:
            ValueError: texts and translations of different counts, a translation with
                nothing visible, or a text or translation over the caps.
        """
        options = self._options(options, option_fields)
        self._check(texts)
        self._check(translations)
        if len(texts) != len(translations):
            raise ValueError(f"{len(texts)} texts but {len(translations)} translations")
        out = []
        for text, translation in zip(texts, translations):
            if not normalize(translation):
                raise ValueError("the translation to score is empty")
            beam = self.translate([text], options, split=False)[0]
            if not beam.hypotheses:
                raise ValueError("the text to translate is empty")
            ids = self.tokenizer.encode(translation) + [EOS]
            if len(ids) > self.max_sentence_tokens:
                raise ValueError(
                    f"the translation has {len(ids)} subword tokens; the limit is "
                    f"{self.max_sentence_tokens}"
                )
            log_probs, attention, _, _ = self._forced(beam.source_ids, ids)
            hypothesis, best = forced_hypothesis(
                ids,
                self.tokenizer.decode(ids),
                self.tokenizer.pieces(ids),
                log_probs,
                attention,
                options.length_penalty,
            )
            scored = Scored(
                hypothesis,
                self.tokenizer.pieces(best["best_ids"]),
                best["best_log_probs"],
                best["token_ranks"],
                beam_rank(hypothesis, beam),
                beam,
            )
            out.append(scored)
        return out

    def inspect(self, source_ids: list[int], ids: list[int], position: int, k: int = 5) -> dict:
        """Output ``position`` of a candidate (``ids``, EOS included), after the pieces
        before it, in one teacher-forced pass through the search's step: the model's ``k``
        most probable pieces there and, for a model with attention, how its attention was
        computed.

        Args:
            source_ids: the sentence's source ids, EOS last (``Translation.source_ids``).

        Returns:
            ``{"rivals": [(id, piece, log_prob), ...]}`` (best first) and, with attention,
            ``"energies"`` and ``"weights"`` (one per source piece: the energy of the
            decoder state against it and the softmax weight it gives, the search's
            attention row), ``"context_size"`` and ``"context_norm"``.

        Raises:
            ValueError: ``position`` is outside ``ids``.
        """
        if not 0 <= position < len(ids):
            raise ValueError(f"position must be between 0 and {len(ids) - 1}, got {position}")
        log_probs, weights, energies, context = self._forced(source_ids, ids[: position + 1])
        row = log_probs[position]
        best = np.argsort(-row)[:k]
        out = {
            "rivals": [(int(i), self.tokenizer.pieces([int(i)])[0], float(row[i])) for i in best]
        }
        if energies is None:
            return out
        vector = np.asarray(context[position], dtype="float64")
        return {
            **out,
            "energies": [float(x) for x in energies[position]],
            "weights": [float(x) for x in weights[position]],
            "context_size": int(vector.shape[0]),
            "context_norm": float(np.linalg.norm(vector)),
        }

    def _forced(self, source_ids: list[int], ids: list[int]):
        """:meth:`Seq2Seq.forced` at each position of the output ``ids`` of one sentence,
        as NumPy arrays without the batch axis (energies and context None without
        attention)."""
        src = np.asarray([source_ids], dtype="int32")
        tgt_in = np.asarray([[BOS, *ids[:-1]]], dtype="int32")
        return tuple(
            None if t is None else np.asarray(t, dtype="float32")[0]
            for t in self.model.forced(src, tgt_in)
        )

    # --- steps -----------------------------------------------------------------------

    def _prefix_ids(self, prefixes, count: int) -> list[list[int]]:
        """Each prefix (a text, or piece ids) as ids, checked."""
        if isinstance(prefixes, str) or len(prefixes) != count:
            raise ValueError(f"give one prefix per text ({count}), as a list")
        out = []
        for prefix in prefixes:
            if isinstance(prefix, str):
                out.append(self.tokenizer.encode(normalize(prefix)))
                continue
            ids = [int(x) for x in prefix]
            vocab = self.tokenizer.vocab_size
            if any(not EOS < x < vocab for x in ids):
                raise ValueError(
                    f"prefix ids must be pieces of the vocabulary ({EOS + 1}..{vocab - 1})"
                )
            out.append(ids)
        return out

    def _options(self, options, fields) -> DecodeOptions:
        if options is not None and fields:
            raise ValueError("give either a DecodeOptions or its fields, not both")
        return options if options is not None else self.default_options.replace(**fields)

    def _check(self, texts) -> None:
        """Refuse what is not a list of texts within the caps (a clear ValueError)."""
        if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
            raise ValueError("texts must be a list of strings (wrap a single text in a list)")
        for i, text in enumerate(texts, 1):
            if not isinstance(text, str):
                raise ValueError(f"text {i} is not a string")
            if len(text) > self.max_input_chars:
                raise ValueError(
                    f"text {i} has {len(text)} characters; the limit is {self.max_input_chars}"
                )

    def _sentences(
        self, texts, options: DecodeOptions, errors: str, tree: bool = False, prefixes=None
    ) -> list[Translation]:
        """Translate each text as one sentence (``prefixes``: the ids each one's candidates
        start with). Empty texts (nothing visible) and, with ``errors="empty"``, over-long
        ones get a Translation without candidates."""
        attends = self.model.model_config.has_attention
        results = [
            Translation(t, [], [], [], options.length_penalty, attends=attends) for t in texts
        ]
        keep = [i for i, t in enumerate(texts) if normalize(t)]
        sources = [ids + [EOS] for ids in self.tokenizer.encode_batch([texts[i] for i in keep])]
        fits = []
        for i, ids in zip(keep, sources):
            if prefixes is not None and len(prefixes[i]) >= (cap := self.search.max_len(len(ids))):
                raise ValueError(
                    f"the prefix has {len(prefixes[i])} pieces; a translation of this text "
                    f"has at most {cap}, the end included"
                )
            if len(ids) <= self.max_sentence_tokens:
                fits.append((i, ids))
                continue
            message = (
                f"a sentence has {len(ids)} subword tokens; the limit is "
                f"{self.max_sentence_tokens} (starts {texts[i][:40]!r})"
            )
            if errors == "raise":
                raise ValueError(message)
            results[i] = _failed(texts[i], message, options)
        for batch in self._batches(fits):
            forced = None if prefixes is None else [prefixes[i] for i, _ in batch]
            found = self.search([ids for _, ids in batch], options, tree, forced)
            if tree:
                found, trace = found
            for row, (i, ids) in enumerate(batch):
                hyps = self._hypotheses(found, row, len(ids), options.length_penalty)
                results[i] = Translation(
                    texts[i],
                    ids,
                    self.tokenizer.pieces(ids),
                    hyps,
                    options.length_penalty,
                    attends=attends,
                )
                if tree:
                    results[i].tree = BeamTree.from_trace(
                        type(trace)(*(t[row] for t in trace)),
                        [h.ids for h in hyps],
                        self.tokenizer.pieces,
                        options.beam_size,
                        options.length_penalty,
                    )
        return results

    def _batches(self, items: list[tuple[int, list[int]]]):
        """Groups of ``batch_size`` items of similar length (shortest first)."""
        items = sorted(items, key=lambda item: len(item[1]))
        for start in range(0, len(items), self.batch_size):
            yield items[start : start + self.batch_size]

    def _hypotheses(self, found, row: int, src_len: int, alpha: float) -> list[Hypothesis]:
        """The candidates of ``row`` of a NumPy :class:`SearchResult`, as Hypotheses."""
        hyps = []
        for j in range(found.log_prob.shape[1]):
            if found.log_prob[row, j] <= NEG / 2:
                continue  # an empty slot
            n = int(found.length[row, j])
            ids = [int(t) for t in found.tokens[row, j, :n]]
            log_prob = float(found.log_prob[row, j])
            hyps.append(
                Hypothesis(
                    ids=ids,
                    text=self.tokenizer.decode(ids),
                    pieces=self.tokenizer.pieces(ids),
                    log_prob=log_prob,
                    score=log_prob / gnmt_penalty(n, alpha),
                    token_log_probs=[float(x) for x in found.token_log_probs[row, j, :n]],
                    attention=np.asarray(found.attention[row, j, :n, :src_len], "float32"),
                    finished=bool(found.finished[row, j]),
                )
            )
        return hyps


def _failed(text: str, message: str, options: DecodeOptions) -> Translation:
    return Translation(text, [], [], [], options.length_penalty, error=message)
