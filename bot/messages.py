"""Every fixed text the bot shows, in Arabic, as Telegram HTML.

Each text starts with an Arabic word, so Telegram lays the message out right to left, and
contains no dynamic value: inserted values are escaped where the message is assembled.
"""

from __future__ import annotations

EXAMPLE_QUESTION = "ما اسم وزير الدفاع الروسي؟"

HELP = (
    "أهلًا بك في <b>سند</b>.\n"
    "اسألني بالعربية عن الأخبار التي لديّ، وسأجيبك بالجمل نفسها من المقال، منقولة حرفيًّا "
    "مع ذكر مصدرها ورقم فقرتها.\n\n"
    f"مثال: {EXAMPLE_QUESTION}\n\n"
    "في المجموعات: اذكرني باسمي، أو ردّ على إحدى رسائلي، أو اكتب /ask ثم سؤالك.\n"
    "الأوامر: /sources لعرض المقالات، /help لهذه الرسالة."
)

EMPTY_QUESTION = f"اكتب سؤالك بعد الأمر، مثلًا:\n/ask {EXAMPLE_QUESTION}"

NOT_FOUND = (
    "عذرًا، لم أجد في المقالات التي لديّ جملةً تجيب عن هذا السؤال، فلن أنقل شيئًا.\n"
    "جرّب أن تعيد صياغته بكلمات أخرى، أو اكتب /sources لترى المقالات التي أبحث فيها."
)

NO_ARTICLES = "لا توجد مقالات في الفهرس بعد."

NON_TEXT = "أفهم الأسئلة المكتوبة نصًّا فقط؛ اكتب سؤالك بالعربية من فضلك."

UNKNOWN_COMMAND = "لا أعرف هذا الأمر. اكتب سؤالك مباشرةً، أو /help لمعرفة طريقة الاستخدام."

ERROR = "عذرًا، حدث خطأ أثناء معالجة طلبك. حاول مرة أخرى بعد قليل."

# Labels of rendered answers and lists; `render` inserts numbers and escaped values.
ANSWER_LABEL = "الجواب"
SOURCE_LABEL = "المصدر"
PARAGRAPH_LABEL = "الفقرة"
ARTICLE_LABEL = "المقال"
ARTICLES_LABEL = "المقالات في الفهرس"
CONTINUED_LABEL = "تابع"

# (command, description) pairs registered with setMyCommands.
COMMANDS = (
    ("ask", "اسأل سؤالًا عن الأخبار"),
    ("sources", "المقالات التي أبحث فيها"),
    ("help", "طريقة الاستخدام"),
    ("start", "البداية"),
)
