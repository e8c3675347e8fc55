"""Process-wide settings that only entry points apply (the CLI, the bot, the benchmarks):
how torch's threads wait, how many threads numpy's BLAS runs, and how loud the model
libraries are. Library code never calls this; it changes the process environment, the BLAS
library and global loggers."""

from __future__ import annotations

import logging
import os
import sys


def prepare_process() -> None:
    """Calm torch's OpenMP threads, keep numpy's BLAS on one thread and quieten transformers;
    call once, before the model loads."""
    _calm_openmp_threads()
    _one_blas_thread()
    _quiet_transformers()


def _calm_openmp_threads() -> None:
    """Let torch's OpenMP threads sleep between operations instead of spinning.

    By default each of torch's threads spins for a while after every operation, waiting for
    the next one. On a 2-core machine shared with other processes the spinning thread keeps
    the core from whoever needs it (the other thread of the same forward pass included), and a
    single question took 10x longer (1.7-2.4 s instead of 0.05-0.2 s, measured with
    `python -m benchmarks`). It must be set before torch loads its OpenMP runtime; an
    explicit OMP_WAIT_POLICY (e.g. ACTIVE on a dedicated machine) is kept.
    """
    if "torch" in sys.modules:
        if "OMP_WAIT_POLICY" not in os.environ:
            logging.getLogger(__name__).debug("torch was imported before the model: OMP_WAIT_POLICY left unset")
        return
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _one_blas_thread() -> None:
    """Run numpy's OpenBLAS on one thread (unless OPENBLAS_NUM_THREADS says otherwise).

    numpy's products on the answer path (a question against a few hundred sentence vectors)
    are too small to share between threads: with its default of one thread per core, a
    question embedded in numpy took 9-85 ms on our loaded 2-core machine, against 14-23 ms on
    one thread (each thread of a product waits for the other to be scheduled). Only numpy's own OpenBLAS is limited, not
    the one FAISS bundles, which trains IVF lists on large products.
    """
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    import numpy  # noqa: F401 - loads the OpenBLAS that threadpoolctl finds
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits={"libscipy_openblas": 1})


def _quiet_transformers() -> None:
    # transformers prints a weight-loading progress bar and hub notices on every load.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
