"""The beam tree drawn as SVG, in an HTML block: caption, legend, an info line and the
tree (scrolling sideways when it is wider than the page).

Steps run left to right, one column each; a column holds the step's candidates, the
children of a node next to each other and in the order of their parents. Paths to the
returned candidates are drawn thick, the candidates marked with their rank; open nodes
are blue, finished ones green squares, dropped ones pale. Every node carries its prefix,
log-probability and score as a tooltip (``<title>``); on a page that runs :data:`SCRIPT`
(the app's), hovering over or clicking a node also writes them into the info line above
the tree, where they stay; a click also offers a "continue from …" button (the clicked
node's prefix) that sends a ``select`` event with the node's id, which the app answers with
a search forced through that prefix.

Not for: building the tree (see :mod:`seq2seq.beam_tree`).
"""

from __future__ import annotations

from html import escape

from seq2seq.beam_tree import DROPPED, FINISHED, OPEN, BeamTree, Node
from seq2seq.translation import Translation
from webapp.views import readable

COLUMN, ROW, TOP, LEFT = 86, 22, 24, 44  # pixels
COLORS = {OPEN: "#2563eb", FINISHED: "#16a34a", DROPPED: "#cbd5e1"}
PATH_EDGE, EDGE = "#f97316", "#cbd5e1"
LEGEND = (
    "Steps left to right. Blue: kept in the beam; green square: finished (EOS); pale: fell "
    "out of the beam; orange: the paths of the returned candidates (#rank)."
)
HINT = (
    "Hover over or click a node to see its prefix and score here; after a click, "
    "“continue from …” searches again from that node's prefix."
)
STYLE = """
.beam-tree-block { font: 12px sans-serif; margin-bottom: 12px; }
.beam-tree-block .legend { color: #555; margin: 2px 0 4px; }
/* One line of fixed height: the "continue from" button appearing after a click must not
   move the tree under the pointer (that would hover, and describe, another node). */
.beam-tree-info { background: #fff7ed; border: 1px solid #f97316; border-radius: 4px;
                  padding: 2px 8px; height: 30px; box-sizing: border-box; overflow: hidden;
                  display: flex; gap: 8px; align-items: center; white-space: nowrap; }
.beam-tree-info .text { overflow: hidden; text-overflow: ellipsis; flex: 1; }
.beam-tree-scroll { overflow: auto; max-height: 640px; }
.beam-tree { font: 11px sans-serif; }
.beam-tree .node { cursor: pointer; outline: none; }
.beam-tree .node:hover > .dot, .beam-tree .node:focus > .dot { stroke: #111; stroke-width: 2; }
/* More specific than Gradio's `.gradio-style button` (16px, bold, 8px 16px padding). */
.beam-tree-block .beam-tree-info button.continue {
  font-size: 11px; font-weight: normal; padding: 1px 8px; line-height: 18px; cursor: pointer;
  white-space: nowrap; max-width: 60%; overflow: hidden; text-overflow: ellipsis; }
.beam-tree-block .beam-tree-info button.continue[hidden] { display: none; }
"""
# For gr.HTML(js_on_load=...): ``element`` is the component's root, which keeps the
# listeners when its content is replaced.
SCRIPT = """
const show = (event) => {
  const node = event.target.closest('.beam-tree .node');
  if (!node) return;
  const info = node.closest('.beam-tree-block').querySelector('.beam-tree-info');
  const text = node.querySelector('title').textContent;
  info.querySelector('.text').textContent = text;
  if (event.type !== 'click' || typeof trigger !== 'function') return;
  const button = info.querySelector('.continue');
  button.dataset.node = node.dataset.node;
  button.textContent = 'continue from ' + text.split(' · ')[0].replace(/^step \\d+: /, '');
  button.hidden = false;
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('.beam-tree-info .continue');
  if (button) trigger('select', {index: Number(button.dataset.node), value: null});
});
element.addEventListener('mouseover', show);
element.addEventListener('click', show);
element.addEventListener('focusin', show);
"""


def prefix_text(tree: BeamTree, node: Node) -> str:
    """The prefix ``node`` ends, as text (pieces joined, word starts as spaces)."""
    return readable("".join(n.piece for n in tree.path(node))).strip()


def describe(tree: BeamTree, node: Node) -> str:
    """One line about ``node``: its prefix, scores, fate and rank."""
    rank = f", candidate {node.rank}" if node.rank else ""
    return (
        f"step {node.step + 1}: “{prefix_text(tree, node)}” · log-prob "
        f"{node.log_prob:.3f} · score {node.score:.3f} · {node.status}{rank}"
    )


def layout(tree: BeamTree) -> dict[int, tuple[float, float]]:
    """``{node id: (x, y)}``: a column per step; in a column, nodes ordered by their
    parent's row, then by log-probability (the order they were ranked in)."""
    rows: dict[int, int] = {}
    for step in range(tree.steps):
        column = [n for n in tree.nodes if n.step == step]
        column.sort(key=lambda n: -1 if n.parent is None else rows[n.parent])  # stable
        rows.update((n.id, row) for row, n in enumerate(column))
    return {n.id: (LEFT + n.step * COLUMN, TOP + rows[n.id] * ROW) for n in tree.nodes}


def tree_html(tree: BeamTree, caption: str = "") -> str:
    """A ``<div>``: caption, legend, info line and the ``<svg>`` of ``tree``."""
    at = layout(tree)
    width = LEFT + tree.steps * COLUMN + 60
    height = max((y for _, y in at.values()), default=TOP) + ROW
    edges, nodes = [], []
    for node in sorted(tree.nodes, key=lambda n: n.on_path):  # returned paths drawn on top
        x, y = at[node.id]
        px, py = at[node.parent] if node.parent is not None else (LEFT - COLUMN / 2, TOP)
        color, stroke = (PATH_EDGE, 3) if node.on_path else (EDGE, 1)
        edges.append(
            f'<line x1="{px}" y1="{py}" x2="{x}" y2="{y}" stroke="{color}" '
            f'stroke-width="{stroke}"/>'
        )
        nodes.append(_node(tree, node, x, y))
    svg = [
        f'<svg class="beam-tree" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" role="img" aria-label="beam search tree">',
        f'<circle cx="{LEFT - COLUMN / 2}" cy="{TOP}" r="5" fill="#111"/>',
        *edges,
        *nodes,
        "</svg>",
    ]
    return (
        f'<div class="beam-tree-block"><style>{STYLE}</style>'
        f"<strong>{escape(caption)}</strong><div class='legend'>{LEGEND}</div>"
        f'<div class="beam-tree-info"><span class="text">{HINT}</span>'
        '<button class="continue" hidden></button></div>'
        f'<div class="beam-tree-scroll">{"".join(svg)}</div></div>'
    )


def _node(tree: BeamTree, node: Node, x: float, y: float) -> str:
    """One node: its tooltip, the area that takes hover and clicks, its mark, its piece
    and its rank if returned."""
    color = COLORS[node.status]
    parts = [
        f'<g class="node" tabindex="0" data-node="{node.id}">',
        f"<title>{escape(describe(tree, node))}</title>",
        f'<rect x="{x - 7}" y="{y - ROW / 2}" width="{COLUMN - 10}" height="{ROW}" '
        'fill="transparent"/>',
    ]
    if node.status == FINISHED:
        parts.append(
            f'<rect class="dot" x="{x - 5}" y="{y - 5}" width="10" height="10" fill="{color}"/>'
        )
    else:
        radius = 5 if node.on_path else 4
        parts.append(f'<circle class="dot" cx="{x}" cy="{y}" r="{radius}" fill="{color}"/>')
    piece = escape(readable(node.piece).strip()[:12])
    shade = "#94a3b8" if node.status == DROPPED else "#111"
    weight = 600 if node.on_path else 400
    parts.append(
        f'<text x="{x + 8}" y="{y + 4}" fill="{shade}" font-weight="{weight}">{piece}</text>'
    )
    if node.rank:
        parts.append(
            f'<text x="{x - 6}" y="{y - 8}" fill="{COLORS[FINISHED]}" '
            f'font-weight="700">#{node.rank}</text>'
        )
    return "".join(parts) + "</g>"


def trees_html(translation: Translation) -> str:
    """The tree of each sentence of ``translation`` (one after the other); "" if none was
    recorded."""
    sentences = [s for s in translation.sentences if s.tree is not None]
    many = len(translation.sentences) > 1
    return "".join(
        tree_html(
            s.tree,
            f"{f'Sentence {i}: ' if many else ''}beam search of “{s.source}” "
            f"(beam {s.tree.beam_size}, α {s.tree.length_penalty:g})",
        )
        for i, s in enumerate(sentences, 1)
    )
