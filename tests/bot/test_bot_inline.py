"""Inline mode end to end: `@bot question` answers with verbatim quotes from the shared library
and never from any chat's own articles; an empty or too short query gets a hint. The fake Bot
API checks every answerInlineQuery as Telegram does (ids, count, message text, HTML)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bot_harness import BotThread, is_rtl, read_dev_questions

from bot import messages
from bot.inline import CACHE_SECONDS, HINT_ID, shortened
from embeddings import IndexedLibrary
from testkit.fake_telegram import FakeTelegram, InlineAnswer, Sent

DANGER = next(d for d in read_dev_questions() if "لا يزال موجودا" in d.q)
# A chat's own article with a sentence no shared article has; asked inline, it must not come back.
OWN_ARTICLE = (
    "أعلنت اللجنة المنظمة لمهرجان الزيتون السنوي في قرية الينابيع عن برنامج دورته الجديدة. "
    "وقالت اللجنة إن المهرجان سيستقبل هذا العام أربعين ألف زائر من اثنتي عشرة دولة، في أكبر دورة منذ تأسيسه. "
    "وتشمل الفعاليات معارض للحرف اليدوية وعروضًا لعصر الزيتون بالطرق التقليدية، إضافة إلى ندوات عن زراعة الزيتون "
    "في المناطق الجافة وطرق حماية الأشجار من الآفات. "
    "وأكد رئيس اللجنة أن عائدات المهرجان ستخصص لدعم المزارعين الصغار في القرية والقرى المجاورة لها."
)
OWN_SENTENCE = "أربعين ألف زائر"
OWN_QUESTION = "كم زائرا سيستقبل مهرجان الزيتون في قرية الينابيع؟"

Ask = Callable[..., list[Sent]]
NewChat = Callable[..., int]


def inline(fake: FakeTelegram, user: int, query: str, chat_type: str = "private") -> InlineAnswer:
    return fake.wait_for_inline_answer(fake.send_inline_query(user, query, chat_type=chat_type), timeout=60)


def test_an_inline_question_is_answered_with_verbatim_quotes_from_the_shared_library(
    fake: FakeTelegram, running_bot: BotThread, library: IndexedLibrary, new_chat: NewChat
) -> None:
    answer = inline(fake, new_chat(), DANGER.q, chat_type="supergroup")
    [result] = answer.results
    shared = [article.text for article in library.articles]
    assert result.quotes and all(any(quote in text for text in shared) for quote in result.quotes)
    assert DANGER.must in result.plain and is_rtl(result.plain) and result.parse_mode == "HTML"
    lead = library.ask(DANGER.q).quotes[0]
    assert result.title == shortened(lead.highlight_text) and lead.highlight_text.startswith(result.title.rstrip("…"))
    assert result.description == shortened(f"{lead.title} — {messages.PARAGRAPH_LABEL} {lead.paragraph}")
    assert answer.cache_time == CACHE_SECONDS and answer.is_personal is False


def test_an_inline_query_never_answers_from_a_chats_own_article(
    fake: FakeTelegram, running_bot: BotThread, ask: Ask, new_chat: NewChat
) -> None:
    chat = new_chat()
    [added] = ask(chat, OWN_ARTICLE)
    assert added.plain.startswith("جاهز")
    assert OWN_SENTENCE in "\n".join(sent.plain for sent in ask(chat, OWN_QUESTION))  # the chat itself is answered
    for query in (OWN_QUESTION, "مهرجان الزيتون في قرية الينابيع أربعين ألف زائر"):
        answer = inline(fake, chat, query)  # the same user, from the same private chat
        assert answer.results and all(OWN_SENTENCE not in r.plain and "الينابيع" not in r.title for r in answer.results)


@pytest.mark.parametrize("query", ["", "   ", "مت", "؟؟"])
def test_an_empty_or_too_short_inline_query_gets_a_hint(
    fake: FakeTelegram, running_bot: BotThread, new_chat: NewChat, query: str
) -> None:
    [hint] = inline(fake, new_chat(), query).results
    assert hint.id == HINT_ID and hint.title == messages.INLINE_HINT_TITLE and is_rtl(hint.title)
    assert is_rtl(hint.plain) and "سند" in hint.plain


def test_an_inline_question_the_library_cannot_answer_says_so(
    fake: FakeTelegram, running_bot: BotThread, new_chat: NewChat
) -> None:
    [result] = inline(fake, new_chat(), "ما عاصمة فرنسا؟").results
    assert result.title == messages.INLINE_NOT_FOUND_TITLE and result.quotes == []
