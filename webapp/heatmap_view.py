"""The attention heat map drawn by the browser: an HTML table whose cells are shaded by
their weight (rows: output pieces or words, columns: source ones), labelled in the
visitor's own fonts (Chinese too, whatever the server has installed).

Hovering over a cell writes "output ← source: weight" into the info line above the map;
on a page that runs :data:`SCRIPT` with ``trigger`` (the app's), clicking a cell sends a
``select`` event with ``index`` ``[row, column]``, which the app answers with the
arithmetic of that row (see ``Translator.inspect``). The PNG download is drawn by
:func:`webapp.views.attention_figure`.

Not for: computing the matrix (see :func:`webapp.views.attention_matrix`).
"""

from __future__ import annotations

from html import escape

import numpy as np

from webapp.views import readable

MAX_CELLS = 20_000  # larger maps show their first rows (the PNG download has them all)
HINT = "Hover over a cell to read its weight; click one to see how its row was computed."
STYLE = """
.heatmap-block { font: 12px sans-serif; }
.heatmap-info { background: #eff6ff; border: 1px solid #2563eb; border-radius: 4px;
                padding: 3px 8px; min-height: 1.4em; margin: 2px 0 4px; }
.heatmap-scroll { overflow: auto; max-height: 720px; }
.heatmap { border-collapse: collapse; width: auto !important; margin: 0 !important; }
.heatmap th { font-weight: normal; padding: 0 3px; white-space: nowrap; }
.heatmap th.tgt { text-align: right; }
.heatmap th.src { vertical-align: bottom; }
.heatmap th.src span { writing-mode: vertical-rl; transform: rotate(180deg); }
.heatmap td { width: 18px; min-width: 18px; height: 18px; padding: 0 !important;
              cursor: pointer; border: 1px solid #fff !important;
              background: rgba(8, 48, 107, var(--a)) !important; }
.heatmap td:hover { outline: 2px solid #f97316; }
"""
# For gr.HTML(js_on_load=...): ``element`` is the component's root (it keeps the
# listeners when the content is replaced), ``trigger`` sends an event to the server.
SCRIPT = """
const cellOf = (event) => event.target.closest('.heatmap td');
const describe = (td) => {
  const table = td.closest('table');
  const row = td.parentElement.rowIndex - 1, col = td.cellIndex - 1;
  const source = table.tHead.rows[0].cells[col + 1].textContent;
  const output = td.parentElement.cells[0].textContent;
  return {row, col, text: `${output} ← ${source}: ${td.dataset.w}`};
};
element.addEventListener('mouseover', (event) => {
  const td = cellOf(event);
  if (!td) return;
  td.closest('.heatmap-block').querySelector('.heatmap-info').textContent = describe(td).text;
});
element.addEventListener('click', (event) => {
  const td = cellOf(event);
  if (!td) return;
  const cell = describe(td);
  td.closest('.heatmap-block').querySelector('.heatmap-info').textContent = cell.text;
  const value = Number(td.dataset.w);
  if (typeof trigger === 'function') trigger('select', {index: [cell.row, cell.col], value});
});
"""


def heatmap_html(
    src: list[str], tgt: list[str], matrix, title: str = "", unit: str = "pieces"
) -> str:
    """The heat map of ``matrix`` ``(len(tgt), len(src))`` as HTML: a caption, the info
    line and the table (colour relative to the largest weight; each cell's weight in
    ``data-w``). Maps over :data:`MAX_CELLS` show their first rows and say so."""
    matrix = np.asarray(matrix, dtype="float64")
    top = float(matrix.max(initial=0)) or 1.0
    rows = min(len(tgt), max(1, MAX_CELLS // max(len(src), 1)))
    head = "".join(f'<th class="src"><span>{escape(readable(p))}</span></th>' for p in src)
    body = []
    for i in range(rows):
        cells = "".join(
            f'<td style="--a:{w / top:.3f}" data-w="{w:.4f}"></td>' for w in matrix[i, : len(src)]
        )
        body.append(f'<tr><th class="tgt">{escape(readable(tgt[i]))}</th>{cells}</tr>')
    caption = f"{escape(title)} · rows: output {unit}, columns: source {unit}"
    if rows < len(tgt):
        caption += f" · the first {rows} of {len(tgt)} rows (the PNG download has them all)"
    return (
        f'<div class="heatmap-block"><style>{STYLE}</style>'
        f'<div class="heatmap-caption">{caption}</div>'
        f'<div class="heatmap-info">{HINT}</div>'
        f'<div class="heatmap-scroll"><table class="heatmap"><thead><tr><th></th>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div></div>"
    )
