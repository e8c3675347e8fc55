"""bot.render: Answer -> Telegram HTML messages that parse, fit and read right to left."""

from __future__ import annotations

import pytest
from bot_harness import is_rtl
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import messages
from bot.render import MESSAGE_LIMIT, render_answer, render_context, render_more, render_sources, to_plain
from embeddings import Answer, Article, Quote, Scores, Span, lead_context
from testkit.fake_telegram import parse_html, utf16_length

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوية"
HARAKAT = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"
_SCORES = Scores(fused=0.5, dense=0.9, lexical=3.0)


def make_quote(
    text: str,
    highlight: tuple[int, int] | None = None,
    *,
    title: str = "عنوان",
    paragraph: int = 1,
    start: int = 100,
    link: str | None = None,
    article_id: str = "a",
) -> Quote:
    """A quote of `text` at article offset `start`, its highlight given relative to the text."""
    lo, hi = highlight if highlight is not None else (0, len(text))
    return Quote(
        article_id=article_id,
        title=title,
        source="src",
        paragraph=paragraph,
        start=start,
        end=start + len(text),
        text=text,
        highlight=Span(start + lo, start + hi),
        scores=_SCORES,
        link=link,
    )


def parsed(messages_html: list[str]) -> list[tuple[str, list[dict]]]:
    """Parse each message as Telegram would (raises on invalid HTML)."""
    return [parse_html(html) for html in messages_html]


def blockquote_texts(messages_html: list[str], kind: str = "expandable_blockquote") -> list[str]:
    """The texts of the collapsed quotes (`kind` "blockquote": of the open ones)."""
    out = []
    for plain, entities in parsed(messages_html):
        encoded = plain.encode("utf-16-le")
        for e in entities:
            if e["type"] == kind:
                out.append(encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"))
    return out


def test_answer_leads_with_the_answering_sentence_and_cites_it_once() -> None:
    quote = make_quote("جملة أولى. وزير الدفاع هو سيرجي شويجو. جملة أخيرة.", (11, 38), title="خبر", paragraph=4)
    [html] = render_answer(Answer("من الوزير؟", True, (quote,)))
    plain, _ = parse_html(html)
    assert plain.startswith("الجواب: «وزير الدفاع هو سيرجي شويجو.»\nالمصدر: خبر — الفقرة 4\n")
    assert "<b>«وزير الدفاع هو سيرجي شويجو.»</b>" in html and plain.count("خبر") == 1
    assert blockquote_texts([html]) == [quote.text]  # its passage says more: shown, collapsed
    assert "<blockquote expandable>جملة أولى. <b>وزير الدفاع هو سيرجي شويجو.</b> جملة أخيرة.</blockquote>" in html


def test_a_passage_that_is_only_the_sentence_is_not_quoted_twice() -> None:
    quote = make_quote("وزير الدفاع هو سيرجي شويجو.", title="خبر", paragraph=4)
    [html] = render_answer(Answer("من الوزير؟", True, (quote,)))
    assert to_plain(html) == "الجواب: «وزير الدفاع هو سيرجي شويجو.»\nالمصدر: خبر — الفقرة 4"
    assert "<blockquote" not in html


def test_supporting_passages_follow_collapsed_with_each_title_once() -> None:
    quotes = (
        make_quote("نص رقم 3.", paragraph=3, title="الأول"),
        make_quote("نص رقم 1.", paragraph=1, title="الأول"),
        make_quote("نص رقم 5.", paragraph=5, title="الثاني", article_id="b"),
        make_quote("نص رقم 7.", paragraph=7, title="الأول"),
        make_quote("نص رقم 2.", paragraph=2, title="الثاني", article_id="b"),
    )
    [html] = render_answer(Answer("سؤال", True, quotes))
    plain = to_plain(html)
    headings = ["المصدر: الأول — الفقرة 3", "الفقرة 1:", "المصدر: الثاني — الفقرة 5", "الفقرة 7:", "الفقرة 2:"]
    headings = [h.rstrip(":") + "\n" for h in headings]
    positions = [plain.index(heading) for heading in headings]
    assert positions == sorted(positions) and plain.count("الأول") == 1 and plain.count("الثاني") == 1
    assert blockquote_texts([html]) == [q.text for q in quotes[1:]]  # the lead's passage is its sentence
    assert html.count("<blockquote expandable>") == 4 and html.count("<b>") == 3  # the sentence, two titles


def test_a_supporting_passage_bolds_its_sentence_only_when_it_says_more() -> None:
    lead = make_quote("الجواب.", paragraph=1)
    longer = make_quote("جملة قبل. الجملة الأقرب. جملة بعد.", (10, 24), paragraph=2)
    [html] = render_answer(Answer("سؤال", True, (lead, longer, make_quote("جملة وحدها.", paragraph=3))))
    assert "<blockquote expandable>جملة قبل. <b>الجملة الأقرب.</b> جملة بعد.</blockquote>" in html
    assert "<blockquote expandable>جملة وحدها.</blockquote>" in html


def test_a_focused_answer_cites_the_focus_by_paragraph_only() -> None:
    quotes = (make_quote("جملة الجواب.", paragraph=2), make_quote("أخرى.", paragraph=6, title="غيره", article_id="b"))
    [html] = render_answer(Answer("سؤال", True, quotes), named="a")
    plain = to_plain(html)
    assert plain.startswith("الجواب: «جملة الجواب.»\nالمصدر: الفقرة 2\n") and "عنوان" not in plain
    assert "المصدر: غيره — الفقرة 6" in plain


def test_not_found_quotes_nothing_and_suggests_sources() -> None:
    [html] = render_answer(Answer("ما عاصمة فرنسا؟", False, ()))
    assert html == messages.NOT_FOUND
    assert "<blockquote" not in html and "/sources" in html


def test_dynamic_text_is_escaped() -> None:
    nasty = 'نص <b>غامق</b> & </blockquote> <script>x</script> &amp; "q"'
    quote = make_quote(nasty, (3, 15), title="<i>عنوان</i> & </b>")
    [html] = render_answer(Answer("س", True, (quote,)))
    plain, _ = parse_html(html)
    assert "<script>" not in html
    assert nasty in plain and "<i>عنوان</i> & </b>" in plain


def test_long_answer_is_split_between_passages() -> None:
    sentence = "هذه جملة طويلة عن الأخبار الروسية والدفاع الجوي. "
    quotes = tuple(make_quote(sentence * 60, (0, len(sentence)), paragraph=n) for n in (1, 2, 3))  # ~3,000 chars each
    html_messages = render_answer(Answer("س", True, quotes))
    assert len(html_messages) == 3
    heads = ["الجواب: «", "الفقرة 2\n", "الفقرة 3\n"]
    for head, html in zip(heads, html_messages, strict=True):
        plain, _ = parse_html(html)
        assert utf16_length(plain) <= MESSAGE_LIMIT
        assert plain.startswith(head)  # each passage whole, with its heading
    assert blockquote_texts(html_messages) == [q.text for q in quotes]


def test_passage_too_long_for_one_message_is_cut_at_sentences_and_reopened() -> None:
    sentence = "جملة من المقال تتحدث عن البنية التحتية للطاقة والنقل! "
    text = sentence * 200  # ~11,000 chars
    html_messages = render_answer(Answer("س", True, (make_quote(text, (len(sentence), 2 * len(sentence))),)))
    assert len(html_messages) >= 3
    pieces = blockquote_texts(html_messages)
    assert "".join(pieces) == text
    assert all(piece.endswith("! ") for piece in pieces)  # cut after a sentence, not inside one
    assert to_plain(html_messages[0]).startswith("الجواب: «")
    for html in html_messages[1:]:
        assert to_plain(html).startswith("الجواب (تابع):\n")


def test_sources_list_titles_and_sources() -> None:
    articles = [Article("a", "عنوان <أول>", "https://example.com/?a=1&b=2", "نص"), Article("b", "ثانٍ", "", "نص")]
    [html] = render_sources(articles)
    plain, _ = parse_html(html)
    assert "المقال 1: عنوان <أول> — https://example.com/?a=1&b=2" in plain
    assert "المقال 2: ثانٍ" in plain


def test_many_sources_are_split_and_every_message_reads_right_to_left() -> None:
    articles = [Article(str(i), f"Title {i} " + "x" * 200, f"https://example.com/{i}", "t") for i in range(100)]
    html_messages = render_sources(articles)
    assert len(html_messages) > 1
    for html in html_messages:
        plain, _ = parse_html(html)
        assert utf16_length(plain) <= MESSAGE_LIMIT and is_rtl(plain)
    assert all(f"Title {i} " in "".join(map(to_plain, html_messages)) for i in range(100))


def test_limit_below_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        render_answer(Answer("س", False, ()), limit=10)


@pytest.mark.parametrize("name", [n for n in dir(messages) if n.isupper() and isinstance(getattr(messages, n), str)])
def test_fixed_texts_are_valid_html_and_read_right_to_left(name: str) -> None:
    plain, _ = parse_html(getattr(messages, name))
    assert is_rtl(plain)


# --- properties ------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [*list(ARABIC + HARAKAT + "abcXYZ019٣ .,!?؟…\n\t<>&\"'/;"), "😀", "𝒜", "&amp;", "</b>", "<b>", "\u200f"]
)
_TEXT = st.lists(_ALPHABET, min_size=1, max_size=1500).map("".join)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    text = draw(st.one_of(_TEXT, _TEXT.map(lambda t: t * 7)))
    lo = draw(st.integers(0, len(text)))
    hi = draw(st.integers(lo, len(text)))
    title = draw(st.lists(_ALPHABET, min_size=1, max_size=60).map("".join))
    return make_quote(text, (lo, hi), title=title, paragraph=draw(st.integers(1, 999)))


@settings(max_examples=150, deadline=None)
@given(st.lists(quotes(), min_size=1, max_size=4), st.sampled_from([100, 150, 400, 1000, MESSAGE_LIMIT]))
def test_rendered_messages_parse_fit_and_read_right_to_left(quote_list: list[Quote], limit: int) -> None:
    html_messages = render_answer(Answer("س", True, tuple(quote_list)), limit=limit)
    for html in html_messages:
        plain, _ = parse_html(html)  # balanced, known tags, escaped text
        assert 0 < utf16_length(plain) <= limit
        assert plain.strip()
        assert is_rtl(plain)
        assert to_plain(html) == plain  # the plain-text fallback shows the same words
    lead, *others = quote_list
    quoted = [lead] if lead.text.strip() != lead.highlight_text.strip() else []
    assert "".join(blockquote_texts(html_messages)) == "".join(q.text for q in [*quoted, *others])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=30),
    st.sampled_from([100, 300, MESSAGE_LIMIT]),
)
def test_sources_messages_parse_fit_and_read_right_to_left(pairs: list[tuple[str, str]], limit: int) -> None:
    articles = [Article(str(i), title, source, "t") for i, (title, source) in enumerate(pairs)]
    for html in render_sources(articles, limit=limit):
        plain, _ = parse_html(html)
        assert 0 < utf16_length(plain) <= limit and is_rtl(plain)


def test_closest_is_said_plainly_and_never_shown_as_the_answer() -> None:
    quote = make_quote("قال الوزير إن التدريبات نجحت. ولم يذكر عدد الصواريخ.", (0, 29))
    answer = Answer(question="كم صاروخًا أُطلق؟", found=False, quotes=(quote,), kind="closest")
    html_messages = render_answer(answer)
    text, entities = parse_html(html_messages[0])
    assert text.startswith(messages.CLOSEST_INTRO) and is_rtl(text)
    assert f"{messages.ANSWER_LABEL}:" not in text and "«" not in text
    bold = [text[e["offset"] : e["offset"] + e["length"]] for e in entities if e["type"] == "bold"]
    assert bold == ["عنوان"]  # the title only: no sentence is bold as if it answered
    assert quote.text in text


def test_each_kind_renders_differently() -> None:
    quote = make_quote("قال الوزير إن التدريبات نجحت.")
    kinds = {
        kind: render_answer(Answer(question="س؟", found=kind == "answer", quotes=q, kind=kind))[0]
        for kind, q in (("answer", (quote,)), ("closest", (quote,)), ("not_found", ()))
    }
    assert len(set(kinds.values())) == 3 and kinds["not_found"] == messages.NOT_FOUND


def test_a_quote_from_a_url_cites_with_a_link_to_its_sentence_and_one_from_a_file_without() -> None:
    text = "جملة أولى. وزير الدفاع هو سيرجي شويجو. جملة أخيرة."
    link = "https://example.com/news?a=1&b=2#:~:text=%D9%88%D8%B2%D9%8A%D8%B1"
    linked = make_quote(text, (11, 38), paragraph=4, link=link)
    plain_quote = make_quote(text, (11, 38), paragraph=4)
    for answer in (Answer("س", True, (linked,)), Answer("س", False, (linked,), kind="closest")):
        [html] = render_answer(answer)
        escaped = link.replace("&", "&amp;")
        assert f'<a href="{escaped}"><b>عنوان</b> — الفقرة 4</a>' in html
        plain, entities = parse_html(html)
        [entity] = [e for e in entities if e["type"] == "text_link"]
        encoded = plain.encode("utf-16-le")
        cited = encoded[2 * entity["offset"] : 2 * (entity["offset"] + entity["length"])].decode("utf-16-le")
        assert cited == "عنوان — الفقرة 4"
        [unlinked] = render_answer(Answer(answer.question, answer.found, (plain_quote,), kind=answer.kind))
        assert "<a " not in unlinked
        assert to_plain(html) == to_plain(unlinked)  # the link adds nothing visible


def test_links_survive_cutting_and_stay_within_the_limit() -> None:
    sentence = "جملة من المقال تتحدث عن البنية التحتية للطاقة والنقل! "
    link = "https://example.com/" + "a" * 1900 + '?q="<x>"'
    quotes = tuple(make_quote(sentence * 80, (0, len(sentence)), paragraph=n, link=link) for n in (1, 2))
    html_messages = render_answer(Answer("س", True, quotes), limit=1000)
    for html in html_messages:
        plain, _ = parse_html(html)
        assert utf16_length(plain) <= 1000
    assert sum(html.count("<a href=") for html in html_messages) == 2
    assert '?q=&quot;&lt;x&gt;&quot;"' in "".join(html_messages)
    too_long = make_quote("نص.", link="https://example.com/" + "a" * 2100)
    assert "<a " not in render_answer(Answer("س", True, (too_long,)))[0]


# --- the buttons: more quotes, context --------------------------------------------------------


def test_more_quotes_are_cited_short_and_the_last_batch_says_no_more() -> None:
    quotes = (make_quote("نص أول.", paragraph=8), make_quote("نص ثان.", paragraph=9))
    [html] = render_more(quotes, last=False)
    plain = to_plain(html)
    assert plain.startswith(messages.MORE_HEADER) and plain.count("عنوان") == 1 and "الفقرة 9\n" in plain
    assert blockquote_texts([html]) == ["نص أول.", "نص ثان."] and "لا مزيد" not in plain
    [last] = render_more(quotes[:1], last=True)
    assert to_plain(last).endswith(messages.NO_MORE) and "لا مزيد" in messages.NO_MORE


TEXT = "فقرة أولى.\nجملة قبل. وجملة الجواب. وجملة بعد.\nفقرة ثالثة.\nفقرة رابعة."


def test_context_shows_the_neighbours_verbatim_with_the_lead_in_bold() -> None:
    article = Article("a", "عنوان <المقال>", "https://example.com/x", TEXT)
    lead = Span(TEXT.index("وجملة الجواب"), TEXT.index(" وجملة بعد"))
    [html] = render_context(lead_context(article, lead), bold=True, link="https://example.com/x#:~:text=a&b")
    plain = to_plain(html)
    assert plain.startswith(f"{messages.CONTEXT_LABEL}: عنوان <المقال>\n\nالفقرة 1:\n")
    assert plain.index("الفقرة 1:") < plain.index("الفقرة 2:") < plain.index("الفقرة 3:") and "الفقرة 4" not in plain
    assert '<a href="https://example.com/x#:~:text=a&amp;b">' in html
    assert blockquote_texts([html]) == [] and blockquote_texts([html], "blockquote") == TEXT.split("\n")[:3]
    assert "جملة قبل. <b>وجملة الجواب.</b> وجملة بعد.</blockquote>" in html  # open: the reader asked for it
    [unbolded] = render_context(lead_context(article, lead), bold=False)
    assert "<b>وجملة" not in unbolded and to_plain(unbolded) == plain


@settings(max_examples=100, deadline=None)
@given(st.lists(quotes(), min_size=1, max_size=4), st.booleans(), st.sampled_from([100, 400, MESSAGE_LIMIT]))
def test_more_messages_parse_fit_and_read_right_to_left(quote_list: list[Quote], last: bool, limit: int) -> None:
    html_messages = render_more(quote_list, last, limit=limit)
    for html in html_messages:
        plain, _ = parse_html(html)
        assert 0 < utf16_length(plain) <= limit and is_rtl(plain) and to_plain(html) == plain
    assert "".join(blockquote_texts(html_messages)) == "".join(q.text for q in quote_list)


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=5), st.data(), st.sampled_from([100, 400, MESSAGE_LIMIT]))
def test_context_messages_parse_fit_and_quote_verbatim(lines: list[str], data: st.DataObject, limit: int) -> None:
    text = "\n".join(lines)
    spans = [(i, line) for i, line in enumerate(text.split("\n")) if line.strip()]
    if not spans:
        return
    article = Article("a", data.draw(_TEXT), "", text)
    context = lead_context(article, Span(text.index(spans[0][1].strip()), text.index(spans[0][1].strip()) + 1))
    html_messages = render_context(context, bold=data.draw(st.booleans()), limit=limit)
    for html in html_messages:
        plain, _ = parse_html(html)
        assert 0 < utf16_length(plain) <= limit and is_rtl(plain)
    assert "".join(blockquote_texts(html_messages, "blockquote")) == "".join(p.text for p in context.paragraphs)
