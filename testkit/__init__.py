"""Support code shared by the tests and the benchmarks; the product never imports it.

    fake_telegram.py     a Bot API server in a thread on 127.0.0.1 that the real bot talks to,
                         put together from fake_server.py (the core) and one module per job:
                         fake_messages.py, fake_files.py, fake_callbacks.py, fake_inline.py,
                         fake_members.py, fake_webhook.py
    telegram_html.py     Telegram's HTML parse mode and the entities a user's client attaches
    telegram_objects.py  Chat and User objects; the records of what the bot sent and asked
    bot_api_http.py      the HTTP plumbing of the fake server
    inline_results.py    answerInlineQuery checked as Telegram checks it
    webhook_delivery.py  delivering updates to a webhook as Telegram does

Import what you need from `testkit.fake_telegram`.
"""
