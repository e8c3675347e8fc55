"""Saving and loading a SearchIndex as a folder of files, checked by a manifest.

    index/
      manifest.json   format, model, dimension, chunking, article checksums, file hashes
      vectors.faiss   the dense index (index.py: flat up to 50,000 passages, IVF-PQ above)
      vectors.npy     above 50,000 passages only: the float32 vectors themselves, mapped, read
                      only for the candidates re-ranked (and for lending to a rebuild)
      bm25/           the bm25s index (absent when no passage has a term)
      passages/       passage offsets into the articles, as columns (passage_table.py)
      sentences.npy   one vector per sentence of each passage, passages in order

Writes are atomic: the folder is written beside the old one and swapped in. Loading
checks the manifest against the articles, model and chunking it is asked for (stale),
and every file against its hash (corrupt, naming the file).

Loading maps the files instead of copying them (FAISS `IO_FLAG_MMAP_IFC`, bm25s `mmap=True`,
`np.load(mmap_mode="r")` for the passage columns), and the float and sentence vectors are read
from their files row by row when asked for (row_file.py: mapped, the rows scattered over a
million vectors would each bring 64 KB into the process's memory): a cold start reads only
the pages a question touches, and the OS shares them between processes. A loaded index is
read-only; files are never changed in place (a save writes a new folder), so a mapping always
sees the files that were checked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from .dense_index import is_exact
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError
from .index import IndexKey, SearchIndex
from .passage_table import PassageTable
from .row_file import RowFile

FORMAT = 3  # 2: sentence vectors; 3: passages as columns, IVF-PQ with exact vectors beside
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
EXACT = "vectors.npy"
PASSAGES = "passages"
SENTENCES = "sentences.npy"
BM25_DIR = "bm25"
REBUILD_HINT = "rebuild it with: python -m embeddings build"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _save_rows(vectors: np.ndarray | RowFile, path: Path) -> None:
    """`np.save` of float32 rows, written in blocks through a file (not a mapping, whose
    written pages would count in this process's memory); `vectors` may itself be mapped."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False}
    with path.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {**header, "shape": vectors.shape})
        for start in range(0, len(vectors), 1 << 16):
            handle.write(np.ascontiguousarray(vectors[start : start + (1 << 16)], dtype=np.float32).tobytes())


def save_index(index: SearchIndex, folder: Path) -> None:
    """Write the index to `folder` atomically (readers see the old or the new one)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-new-", dir=folder.parent))
    try:
        faiss.write_index(index.dense, str(work / VECTORS))
        if index.bm25 is not None:
            index.bm25.save(str(work / BM25_DIR), show_progress=False)
        index.passages.save(work / PASSAGES)
        if index.exact is not None:
            _save_rows(index.exact, work / EXACT)
        _save_rows(index.all_sentence_vectors, work / SENTENCES)
        files = {str(p.relative_to(work)): _sha256(p) for p in _data_files(work)}
        manifest = {"format": FORMAT, **index.key.to_json(), "passages": len(index), "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _swap_in(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _swap_in(new: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
        folder.rename(old / folder.name)
    new.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        if folder.is_dir() and any(folder.iterdir()):
            raise IndexCorruptError(f"{path} is missing, so the index in {folder} cannot be trusted; {REBUILD_HINT}")
        raise IndexMissingError(f"no index in {folder} yet; build it with: python -m embeddings build")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexStaleError(f"{path} is of index format {manifest.get('format')}, not {FORMAT}; {REBUILD_HINT}")
        IndexKey.from_json(manifest)
        dict(manifest["files"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexCorruptError(f"{path} is damaged ({type(exc).__name__}); {REBUILD_HINT}") from exc
    return manifest


def _check_files(folder: Path, files: dict[str, str]) -> None:
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing from the index; {REBUILD_HINT}")
        if _sha256(path) != digest:
            raise IndexCorruptError(f"{path} is corrupt (its checksum does not match the manifest); {REBUILD_HINT}")


def _stale_reason(found: IndexKey, wanted: IndexKey) -> str | None:
    if found.model != wanted.model or found.dim != wanted.dim:
        return f"it was built with the model {found.model!r}, and the model now is {wanted.model!r}"
    if found.chunking != wanted.chunking:
        return f"it was built with chunking {found.chunking}, and the chunking now is {wanted.chunking}"
    if found.articles != wanted.articles:
        before, now = dict(found.articles), dict(wanted.articles)
        changed = sorted(set(before) ^ set(now) | {i for i in before.keys() & now.keys() if before[i] != now[i]})
        return f"the articles changed since it was built ({', '.join(changed) or 'order'})"
    return None


def load_index(folder: Path, wanted: IndexKey) -> SearchIndex:
    """Load and check the index in `folder`; raise if it is missing, stale or corrupt."""
    manifest = _read_manifest(folder)
    reason = _stale_reason(IndexKey.from_json(manifest), wanted)
    if reason:
        raise IndexStaleError(f"the index in {folder} is out of date: {reason}; {REBUILD_HINT}")
    return _read_checked(folder, manifest)


def read_index(folder: Path) -> SearchIndex:
    """The index in `folder` whatever it was built from (to lend its vectors to a rebuild);
    raises if it is missing, corrupt or of another format."""
    return _read_checked(folder, _read_manifest(folder))


def _read_checked(folder: Path, manifest: dict[str, Any]) -> SearchIndex:
    _check_files(folder, manifest["files"])
    try:
        # IO_FLAG_MMAP_IFC maps the vectors of a flat index and the lists of an IVF one
        # (IO_FLAG_MMAP would still copy a flat index's vectors, FAISS 1.15).
        vectors = faiss.read_index(str(folder / VECTORS), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError as exc:
        raise IndexCorruptError(f"{folder / VECTORS} cannot be read by FAISS; {REBUILD_HINT}") from exc
    bm25 = _load_bm25(folder / BM25_DIR) if any(name.startswith(f"{BM25_DIR}/") for name in manifest["files"]) else None
    passages = _read_passages(folder / PASSAGES)
    if len(passages) != vectors.ntotal or len(passages) != manifest.get("passages"):
        raise IndexCorruptError(f"{folder / PASSAGES} does not match {folder / VECTORS}; {REBUILD_HINT}")
    exact = _read_exact(folder / EXACT) if EXACT in manifest["files"] else None
    if is_exact(vectors) != (exact is None):
        beside = f"{folder / EXACT} is missing or does not belong beside {folder / VECTORS}"
        raise IndexCorruptError(f"{beside}; {REBUILD_HINT}")
    try:
        sentence_vectors = RowFile(folder / SENTENCES)
        return SearchIndex(IndexKey.from_json(manifest), passages, vectors, bm25, sentence_vectors, exact)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder / SENTENCES} does not match {folder / PASSAGES}; {REBUILD_HINT}") from exc


def _read_exact(path: Path) -> RowFile:
    try:
        return RowFile(path)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} cannot be read as vectors; {REBUILD_HINT}") from exc


def _load_bm25(path: Path) -> bm25s.BM25:
    try:
        return bm25s.BM25.load(str(path), mmap=True, show_progress=False)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} cannot be read by bm25s; {REBUILD_HINT}") from exc


def _read_passages(path: Path) -> PassageTable:
    try:
        return PassageTable.load(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is damaged ({type(exc).__name__}); {REBUILD_HINT}") from exc
