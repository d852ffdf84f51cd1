"""Samples on disk: strings (and latents) of a grammar streamed into an ``.npz`` archive."""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from rhm_theory.io import atomic_path
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import iter_samples, sample

__all__ = ["write_sample_npz"]


def _npy_header(fh: IO[bytes], shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    header = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": False,
        "shape": shape,
    }
    np.lib.format.write_array_header_2_0(fh, header)


def write_sample_npz(
    grammar: Grammar,
    path: str | os.PathLike[str],
    P: int,
    seed: int,
    *,
    latents: bool = False,
    replace: bool = True,
    chunk_size: int = 65536,
) -> dict[str, tuple[int, ...]]:
    """Sample ``P`` strings into an uncompressed ``.npz`` readable by :func:`numpy.load`.

    With replacement the strings are streamed chunk by chunk: tokens go straight into the
    zip member and latent levels through temporary ``.npy`` memmaps next to ``path``, so
    memory stays bounded by one chunk. Without replacement the draw is made in memory.
    The archive is renamed into place only once complete.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    path : str or path-like
        Output file (written exactly there, no suffix added).
    P, seed : int
        Number of strings and data seed.
    latents : bool
        Also store ``level_1 ... level_L``.
    replace : bool
        ``False`` draws distinct strings (see :func:`rhm_theory.model.sampling.sample`).
    chunk_size : int
        Strings per streamed chunk.

    Returns
    -------
    dict
        Array name -> shape of what was written.
    """
    p = grammar.params
    shapes: dict[str, tuple[int, ...]] = {"tokens": (P, p.string_length)}
    if latents:
        for level in range(1, p.L + 1):
            shapes[f"level_{level}"] = (P, p.nodes_at_level(level))
    out_dir = os.path.dirname(os.path.abspath(path))
    # Everything is written under a temporary directory next to ``path`` and the finished
    # archive is renamed into place: a failure never leaves a partial .npz behind.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".rhm-sample-") as tmp:
        partial = os.path.join(tmp, "out.npz")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            if replace:
                _stream_members(zf, grammar, shapes, P, seed, latents, chunk_size, tmp)
            else:
                data = sample(grammar, P, seed, latents=latents, replace=False)
                for name in shapes:
                    level = 0 if name == "tokens" else int(name.split("_")[1])
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                        np.lib.format.write_array(fh, np.ascontiguousarray(data.level(level)))
        with atomic_path(path) as dest:  # the library's one atomic writer (rhm_theory.io)
            os.replace(partial, dest)
    return shapes


def _stream_members(
    zf: zipfile.ZipFile,
    grammar: Grammar,
    shapes: dict[str, tuple[int, ...]],
    P: int,
    seed: int,
    latents: bool,
    chunk_size: int,
    tmp: str,
) -> None:
    # Tokens go straight into their zip member chunk by chunk; latent levels (which cannot
    # be streamed into a second member at the same time) go through .npy memmaps.
    dtype = grammar.params.dtype
    maps: dict[str, npt.NDArray[Any]] = {
        name: np.lib.format.open_memmap(
            os.path.join(tmp, f"{name}.npy"), mode="w+", dtype=dtype, shape=shape
        )
        for name, shape in shapes.items()
        if name != "tokens"
    }
    with zf.open("tokens.npy", "w", force_zip64=True) as fh:
        _npy_header(fh, shapes["tokens"], dtype)
        row = 0
        for chunk in iter_samples(grammar, P, seed, chunk_size=chunk_size, latents=latents):
            fh.write(chunk.tokens.tobytes())
            for name, mm in maps.items():
                mm[row : row + len(chunk)] = chunk.level(int(name.split("_")[1]))
            row += len(chunk)
    for name, mm in maps.items():
        if isinstance(mm, np.memmap):
            mm.flush()
        zf.write(os.path.join(tmp, f"{name}.npy"), arcname=f"{name}.npy")
    maps.clear()
