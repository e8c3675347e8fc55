"""An answer as the command line shows it: JSON for programs (`ask --json`), text for a person."""

from __future__ import annotations

from .types import Answer, Quote


def _quote_json(quote: Quote) -> dict[str, object]:
    return {
        "text": quote.text,
        "highlight": quote.highlight_text,
        "article": quote.article_id,
        "title": quote.title,
        "source": quote.source,
        "paragraph": quote.paragraph,
        "start": quote.start,
        "end": quote.end,
        "highlight_start": quote.highlight.start,
        "highlight_end": quote.highlight.end,
        "link": quote.link,  # the page opened at the highlighted sentence (None: not from a URL)
        "scores": {"fused": quote.scores.fused, "dense": quote.scores.dense, "bm25": quote.scores.lexical},
    }


def answer_json(answer: Answer) -> dict[str, object]:
    """The answer as a JSON-ready object."""
    return {
        "question": answer.question,
        "kind": answer.kind,
        "found": answer.found,
        "confidence": answer.confidence,
        "quotes": [_quote_json(q) for q in answer.quotes],
    }


def answer_text(answer: Answer) -> str:
    """The answer as a person reads it in a terminal."""
    if answer.kind == "not_found" or not answer.quotes:
        return (
            "Not found: the articles do not answer this question.\n"
            "Try other words, or see which articles there are with: python -m embeddings list"
        )
    if answer.kind == "closest":
        lines = ["Closest: the articles discuss this, but no sentence of them answers it. The closest they say:", ""]
    else:
        lines = ["Answer:", f"«{answer.quotes[0].highlight_text}» [1]", ""]
    for n, quote in enumerate(answer.quotes, start=1):
        s = quote.scores
        lines.append(f"[{n}] {quote.title} — paragraph {quote.paragraph}")
        lines.append(f"    score {s.fused:.3f} (cosine {s.dense:.3f}, bm25 {s.lexical:.2f})")
        lines.append(f"    {quote.text}")
        lines.append("")
    return "\n".join(lines).rstrip()
