"""The tree a beam search explored, rebuilt from its :class:`~seq2seq.search.BeamTrace`.

Each step of the search ranks ``2K`` one-token extensions of its open hypotheses; each is
a :class:`Node` here, linked to the node it extends (its parent), so that a node's
prefix is the path from the start to it. A node was kept open (the next step extends it),
finished (it ended in EOS among the ``k`` best) or dropped (it fell out of the beam).
The candidates the search returned are marked with their rank, and every node on their
paths is ``on_path``.

Not for: running the search (see :func:`seq2seq.search.beam_search` with ``trace=True``,
reached through ``Translator.translate(..., tree=True)``) or drawing it (see
:mod:`webapp.tree_view`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from seq2seq.penalties import NEG, gnmt_penalty
from seq2seq.tokenizer import EOS

OPEN, FINISHED, DROPPED = "open", "finished", "dropped"


@dataclass
class Node:
    """One candidate of one step.

    Attributes:
        id: its index in :attr:`BeamTree.nodes`.
        step: the output position it fills (0 = the first token).
        parent: the id of the node it extends; None for a first token.
        token, piece: the token it appends and its subword piece.
        log_prob: cumulative log-probability of its prefix.
        score: ``log_prob / gnmt_penalty(step + 1, alpha)``, what the beam ranks finished
            hypotheses by.
        status: ``"open"`` (kept in the beam), ``"finished"`` (ended in EOS among the
            ``k`` best) or ``"dropped"`` (fell out of the beam).
        rank: 1-based rank among the returned candidates, None if not returned.
        on_path: on the path of a returned candidate.
    """

    id: int
    step: int
    parent: int | None
    token: int
    piece: str
    log_prob: float
    score: float
    status: str
    rank: int | None = None
    on_path: bool = False


@dataclass
class BeamTree:
    """Every node a beam search ranked, in order of step, then of log-probability."""

    beam_size: int
    length_penalty: float
    nodes: list[Node]

    @classmethod
    def from_trace(
        cls, trace, returned: list[list[int]], pieces, beam_size: int, alpha: float
    ) -> BeamTree:
        """The tree of one sentence.

        Args:
            trace: one sentence's row of a NumPy :class:`~seq2seq.search.BeamTrace`
                (fields ``(max_len, 2K)``).
            returned: the token ids of the candidates the search returned, best first.
            pieces: ``ids -> subword pieces`` (the tokenizer's).
            beam_size, alpha: the search's beam size and length penalty.
        """
        nodes: list[Node] = []
        open_slots: dict[int, int] = {}  # slot -> node id, of the previous step
        recorded = trace.log_prob > NEG / 2  # (max_len, 2K)
        all_pieces = iter(pieces([int(t) for t in trace.token[recorded]]))  # one call
        for step in range(int(recorded.any(axis=1).sum())):
            slot_of = {int(c): slot for slot, c in enumerate(trace.keep[step, :beam_size])}
            next_slots = {}
            for c in np.flatnonzero(recorded[step]):
                token, lp = int(trace.token[step, c]), float(trace.log_prob[step, c])
                parent = open_slots[int(trace.parent[step, c])] if step else None
                slot = slot_of.get(int(c))
                ended = token == EOS and c < beam_size
                status = OPEN if slot is not None else FINISHED if ended else DROPPED
                node = Node(
                    len(nodes),
                    step,
                    parent,
                    token,
                    next(all_pieces),
                    lp,
                    lp / gnmt_penalty(step + 1, alpha),
                    status,
                )
                nodes.append(node)
                if slot is not None:
                    next_slots[slot] = node.id
            open_slots = next_slots
        tree = cls(beam_size, alpha, nodes)
        tree._mark(returned)
        return tree

    def _mark(self, returned: list[list[int]]) -> None:
        """Set ``rank`` on the returned candidates' nodes and ``on_path`` along their paths
        (followed token by token: a node is known by its parent and token)."""
        child = {(n.parent, n.token): n for n in self.nodes}
        for rank, ids in enumerate(returned, 1):
            node = None
            for token in ids:
                node = child[(node.id if node else None, token)]
                node.on_path = True
            node.rank = rank

    def path(self, node: Node) -> list[Node]:
        """The nodes from the first token to ``node``."""
        out = [node]
        while out[-1].parent is not None:
            out.append(self.nodes[out[-1].parent])
        return out[::-1]

    def token_ids(self, node: Node) -> list[int]:
        """The prefix ``node`` ends, as token ids."""
        return [n.token for n in self.path(node)]

    @property
    def steps(self) -> int:
        return self.nodes[-1].step + 1 if self.nodes else 0

    @property
    def returned(self) -> list[Node]:
        """The returned candidates' nodes, best first."""
        return sorted((n for n in self.nodes if n.rank), key=lambda n: n.rank)

    def to_dict(self) -> dict:
        """JSON-able: the search's settings and every node (floats rounded to 5 places)."""
        nodes = [
            {**asdict(n), "log_prob": round(n.log_prob, 5), "score": round(n.score, 5)}
            for n in self.nodes
        ]
        return {
            "beam_size": self.beam_size,
            "length_penalty": self.length_penalty,
            "steps": self.steps,
            "nodes": nodes,
        }
