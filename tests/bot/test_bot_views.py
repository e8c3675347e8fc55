"""bot.views: the replies about a chat's own articles parse, fit, read right to left, and escape."""

from __future__ import annotations

from bot_harness import is_rtl
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bot_render import make_quote

from bot import messages
from bot.render import MESSAGE_LIMIT
from bot.views import Listed, button_title, render_chat_added, render_focused_answer, render_listing
from embeddings import Answer, Article, StoredArticle
from testkit.fake_telegram import parse_html, utf16_length

# Titles and sources as the web gives them: any script, HTML specials, astral characters.
_TEXT = st.text(
    alphabet=st.sampled_from("ابتثجحخد <>&\"'abcXYZ0123456789\u064e\U0001f600\U00010348\n\t/"), min_size=0, max_size=400
)


def article(title: str, source: str, number: int) -> Article:
    return Article(f"chat/{number}", title or "عنوان", source, "نص.", "")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_TEXT, _TEXT), min_size=0, max_size=25),
    st.lists(st.tuples(_TEXT, _TEXT), min_size=0, max_size=25),
    st.integers(min_value=-1, max_value=24),
    st.sampled_from([MESSAGE_LIMIT, 1000, 300]),
)
def test_listing_parses_fits_and_reads_right_to_left(
    shared: list[tuple[str, str]], own: list[tuple[str, str]], focus: int, limit: int
) -> None:
    shared_items = [Listed(article(t, s, n), f"id-{n}") for n, (t, s) in enumerate(shared)]
    own_items = [Listed(article(t, s, n), str(n), n == focus) for n, (t, s) in enumerate(own)]
    rendered = render_listing(shared_items, own_items, limit)
    for html in rendered:
        plain, _ = parse_html(html)  # raises on what Telegram would refuse
        assert utf16_length(plain) <= limit and is_rtl(plain)
    shown = "\n\n".join(parse_html(html)[0] for html in rendered)
    assert shown.count(messages.FOCUS_MARK) == (1 if 0 <= focus < len(own) else 0)
    assert all(f"id-{n}" in shown for n in range(len(shared)))


@settings(max_examples=40, deadline=None)
@given(_TEXT, st.text(alphabet="بتث .؟\U0001f600", min_size=1, max_size=6000))
def test_focused_answer_is_headed_by_the_title_and_fits(title: str, text: str) -> None:
    focus = article(title, "", 1)
    answer = Answer("سؤال", True, (make_quote(text),))
    rendered = render_focused_answer(answer, focus)
    first, _ = parse_html(rendered[0])
    assert first.startswith("من المقال: ") and is_rtl(first)
    assert all(utf16_length(parse_html(html)[0]) <= MESSAGE_LIMIT for html in rendered)


def test_confirmation_escapes_the_title_and_counts_paragraphs() -> None:
    stored = StoredArticle(1, 5, "<b>عنوان</b> & co", "x", "سطر.\nسطر.\nسطر.", "2026-12-01T09:00:00+00:00", "c")
    html = render_chat_added(stored, added=True)
    plain, _ = parse_html(html)
    assert "<b>عنوان</b> & co" in plain and "عدد فقراته 3" in plain and "/forget 5" in plain


def test_button_titles_are_short() -> None:
    assert button_title("كلمة " * 40).endswith("…") and len(button_title("كلمة " * 40)) <= 32
    assert button_title("عنوان\nقصير") == "عنوان قصير"


def test_a_closest_reply_from_the_focus_is_headed_by_it_and_not_called_an_answer() -> None:
    focus = article("مقال <التركيز>", "", 1)
    answer = Answer("سؤال", False, (make_quote("أقرب جملة في المقال."),), kind="closest")
    rendered = render_focused_answer(answer, focus)
    first, _ = parse_html(rendered[0])
    assert first.startswith("من المقال: مقال <التركيز>\n\n" + messages.CLOSEST_INTRO[:20])
    assert "الجواب" not in first and "«" not in first
