"""sphinx-gallery scraper for the figures of ``rhm_theory.plotting``.

The plotting functions build ``matplotlib.figure.Figure`` objects without pyplot (no global
state, safe on servers), so sphinx-gallery's matplotlib scraper, which asks pyplot for its
open figures, does not see them. This scraper shows every such figure that a code block
leaves in the example's variables, once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["figure_scraper"]


def figure_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Save the new pyplot-less figures of the example's globals and return their rST."""
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    paths = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or getattr(value, "_rhm_scraped", False):
            continue
        value._rhm_scraped = True  # type: ignore[attr-defined]
        if value.canvas.manager is not None:
            continue  # a pyplot figure: the matplotlib scraper (after this one) shows it
        path = next(block_vars["image_path_iterator"])
        value.savefig(path, dpi=100)
        paths.append(path)
    rst: str = figure_rst(paths, gallery_conf["src_dir"])
    return rst
