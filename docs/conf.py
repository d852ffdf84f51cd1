"""Sphinx configuration of the rhm_theory documentation site.

Build (the check CI runs; any warning fails it)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

Markdown pages are read by myst-parser, docstrings by numpydoc, the API reference is
generated from ``__all__`` (``_ext/rhm_api.py``), the CLI reference from the argparse parser
(sphinx-argparse-cli), and the examples in ``examples/`` run at build time (sphinx-gallery).
"""

from __future__ import annotations

import builtins
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the package itself (no install needed for the docs)
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import rhm_theory  # noqa: E402

project = "rhm_theory"
author = "rhm_theory developers"
copyright = "2026, rhm_theory developers"
release = version = rhm_theory.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "rhm_api",
    "sphinx_argparse_cli",
    "rhm_checks",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# figures/phase_diagram/phase_diagram.md is the table `rhm-theory threshold --diagram` writes
# beside its figure (bp.md quotes it); not a page of the site.
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "figures/phase_diagram/*.md",
                    "reports/*.md"]  # the results page's preface: included by the generator
nitpicky = True

# -- Markdown (myst-parser) -------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # GitHub-style #anchors of the pages keep working

# -- API reference ------------------------------------------------------------------------------
rhm_api_packages = ["rhm_theory", "proofs_checks"]
# The changelog records the past: names it gives may have been removed since (rhm_checks).
rhm_history_pages = ["changelog"]
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # types are in the numpydoc Parameters/Returns sections
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
numpydoc_show_class_members = False  # members are documented by autodoc on the class page
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Every documented object must have a docstring, and numpydoc must parse it.
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {
    r"\.__\w+__$",
    # The claim checks implement the ClaimCheck protocol, whose methods are documented there.
    r"^proofs_checks\.\w+\.\w+Check\.(?:cells|evaluate)$",
}

# -- Links to numpy, scipy, networkx, Python ---------------------------------------------------
# The build machines (developers' and CI's) reach package registries only, so the
# objects.inv inventories can't be fetched there, and they can't be downloaded to ship them
# either. RHM_DOCS_INTERSPHINX chooses:
#   auto (default)  use an inventory when its host answers within 2 s, skip it otherwise;
#   on              always try (a failure is a warning, so -W fails: for machines online);
#   off             no intersphinx at all.
# References to these external packages never fail the build (see nitpick_ignore_regex
# below): they link when the inventory was loaded and are plain text otherwise. References
# inside rhm_theory and proofs_checks are always checked.
_INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "networkx": "https://networkx.org/documentation/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
}
_INTERSPHINX = os.environ.get("RHM_DOCS_INTERSPHINX", "auto").lower()


def _reachable(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 443), timeout):
            return True
    except OSError:
        return False


if _INTERSPHINX not in {"auto", "on", "off"}:
    raise ValueError(f"RHM_DOCS_INTERSPHINX must be auto, on or off, not {_INTERSPHINX!r}")
intersphinx_mapping = {
    name: (url, None)
    for name, url in _INVENTORIES.items()
    if _INTERSPHINX == "on" or (_INTERSPHINX == "auto" and _reachable(url))
}
intersphinx_timeout = 10
_EXTERNAL = sorted({"numpy", "np", "npt", "scipy", "networkx", "nx", "matplotlib", "torch",
                    "dask", "distributed", "hypothesis", "numba", "tqdm", "argparse",
                    *sys.stdlib_module_names} - {"this", "test"})
nitpick_ignore_regex = [
    ("py:.*", rf"(?:{'|'.join(_EXTERNAL)})(?:\..*)?"),
    ("py:.*", rf"(?:{'|'.join(n for n in dir(builtins) if not n.startswith('_'))})"),
    # numpydoc type words that are not objects (``array_like``, ``optional``)
    ("py:.*", r"(?:array_like|array-like|optional|default|callable|iterable|sequence|"
              r"ndarray|scalar|None|Any|Self|T|K|V)"),
]

# -- Executed examples (sphinx-gallery) ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py runs at build time
    "abort_on_example_error": False,  # all failures are reported, then the build fails
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"rhm_theory": None},
    "show_memory": False,
    "plot_gallery": "True",
    "capture_repr": ("_repr_html_", "__repr__"),
    # rhm_theory.plotting's figures are not pyplot's: _ext/rhm_gallery.py shows them
    "image_scrapers": ("rhm_gallery.figure_scraper", "matplotlib"),
}

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"rhm_theory {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
