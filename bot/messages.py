"""Every fixed text the bot shows, in Arabic, as Telegram HTML.

Each text starts with an Arabic word, so Telegram lays the message out right to left, and
contains no dynamic value: inserted values are escaped where the message is assembled
(`render.py` and `views.py` fill the `{title}`, `{id}`, `{source}`... fields of the templates).
"""

from __future__ import annotations

from embeddings import EXAMPLE_QUESTION, ExtractReason, FetchReason, LimitKind

HELP = (
    "أهلًا بك في <b>سند</b>.\n"
    "أرسل لي رابط مقال، أو ملفه (.txt أو .md أو .html)، أو انسخ نصه هنا، ثم اسألني عنه بالعربية: "
    "أجيبك بالجمل نفسها من المقال، منقولة حرفيًّا مع ذكر مصدرها ورقم فقرتها. "
    "ومقالاتك لك وحدك، لا تراها محادثة أخرى.\n\n"
    f"مثال: {EXAMPLE_QUESTION}\n\n"
    "الأوامر: /sources لمقالاتك ولمكتبة سند المشتركة، ومنها تختار المقال الذي تسأل عنه؛ "
    "/forget ثم رقم المقال لحذفه، أو /forget all لحذف مقالاتك كلها؛ /add ثم رابط، كإرسال الرابط وحده؛ "
    "/help لهذه الرسالة.\n"
    "ولك أن تتابع بسؤال قصير عن الجواب السابق، مثل «ومتى حدث ذلك؟»، وتحت كل جواب أزرار "
    "للمزيد من المقاطع وللسياق ولتقييم الجواب.\n"
    "وفي أي محادثة: اكتب اسمي ثم سؤالك (@البوت سؤالك) لأجيبك من المكتبة المشتركة وحدها.\n"
    "في المجموعات: اذكرني باسمي، أو ردّ على إحدى رسائلي، أو اكتب /ask ثم سؤالك. "
    "وللمجموعة مقالاتها، يضيفها مشرفوها ويحذفونها."
)

ADMIN_HELP = (
    "أوامر مشرفي البوت (المكتبة المشتركة التي يسأل عنها الجميع):\n"
    "/add ثم رابط المقال (وعنوان اختياري بعده) لإضافته إلى المكتبة المشتركة.\n"
    "/share ثم رقم أحد مقالاتك لنقل نسخة منه إلى المكتبة المشتركة.\n"
    "/remove ثم معرّف المقال لحذفه من المكتبة المشتركة؛ المعرّفات في /sources.\n"
    "أما الرابط أو الملف أو النص الذي ترسله دون أمر فيذهب إلى مقالاتك أنت، كما لأي مستخدم."
)

EMPTY_QUESTION = f"اكتب سؤالك بعد الأمر، مثلًا:\n/ask {EXAMPLE_QUESTION}"

NOT_FOUND = (
    "عذرًا، لم أجد في المقالات التي لديّ جملةً تجيب عن هذا السؤال، فلن أنقل شيئًا.\n"
    "جرّب أن تعيد صياغته بكلمات أخرى، أو اكتب /sources لترى المقالات التي أبحث فيها."
)

# kind "closest": said before the closest passage, which is never shown as the answer.
CLOSEST_INTRO = "لم أجد في المقالات جملةً تجيب عن هذا السؤال بوضوح. هذا أقرب ما تقوله عنه، وقد لا يجيب عن سؤالك:"
CLOSEST_LABEL = "أقرب ما في المقال"

# The buttons under an answer (plain text) and what they show.
MORE_BUTTON = "المزيد من المقاطع"
CONTEXT_BUTTON = "السياق"
VOTE_UP_BUTTON = "👍 أفادني"
VOTE_DOWN_BUTTON = "👎 لم يُفدني"
MORE_HEADER = "مقاطع أخرى قريبة من سؤالك:"
NO_MORE = "لا مزيد: هذه كل المقاطع القريبة من سؤالك."
CONTEXT_LABEL = "السياق من المقال"

NO_ARTICLES = "لا توجد مقالات في الفهرس بعد."

NON_TEXT = "أفهم الأسئلة المكتوبة نصًّا فقط؛ اكتب سؤالك بالعربية من فضلك."

UNKNOWN_COMMAND = "لا أعرف هذا الأمر. اكتب سؤالك مباشرةً، أو /help لمعرفة طريقة الاستخدام."

ERROR = "عذرًا، حدث خطأ أثناء معالجة طلبك. حاول مرة أخرى بعد قليل."

# The database (PostgreSQL mode) failed while handling the update (DatabaseError).
DATABASE_DOWN = "عذرًا، تعذّر الوصول إلى قاعدة البيانات الآن، فلم أستطع إتمام طلبك. حاول مرة أخرى بعد قليل."

# --- the library (admins) ----------------------------------------------------------------

ADMIN_ONLY = (
    "عذرًا، تغيير المكتبة المشتركة متاح لمشرفي البوت فقط. "
    "أما مقالاتك أنت فتضيفها بإرسال رابط أو ملف أو نص، وتحذفها بـ /forget، وتراها في /sources."
)

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
    "too_large": REFUSED_PREFIX + "الصفحة أكبر من أقصى ما أقرأ للمقال الواحد (٥ ميغابايت، ما لم يغيّره من يدير البوت).",
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
    "too_large": REFUSED_PREFIX + "الملف أكبر من أقصى ما أقرأ للمقال الواحد (٥ ميغابايت، ما لم يغيّره من يدير البوت).",
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
    ("sources", "مقالاتك والمكتبة المشتركة، وعمّ تسأل"),
    ("add", "أضف مقالًا من رابط"),
    ("forget", "احذف مقالًا من مقالاتك"),
    ("help", "طريقة الاستخدام"),
    ("start", "البداية"),
)

# --- the chat's own articles -------------------------------------------------------------
# Templates: the handlers fill {title}, {number}, {id}, {count}, {paragraphs} with escaped values.

CHAT_ADDED = (
    "جاهز: أضفت المقال إلى {owner}: <b>{title}</b>\n"
    "عدد فقراته {paragraphs}، ورقمه <code>{number}</code>.\n"
    "اسألني عنه الآن: اكتب سؤالك بالعربية. أسئلتك التالية عن هذا المقال حتى تختار غيره في /sources؛ "
    "ولحذفه: /forget {number}"
)
CHAT_PRESENT = (
    "هذا المقال عندك من قبل، فلم أضفه مرة ثانية: <b>{title}</b> (رقمه <code>{number}</code>).\n"
    "أسئلتك التالية عنه؛ اكتب سؤالك."
)
GROUP_ADMINS_ONLY = (
    "عذرًا، إضافة المقالات إلى هذه المجموعة وحذفها لمشرفي المجموعة فقط. يمكنك أن تسألني عن مقالاتها، وتجدها في /sources."
)

# Why adding was refused, by LimitError.limit; {allowed} is the setting's value.
LIMIT_REFUSALS: dict[LimitKind, str] = {
    "articles_per_chat": (
        REFUSED_PREFIX + "في هذه المحادثة {allowed} مقالًا، وهو الحد الأقصى. "
        "احذف مقالًا لا تحتاجه بـ /forget ثم رقمه (الأرقام في /sources)، أو احذفها كلها بـ /forget all، "
        "ثم أرسله مرة أخرى."
    ),
    "adds_per_hour": (
        REFUSED_PREFIX + "أضفت {allowed} مقالات خلال الساعة الأخيرة، وهو الحد الأقصى للإضافة في الساعة. "
        "حاول مرة أخرى بعد قليل."
    ),
}

FOCUS_HEADER = "من المقال: <b>{title}</b>"
FOCUS_MISS = (
    "لم أجد في المقال <b>{title}</b> جملةً تجيب عن هذا السؤال، فلن أنقل منه شيئًا.\n"
    "يمكنك أن تبحث في كل المقالات التي تراها هنا (مقالاتك والمكتبة المشتركة) بالزر أدناه."
)
FOCUS_SET = "صارت أسئلتك عن المقال: <b>{title}</b>\nاكتب سؤالك."
FOCUS_CLEARED = "صارت أسئلتك عن كل المقالات: مقالاتك والمكتبة المشتركة."

FORGET_USAGE = "اكتب رقم المقال بعد الأمر، مثلًا:\n/forget 1\nأو /forget all لحذف مقالاتك كلها. تجد الأرقام في /sources."
FORGOT = "حذفت المقال: <b>{title}</b> (رقمه {number})، ولم يبق منه شيء عندي."
FORGET_ALL_CONFIRM = "هل تريد حذف مقالاتك كلها ({count})؟ لا رجعة في ذلك. اضغط الزر للتأكيد."
FORGOT_ALL = "حذفت مقالاتك كلها ({count})، ولم يبق منها شيء عندي."
NOTHING_TO_FORGET = "ليس لديك مقالات لتحذفها. أرسل رابط مقال أو ملفه أو نصه لتضيفه."
UNKNOWN_OWN = "لا يوجد بين مقالاتك مقال بالرقم <code>{id}</code>. اكتب /sources لترى أرقام مقالاتك."

SHARE_USAGE = "اكتب رقم أحد مقالاتك بعد الأمر، مثلًا:\n/share 1\nتجد الأرقام في /sources."

# Callback answers (shown by the client as an alert, at most 200 characters, plain text).
BUTTON_REFUSED = "عذرًا، هذا الزر لا يعمل هنا، أو انتهت صلاحيته. اكتب /sources من جديد."
BUTTON_ADMINS_ONLY = "عذرًا، حذف مقالات هذه المجموعة لمشرفيها فقط."
NO_MORE_TOAST = "لا مزيد: عرضت كل المقاطع القريبة من سؤالك."
ANSWER_GONE = "عذرًا، المقال الذي جاء منه هذا الجواب لم يعد عندي (حُذف أو تغيّر). اسألني من جديد."
VOTE_UP_THANKS = "شكرًا! سجّلت أن الجواب أفادك 👍"
VOTE_DOWN_THANKS = "شكرًا، سجّلت أن الجواب لم يُفدك 👎 وسأتعلّم من ذلك."

# Labels of /sources and the buttons (button texts are plain text, not HTML).
SHARED_LABEL = "مكتبة سند المشتركة"
OWN_LABEL = "مقالاتك"
GROUP_OWN_LABEL = "مقالات هذه المجموعة"
NUMBER_LABEL = "الرقم"
FOCUS_MARK = "← أسئلتك الآن عن هذا المقال"
NO_OWN_ARTICLES = "ليس لديك مقالات بعد: أرسل رابط مقال أو ملفه أو نصه لتضيفه."
NO_GROUP_ARTICLES = "ليس لهذه المجموعة مقالات بعد: يضيفها مشرفوها بإرسال رابط أو ملف أو نص إليّ."
ASK_ABOUT_BUTTON = "اسأل عن هذا: {title}"
FORGET_BUTTON = "احذف: {title}"
EVERYTHING_BUTTON = "اسأل في كل المقالات"
SEARCH_ALL_BUTTON = "ابحث في كل المقالات"
CONFIRM_FORGET_ALL_BUTTON = "نعم، احذفها كلها"

# --- inline mode (@bot question, in any chat; answered from the shared library only) ----------

# A result's title and description are plain text; the chosen result sends the message.
INLINE_HINT_TITLE = "اكتب سؤالك بالعربية بعد اسمي"
INLINE_HINT_DESCRIPTION = f"مثلًا: {EXAMPLE_QUESTION} — أجيب من مكتبة سند المشتركة"
INLINE_HINT_MESSAGE = (
    "اسأل <b>سند</b> من أي محادثة: اكتب اسمي ثم سؤالك بالعربية، "
    f"مثلًا: {EXAMPLE_QUESTION}\nأجيب بالجمل نفسها من مقالات مكتبة سند المشتركة، منقولة حرفيًّا مع مصدرها."
)
INLINE_NOT_FOUND_TITLE = "لم أجد جوابًا في المكتبة المشتركة"
INLINE_NOT_FOUND_DESCRIPTION = "جرّب كلمات أخرى؛ أبحث في مكتبة سند المشتركة وحدها"
INLINE_CLOSEST_PREFIX = "أقرب ما وجدت: "
