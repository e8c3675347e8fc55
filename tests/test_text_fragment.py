"""embeddings.text_fragment: the spec's encoding round-trips; every link matches its sentence only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHARED_EVAL, require_shared

from embeddings import Article, Scores, Span, find_fragment_matches, text_fragment_url
from embeddings.answer import make_quote
from embeddings.passages import Chunking, article_passages
from embeddings.retrieve import Hit
from embeddings.sentences import split_sentences
from embeddings.text_fragment import (
    MAX_URL_CHARS,
    TextDirective,
    best_directive,
    link_base,
    parse_text_directive,
    percent_decode,
    percent_encode,
    visible_span,
)

ARTICLE = Path(__file__).resolve().parent.parent / "data" / "articles" / "putin-cis-critical-infrastructure.ar.txt"
URL = "https://example.com/news/article?id=7&lang=ar#top"
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويةءأإآىؤئ"
HARAKAT = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"
SYNTAX = "-&,% #:~=+'\"()<>?/\\"
ALPHABET = ARABIC + HARAKAT + SYNTAX + "abcXYZ019 \u00a0\u200f\u0640"
terms = st.text(alphabet=st.sampled_from(ALPHABET), min_size=1) | st.text(min_size=1)


# --- encoding ------------------------------------------------------------------------------


@given(terms)
def test_percent_encoding_round_trips_and_leaves_no_syntax_character(term: str) -> None:
    encoded = percent_encode(term)
    assert percent_decode(encoded) == term
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~%")
    assert not set("-&,") & set(encoded)  # the directive's own syntax never appears raw


@given(terms, st.none() | terms, st.none() | terms, st.none() | terms)
def test_directive_round_trips_through_the_spec_parser(
    start: str, end: str | None, prefix: str | None, suffix: str | None
) -> None:
    directive = TextDirective(start, end, prefix, suffix)
    encoded = directive.encode()
    assert parse_text_directive(encoded) == directive
    assert find_fragment_matches(f"https://example.com/#frag:~:{encoded}&other", "") == []


def test_encoding_matches_the_spec_examples() -> None:
    # The spec's BiDi example: مصر preceded by البحرين.
    directive = TextDirective("مصر", prefix="البحرين")
    assert directive.encode() == "text=%D8%A7%D9%84%D8%A8%D8%AD%D8%B1%D9%8A%D9%86-,%D9%85%D8%B5%D8%B1"
    assert TextDirective("an example text fragment").encode() == "text=an%20example%20text%20fragment"
    assert percent_encode("a-b&c,d%e") == "a%2Db%26c%2Cd%25e"
    assert percent_decode("100%") == "100%" and percent_decode("%zz+%41") == "%zz+A"  # URL Standard decoding


@pytest.mark.parametrize(
    "directive",
    ["text=", "text=a,b,c,d,e", "text=a,,b", "text=-a-", "text=a-,-b", "txt=a", "text=a,-b,c"],
)
def test_invalid_directives_are_refused(directive: str) -> None:
    assert parse_text_directive(directive) is None


# --- matching, after the spec's examples -----------------------------------------------------


def spans_text(text: str, fragment: str) -> list[str]:
    return [text[s.start : s.end] for s in find_fragment_matches(fragment, text)]


def test_exact_and_range_matches() -> None:
    text = "this is an example text fragment\nhere is an example text"
    assert spans_text(text, "#:~:text=an%20example%20text%20fragment") == ["an example text fragment"]
    assert spans_text(text, "#:~:text=an%20example,fragment") == ["an example text fragment"]
    # Context terms: only the first "an example" is preceded by "this is" and followed by "text fragment".
    matches = find_fragment_matches("#:~:text=this%20is-,an%20example,-text%20fragment", text)
    assert matches == [Span(8, 18)]
    # Several directives, an element fragment before them and an unknown directive among them.
    assert spans_text(text, "https://x.org/p#top:~:text=here&unknown=1&text=fragment") == ["here", "fragment"]


def test_word_boundaries_case_and_marks() -> None:
    assert spans_text("mountain range", "#:~:text=range") == ["range"]
    assert spans_text("color orange", "#:~:text=range") == []
    assert spans_text("forest ranger", "#:~:text=range") == []
    assert spans_text("Mountain RANGE", "#:~:text=mountain%20range") == ["Mountain RANGE"]
    assert spans_text("café", "#:~:text=CAFE") == ["café"]
    # Primary level: harakat, hamza on alef and tatweel are ignored; the whole word is the match.
    assert spans_text("زار مِصرَ أمس", f"#:~:text={percent_encode('مصر')}") == ["مِصرَ"]
    assert spans_text("قال أحمد", f"#:~:text={percent_encode('احمد')}") == ["أحمد"]
    assert spans_text("قـــال", f"#:~:text={percent_encode('قال')}") == ["قـــال"]
    assert spans_text("المصريون", f"#:~:text={percent_encode('مصر')}") == []  # inside a word


def test_terms_do_not_cross_blocks_but_context_whitespace_does() -> None:
    text = "The\nquick brown fox\njumped over the lazy dog"
    assert spans_text(text, "#:~:text=The%20quick,lazy%20dog") == []
    assert spans_text("The quick brown fox\njumped over the lazy dog", "#:~:text=The%20quick,lazy%20dog") == [
        "The quick brown fox\njumped over the lazy dog"
    ]
    assert spans_text("intro\n\nthe  target   text", "#:~:text=intro-,the%20target%20text") == ["the  target   text"]


def test_text_end_is_the_first_after_the_start() -> None:
    text = "one two end. three end."
    assert spans_text(text, "#:~:text=one,end.") == ["one two end."]
    assert spans_text(text, "#:~:text=one,end.,-three") == ["one two end."]
    assert spans_text(text, "#:~:text=two,end.") == ["two end."]


# --- links to real sentences -----------------------------------------------------------------


def assert_links_to_each_sentence(text: str) -> int:
    """Every sentence's link matches it and only it; returns how many were best effort."""
    best_effort = 0
    for span in split_sentences(text):
        sentence = visible_span(text, span)
        assert sentence is not None
        url = text_fragment_url(URL, text, span)
        assert url is not None and url.startswith("https://example.com/news/article?id=7&lang=ar#:~:text=")
        matches = find_fragment_matches(url, text)
        if matches != [sentence]:
            # Only when the same words stand elsewhere in the same surroundings.
            best_effort += 1
            assert sentence in matches and best_directive(text, sentence) == TextDirective(
                " ".join(text[sentence.start : sentence.end].split())
            )
    return best_effort


def test_every_sentence_of_the_shipped_article_links_to_itself_only() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    assert assert_links_to_each_sentence(text) == 0
    long_ones = [s for s in split_sentences(text) if getattr(best_directive(text, s), "end", None) is not None]
    assert long_ones  # the article has long sentences, linked as textStart,textEnd


def test_every_sentence_of_xquad_ar_links_to_itself_only() -> None:
    path = SHARED_EVAL / "xquad.ar.json"
    if not path.is_file():
        require_shared("xquad.ar.json")  # skips with the message saying where the data belongs
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    sentences = best_effort = 0
    for article in data:
        # The whole article as one page, a paragraph per block: harder than a paragraph alone.
        text = "\n".join(paragraph["context"] for paragraph in article["paragraphs"])
        sentences += len(split_sentences(text))
        best_effort += assert_links_to_each_sentence(text)
    assert sentences > 1000
    assert best_effort == 0


words = st.sampled_from(["قال", "بوتين", "إن", "الدفاع", "a-b", "x&y", "1,5", "%20", "مِصر", "(و)", "ت-"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.lists(words, min_size=1, max_size=14), min_size=1, max_size=4), min_size=1, max_size=4))
def test_any_sentence_links_to_itself_first_and_only_when_it_can(paragraphs: list[list[list[str]]]) -> None:
    # Few words, many repeats: uniqueness is hard; the link is unique or whole-sentence best effort.
    text = "\n".join(" ".join(" ".join(sentence) + "." for sentence in paragraph) for paragraph in paragraphs)
    for sentence in split_sentences(text):
        url = text_fragment_url(URL, text, sentence)
        assert url is not None
        matches = find_fragment_matches(url, text)
        whole = TextDirective(" ".join(text[sentence.start : sentence.end].split()))
        assert matches == [sentence] or (sentence in matches and best_directive(text, sentence) == whole)


# --- URLs ------------------------------------------------------------------------------------


def test_url_keeps_the_query_and_replaces_the_fragment() -> None:
    text = "جملة أولى. جملة ثانية."
    url = text_fragment_url("https://example.com/a/b.html?q=1&r=%D8%A7#section", text, Span(11, 22))
    assert url == f"https://example.com/a/b.html?q=1&r=%D8%A7#:~:text={percent_encode('جملة ثانية.')}"


def test_only_http_urls_get_a_link() -> None:
    for source in ("articles/a.txt", "/tmp/a.txt", "ftp://example.com/a", "", "Sanad seed article (x.txt)", "http://"):
        assert text_fragment_url(source, "نص.", Span(0, 3)) is None
    assert link_base("HTTP://Example.com/مقال?ق=1") == "http://Example.com/%D9%85%D9%82%D8%A7%D9%84?%D9%82=1"
    assert link_base("https://مثال.com/x") == "https://xn--mgbh0fb.com/x"
    assert link_base("https://example.com/a b") is None
    assert link_base('https://exa"mple.com/') is None and link_base("https://example.com:99999/") is None
    assert link_base("http://user@example.com:8080/a?b=c#d") == "http://user@example.com:8080/a?b=c"


def test_a_link_too_long_falls_back_to_the_page() -> None:
    sentence = " ".join(["كلمة"] * 400)
    text = f"{sentence}.\n{sentence}!"  # the same words twice: only the whole sentence could tell them apart
    url = text_fragment_url("https://example.com/p", text, Span(0, len(sentence) + 1))
    assert url == "https://example.com/p"
    assert len(text_fragment_url("https://example.com/p", text, Span(0, 5)) or "") <= MAX_URL_CHARS


def test_quotes_from_urls_link_and_quotes_from_files_do_not() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    passage = article_passages(Article("a", "t", "", text), Chunking())[4]
    hit = Hit(passage=passage, scores=Scores(0.5, 0.5, 1.0))
    highlight = passage.sentences[0]
    for source, linked in (("https://example.com/putin", True), ("putin.txt", False), ("", False)):
        quote = make_quote(hit, Article("a", "t", source, text), highlight)
        assert (quote.link is not None) == linked
        if quote.link:
            assert find_fragment_matches(quote.link, text) == [highlight]
