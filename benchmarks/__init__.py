"""Benchmarks: how fast, how big, how it grows (`python -m benchmarks [--json] [--quick]`).

A shared, busy machine makes absolute timings meaningless, so every figure is a ratio to a
floor measured in the same run, the two interleaved so that both see the same load:

    answer overhead  median Engine.ask / median bare SentenceTransformer.encode of the query
    cold ask         seconds of `python -m embeddings ask` in a fresh process (the one absolute
                     figure: what a user waits), with its CPU seconds and import breakdown
    build            building the XQuAD-ar index / bare encode of the same passages in batches
    growth           median ask with N passages (1,000,000) / median ask with the shipped article
    memory           peak RSS of `python -m bot` idle; peak RSS of a process serving N passages
                     from a saved index loaded mapped (model, articles and index shares apart)
    exact nearest    share of queries whose exact nearest of the N passages the dense search finds
    throughput       questions/s of the bot with 30 chats asking at once, beside the bare
                     encode rate of one process (the ceiling)
    PostgreSQL       median ChatCollections.ask with PostgreSQL / the same with the embedded
                     store; questions/s of 1 and 2 webhook replicas on one PostgreSQL

The N passages of the growth step are not embedded: their vectors are random unit vectors
and their BM25 documents are shuffled sentences of XQuAD-ar, turned into an index of the
same kinds (FAISS, bm25s with index.py's settings, the passage table, articles holding the
text), saved and loaded as `load_index` does, around the real passages of the shipped
article, so that the questions keep their answers. The output says so.

    cli.py       the command line: flags, the run's progress, figures or JSON, exit code
    options.py   what to run (BenchOptions) and the error a step gives up with
    run.py       the steps in order
    measure.py   interleaved timing, the bare-encode floor, RSS from /proc
    core.py      answer overhead and build ratio (the engine against its model)
    cold.py      the cold `ask`: fresh processes, wall and CPU seconds, imports
    corpus.py    the synthetic growth corpus: passages, BM25 index, vectors
    growth.py    latency and memory with the growth corpus, per dense index kind
    bot_load.py  `python -m bot` against the fake Bot API: idle RSS, 30-chat throughput
    postgres.py  one PostgreSQL from pgserver, the shipped article imported, answer latency there
    replicas.py  two `python -m bot` replicas in webhook mode on it: questions/s with 1 and 2
    report.py    figures, as lines to read and as one JSON object

The core (`embeddings`) never imports this package; the bot is driven only from outside,
through testkit's fake Bot API.
"""
