"""The heat map the browser draws: one shaded cell per weight, labels escaped, big maps cut."""

import re

import numpy as np

from webapp import heatmap_view


def test_every_weight_is_a_cell_shaded_relative_to_the_largest():
    matrix = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])
    html = heatmap_view.heatmap_html(["▁a", "<b>", "</s>"], ["▁x", "</s>"], matrix, "c 1")
    weights = [float(w) for w in re.findall(r'data-w="([\d.]+)"', html)]
    assert weights == matrix.ravel().tolist()
    shades = [float(a) for a in re.findall(r"--a:([\d.]+)", html)]
    assert max(shades) == 1.0 and shades[0] == round(0.5 / 0.8, 3)
    assert "&lt;b&gt;" in html and "<b>" not in html  # labels are text, never markup
    assert '<th class="tgt"> x</th>' in html and "rows: output pieces" in html


def test_a_map_over_the_cell_limit_shows_its_first_rows(monkeypatch):
    monkeypatch.setattr(heatmap_view, "MAX_CELLS", 12)
    html = heatmap_view.heatmap_html(list("abcd"), list("vwxyz"), np.ones((5, 4)) / 4, "t")
    assert html.count("<tr>") == 1 + 3 and "the first 3 of 5 rows" in html
