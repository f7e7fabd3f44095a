"""Logging set-up shared by the rule scripts."""

import logging
import sys
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def log_to(path, level=logging.INFO):
    """Send the package's log records and Python warnings to ``path`` and to stderr.

    Exceptions raised inside the block are written to the log before they propagate, so that
    Snakemake's "check the log" points at the message that explains the failure.

    Parameters
    ----------
    path : str or path-like or None
        Log file; ``None`` logs to stderr only.
    level : int
        Logging level of the ``artificial_genomes`` logger.
    """
    logger = logging.getLogger("artificial_genomes")
    logger.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers = [logging.StreamHandler(sys.stderr)]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logging.captureWarnings(True)
    try:
        yield logger
    except Exception as exc:
        logger.error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
