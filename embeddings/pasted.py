"""Whether a message's text is an article pasted (or forwarded) into a chat, or a question.

An article is long (at least `MIN_CHARS` characters), has several sentences (at least
`MIN_SENTENCES`), and most of them are statements: a paragraph of questions is a question.
"""

from __future__ import annotations

from .sentences import split_sentences

MIN_CHARS = 400
MIN_SENTENCES = 3
_QUESTION_MARKS = ("?", "؟")


def looks_like_article(text: str, *, min_chars: int = MIN_CHARS, min_sentences: int = MIN_SENTENCES) -> bool:
    """True for a text long enough, and with enough statements, to be an article."""
    text = text.strip()
    if len(text) < min_chars:
        return False
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    questions = sum(sentence.rstrip("\"'»”’)] ").endswith(_QUESTION_MARKS) for sentence in sentences)
    return len(sentences) >= min_sentences and questions * 2 < len(sentences)
