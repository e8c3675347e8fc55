"""Every fixed text the bot shows, in Arabic, as Telegram HTML.

Each text starts with an Arabic word, so Telegram lays the message out right to left, and
contains no dynamic value: inserted values are escaped where the message is assembled
(`render.py` fills the `{title}`, `{id}`, `{source}` fields of the templates).
"""

from __future__ import annotations

from embeddings import EXAMPLE_QUESTION, ExtractReason, FetchReason

HELP = (
    "أهلًا بك في <b>سند</b>.\n"
    "اسألني بالعربية عن الأخبار التي لديّ، وسأجيبك بالجمل نفسها من المقال، منقولة حرفيًّا "
    "مع ذكر مصدرها ورقم فقرتها.\n\n"
    f"مثال: {EXAMPLE_QUESTION}\n\n"
    "في المجموعات: اذكرني باسمي، أو ردّ على إحدى رسائلي، أو اكتب /ask ثم سؤالك.\n"
    "الأوامر: /sources لعرض المقالات، /help لهذه الرسالة."
)

ADMIN_HELP = (
    "أوامر المشرفين:\n"
    "/add ثم رابط المقال (وعنوان اختياري بعده) لإضافة مقال من صفحة ويب.\n"
    "أو أرسل المقال ملفًّا بصيغة .txt أو .md أو .html (والتعليق، إن كتبته، يصير عنوانه).\n"
    "/remove ثم معرّف المقال لحذفه؛ المعرّفات في /sources."
)

EMPTY_QUESTION = f"اكتب سؤالك بعد الأمر، مثلًا:\n/ask {EXAMPLE_QUESTION}"

NOT_FOUND = (
    "عذرًا، لم أجد في المقالات التي لديّ جملةً تجيب عن هذا السؤال، فلن أنقل شيئًا.\n"
    "جرّب أن تعيد صياغته بكلمات أخرى، أو اكتب /sources لترى المقالات التي أبحث فيها."
)

# kind "closest": said before the closest passage, which is never shown as the answer.
CLOSEST_INTRO = "لم أجد في المقالات جملةً تجيب عن هذا السؤال بوضوح. هذا أقرب ما تقوله عنه، وقد لا يجيب عن سؤالك:"
CLOSEST_LABEL = "أقرب ما في المقال"

NO_ARTICLES = "لا توجد مقالات في الفهرس بعد."

NON_TEXT = "أفهم الأسئلة المكتوبة نصًّا فقط؛ اكتب سؤالك بالعربية من فضلك."

UNKNOWN_COMMAND = "لا أعرف هذا الأمر. اكتب سؤالك مباشرةً، أو /help لمعرفة طريقة الاستخدام."

ERROR = "عذرًا، حدث خطأ أثناء معالجة طلبك. حاول مرة أخرى بعد قليل."

# --- the library (admins) ----------------------------------------------------------------

ADMIN_ONLY = "عذرًا، إضافة المقالات وحذفها متاحة لمشرفي البوت فقط. يمكنك أن تسألني عن المقالات الموجودة في /sources."

ADD_USAGE = "اكتب رابط المقال بعد الأمر، مثلًا:\n/add https://example.com/news/article.html"

REMOVE_USAGE = "اكتب معرّف المقال بعد الأمر، مثلًا:\n/remove reuters-putin-3f9a2c\nتجد المعرّفات في /sources."

# Templates: render.py fills {title}, {id} and {source} with escaped values.
ARTICLE_ADDED = "أضفت المقال: <b>{title}</b>\nالمعرّف: <code>{id}</code>\nالمصدر: {source}"
ARTICLE_PRESENT = "هذا المقال موجود من قبل، فلم أضفه مرة ثانية: <b>{title}</b>\nالمعرّف: <code>{id}</code>"
ARTICLE_REMOVED = "حذفت المقال: <b>{title}</b>\nالمعرّف: <code>{id}</code>"
UNKNOWN_ARTICLE = "لا يوجد مقال بالمعرّف <code>{id}</code>. اكتب /sources لترى معرّفات المقالات."

REFUSED_PREFIX = "تعذّرت إضافة المقال: "
ARTICLE_REFUSED = REFUSED_PREFIX + "لم أستطع حفظه. حاول مرة أخرى بعد قليل."

# Why a URL could not be fetched, by FetchError.reason.
FETCH_REFUSALS: dict[FetchReason, str] = {
    "invalid_url": REFUSED_PREFIX + "هذا ليس رابطًا صالحًا. أرسل الرابط كاملًا، يبدأ بـ https://",
    "scheme": REFUSED_PREFIX + "أقبل الروابط التي تبدأ بـ http:// أو https:// فقط؛ أرسل العنوان كاملًا.",
    "private_address": (
        REFUSED_PREFIX + "الرابط يشير إلى عنوان داخلي أو محلي، ولا أجلب الصفحات إلا من العناوين العامة. "
        "(لمن يدير البوت: اضبط <code>SANAD_ALLOW_PRIVATE_URLS=true</code> للسماح بها.)"
    ),
    "too_many_redirects": REFUSED_PREFIX + "الرابط يحوّل إلى صفحات أخرى أكثر من خمس مرات، فتوقفت.",
    "too_large": REFUSED_PREFIX + "الصفحة أكبر من ٥ ميغابايت، وهو أقصى ما أقرأ.",
    "content_type": (
        REFUSED_PREFIX + "الرابط لا يؤدي إلى صفحة ويب أو نص (ربما ملف PDF أو صورة). "
        "احفظ المقال بصيغة .txt أو .md أو .html وأرسله إليّ ملفًّا."
    ),
    "timeout": REFUSED_PREFIX + "لم تصل الصفحة خلال ١٥ ثانية. حاول مرة أخرى لاحقًا.",
    "network": REFUSED_PREFIX + "تعذّر الاتصال بالموقع. تأكد من الرابط، أو حاول لاحقًا.",
    "http_status": REFUSED_PREFIX + "ردّ الموقع برسالة خطأ بدل الصفحة. تأكد من الرابط، أو حاول لاحقًا.",
}

# Why a page or file holds no usable article, by ExtractError.reason.
EXTRACT_REFUSALS: dict[ExtractReason, str] = {
    "empty": REFUSED_PREFIX + "لم أجد فيه نص مقال.",
    "not_text": REFUSED_PREFIX + "معظم ما فيه ليس حروفًا عربية أو لاتينية، فلا يصلح مقالًا.",
    "file_type": REFUSED_PREFIX + "أقبل الملفات بصيغة .txt أو .md أو .html فقط.",
    "too_large": REFUSED_PREFIX + "الملف أكبر من ٥ ميغابايت، وهو أقصى ما أقرأ.",
    "garbage": (
        REFUSED_PREFIX + "محتواه لا يُقرأ نصًّا: يبدو ملفًّا ثنائيًّا (صورة أو PDF بامتداد آخر) أو نصًّا "
        "حُفظ بترميز خاطئ أو بايتات عشوائية. احفظ المقال نصًّا بترميز UTF-8 وأرسله مرة أخرى."
    ),
}

# Labels of rendered answers and lists; `render` inserts numbers and escaped values.
ANSWER_LABEL = "الجواب"
SOURCE_LABEL = "المصدر"
PARAGRAPH_LABEL = "الفقرة"
ARTICLE_LABEL = "المقال"
ARTICLES_LABEL = "المقالات في الفهرس"
ID_LABEL = "المعرّف"
CONTINUED_LABEL = "تابع"

# (command, description) pairs registered with setMyCommands.
COMMANDS = (
    ("ask", "اسأل سؤالًا عن الأخبار"),
    ("sources", "المقالات التي أبحث فيها"),
    ("help", "طريقة الاستخدام"),
    ("start", "البداية"),
)
