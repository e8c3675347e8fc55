"""The fake Bot API's answerInlineQuery refuses what Telegram refuses, with Telegram's words."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.inline_results import MAX_RESULTS, InlineAnswerError, check_inline_answer


def article(ident: str = "a1", text: str = "<b>الجواب</b>: «جملة»", **extra: Any) -> dict[str, Any]:
    content = {"message_text": text, "parse_mode": "HTML"}
    return {"type": "article", "id": ident, "title": "عنوان", "input_message_content": content, **extra}


def answer(*results: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"inline_query_id": "iq1", "results": list(results), **params}


def test_a_valid_answer_is_kept_with_its_parsed_text() -> None:
    kept = check_inline_answer(answer(article(text="نص <blockquote expandable>مقتبس</blockquote>")), known=True)
    [result] = kept.results
    assert result.plain == "نص مقتبس" and result.quotes == ["مقتبس"] and result.title == "عنوان"


@pytest.mark.parametrize(
    ("params", "known", "refusal"),
    [
        (answer(article()), False, "query is too old"),
        (answer(*(article(f"r{n}") for n in range(MAX_RESULTS + 1))), True, "RESULTS_TOO_MUCH"),
        (answer(article("x" * 65)), True, "RESULT_ID_INVALID"),
        (answer(article("")), True, "RESULT_ID_INVALID"),
        (answer(article("ع" * 33)), True, "RESULT_ID_INVALID"),  # 66 bytes in UTF-8
        (answer(article("same"), article("same")), True, "RESULT_ID_DUPLICATE"),
        (answer(article(text="   ")), True, "MESSAGE_EMPTY"),
        (answer(article(text="<b></b>")), True, "MESSAGE_EMPTY"),
        (answer(article(text="ا" * 4097)), True, "MESSAGE_TOO_LONG"),
        (answer(article(text="<b>غير مغلق")), True, "can't parse entities"),
        (answer(article(text="a < b")), True, "can't parse entities"),
        (answer(article(title="")), True, "RESULT_TITLE_EMPTY"),
        (answer({**article(), "type": "nonsense"}), True, "is invalid"),
        (
            answer(article(reply_markup={"inline_keyboard": [[{"text": "زر", "callback_data": "x" * 65}]]})),
            True,
            "BUTTON_DATA_INVALID",
        ),
        (answer(article(), cache_time=-1), True, "cache_time"),
    ],
)
def test_telegram_refusals(params: dict[str, Any], known: bool, refusal: str) -> None:
    with pytest.raises(InlineAnswerError, match=refusal):
        check_inline_answer(params, known=known)


def test_a_message_text_of_4096_characters_after_parsing_is_accepted() -> None:
    text = "<b>" + "ا" * 4096 + "</b>"  # longer as HTML, exactly at the limit once parsed
    [result] = check_inline_answer(answer(article(text=text)), known=True).results
    assert len(result.plain) == 4096
