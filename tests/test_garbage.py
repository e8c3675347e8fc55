"""Random bytes, mojibake and binary files are refused as articles; real text is accepted."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import ExtractError, decode_document
from embeddings.garbage import garbage_reason
from embeddings.passages import paragraphs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
XQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.ar.json"
SHIPPED = PROJECT_ROOT / "data" / "articles" / "putin-cis-critical-infrastructure.ar.txt"
CHARSETS = ["cp1256", "iso-8859-6", "latin-1", "cp1252", "utf-8", "utf-16", "koi8-r", "mac-arabic"]


def real_paragraphs() -> list[str]:
    xquad = [p["context"] for e in json.loads(XQUAD.read_text(encoding="utf-8"))["data"] for p in e["paragraphs"]]
    text = SHIPPED.read_text(encoding="utf-8")
    return xquad + [text[s.start : s.end] for s in paragraphs(text)]


def png_bytes() -> bytes:
    """A small valid PNG (8x8 grey gradient)."""
    raw = b"".join(b"\x00" + bytes(range(y * 8, y * 8 + 8)) for y in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (8).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_every_real_paragraph_is_accepted() -> None:
    refused = [(garbage_reason(p), p[:60]) for p in real_paragraphs() if garbage_reason(p)]
    assert len(real_paragraphs()) > 240 and refused == []


def test_the_shipped_article_is_accepted_as_a_file() -> None:
    assert decode_document(SHIPPED.read_bytes(), "article.txt").text.startswith("دعا الرئيس الروسي")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=200, max_size=4000), charset=st.sampled_from(CHARSETS))
def test_random_bytes_in_any_charset_are_refused(data: bytes, charset: str) -> None:
    text = data.decode(charset, errors="replace")
    assert garbage_reason(text) is not None


@settings(max_examples=30, deadline=None)
@given(data=st.binary(min_size=200, max_size=4000))
def test_random_bytes_uploaded_as_txt_are_refused(data: bytes) -> None:
    with pytest.raises(ExtractError) as refused:
        decode_document(data, "random.txt")
    assert refused.value.reason in ("garbage", "not_text", "empty")


@pytest.mark.parametrize("charset", ["cp1256", "latin-1", "cp1252"])
def test_mojibake_of_the_shipped_article_is_refused(charset: str) -> None:
    garbled = SHIPPED.read_text(encoding="utf-8").encode("utf-8").decode(charset, errors="replace")
    with pytest.raises(ExtractError) as refused:
        decode_document(garbled.encode("utf-8"), "garbled.txt")
    assert refused.value.reason == "garbage"


def test_a_png_renamed_txt_is_refused_with_a_reason() -> None:
    with pytest.raises(ExtractError) as refused:
        decode_document(png_bytes() * 20, "photo.txt")
    assert refused.value.reason in ("garbage", "not_text")
    assert "Cannot use photo.txt as an article" in str(refused.value)


def test_three_thousand_random_bytes_are_refused_as_garbage() -> None:
    data = bytes((i * 7919 + 13) % 251 for i in range(3000))
    with pytest.raises(ExtractError) as refused:
        decode_document(data, "noise.txt")
    assert refused.value.reason in ("garbage", "not_text")


def test_cli_add_refuses_random_bytes_with_one_error_line(run_cli, tmp_path: Path) -> None:
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(3000)))
    env = {"SANAD_ARTICLES_DIR": str(tmp_path / "articles"), "SANAD_INDEX_DIR": str(tmp_path / "index")}
    result = run_cli(["add", str(noise)], env, cwd=tmp_path, timeout=300)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "Cannot use noise.txt as an article" in errors[0]
    assert not (tmp_path / "articles").exists() or not any((tmp_path / "articles").iterdir())
