"""Train one model of :data:`models.REGISTRY` on the training haplotypes.

The steps of :func:`train` read in order: settings, device and threads, checks (data, memory),
seeds, model, resume from a checkpoint, the epoch loop (losses to ``training.tsv``, periodic
checkpoints), the final ``model.pt``.
"""

import hashlib
import json
import logging
import math
import os
import pickle
import random
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import __version__, models
from .errors import InputError
from .fileio import atomic_path
from .haplotypes import HaplotypeSet

log = logging.getLogger(__name__)

MODEL_FORMAT = "artificial_genomes.model"
CHECKPOINT_FORMAT = "artificial_genomes.checkpoint"
FORMAT_VERSION = 1
# Settings that do not change what one epoch computes: a checkpoint made under other values of
# these is still resumed (so a run can be extended by raising ``epochs``).
RESUMABLE_KEYS = ("epochs", "checkpoint_every", "max_memory_gb")
PROGRESS_INTERVAL_S = 5.0
# What torch.load raises for a truncated, foreign or otherwise unreadable file.
UNREADABLE = (
    OSError,
    EOFError,
    RuntimeError,
    ValueError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite during training."""


def resolve_device(device: str | None = None) -> torch.device:
    """The device to use: ``device`` if given, else CUDA when available, else CPU.

    Raises
    ------
    InputError
        If ``device`` names CUDA and no GPU is visible, or is not a device name.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"unknown device {device!r} ({exc})", "use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(
            f"device {device!r} asked for but no CUDA GPU is visible to PyTorch",
            "use device 'cpu' or leave the device unset to pick one automatically",
        )
    return dev


def train(
    model_name: str,
    data: HaplotypeSet,
    settings: dict,
    model_out,
    log_tsv,
    checkpoint_path,
    seed: int = 0,
    device: str | None = None,
    threads: int | None = None,
) -> None:
    """Train model ``model_name`` on ``data`` and write ``model_out`` and ``log_tsv``.

    Parameters
    ----------
    model_name : str
        A key of :data:`models.REGISTRY` (``gan``, ``rbm``, ``independent``, ``copy``,
        ``mosaic``).
    data : HaplotypeSet
        The training split only (no sample may be marked ``test``); ``data.haplotypes`` is the
        int8 0/1 matrix (n_haplotypes, n_variants).
    settings : dict
        Overrides of the model's published defaults (see each model's ``Config``).
    model_out : path
        ``model.pt``: model name, config, state_dict, n_variants, sites, training allele
        frequencies; all that sampling needs (written atomically).
    log_tsv : path
        ``training.tsv``: one row per epoch, ``epoch``, each loss, ``seconds``. While training
        the rows go to ``<log_tsv>.part``, renamed to ``log_tsv`` at the end.
    checkpoint_path : path
        Written every ``checkpoint_every`` epochs and at the last one (atomically). If it
        exists with the same model, config, data and seed, training resumes from it.
    seed : int
        Seeds weight initialisation, data shuffling and every random draw of training.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available, else CPU.
    threads : int, optional
        CPU threads for PyTorch (``torch.set_num_threads``).

    Raises
    ------
    InputError
        Unknown model or setting, data with test samples or values other than 0/1, too few
        haplotypes for a batch, or a memory need above the limit.
    TrainingDivergedError
        A loss became NaN or infinite; the message names the model and epoch.
    """
    config = models.make_config(model_name, settings)
    cls = models.get_model_class(model_name)
    if threads is not None:
        torch.set_num_threads(int(threads))
    device = resolve_device(device)
    haplotypes = _check_training_data(data)
    n_hap, n_var = haplotypes.shape
    epochs = getattr(config, "epochs", 0)
    log.info(
        "training %s on %d haplotypes x %d variants for %d epochs on %s (%d threads), seed %d",
        model_name, n_hap, n_var, epochs, device, torch.get_num_threads(), seed,
    )  # fmt: skip
    log.info("settings: %s", json.dumps(models.config_to_dict(config), sort_keys=True))
    _check_memory(model_name, cls, config, n_var, n_hap, device)

    _seed_everything(seed)
    model = cls(config, n_var).to(device)
    if hasattr(model, "set_sites"):  # models that place the SNPs on a map (mosaic)
        model.set_sites(data.chrom, data.pos)
    model.prepare(haplotypes, seed, device)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)

    identity = {
        "model": model_name,
        "config": _identity_config(config),
        "data_sha256": _fingerprint(haplotypes),
        "seed": seed,
    }
    start_epoch, history = _resume(checkpoint_path, identity, epochs, model, generator)

    columns = ["epoch", *cls.loss_names, "seconds"]
    part_tsv = Path(str(log_tsv) + ".part")
    _write_tsv(part_tsv, columns, history)
    checkpoint_every = getattr(config, "checkpoint_every", 1)
    with open(part_tsv, "a") as tsv, tqdm(
        total=epochs, initial=start_epoch, desc=f"train {model_name}", unit="epoch",
        file=sys.stderr, mininterval=PROGRESS_INTERVAL_S, disable=epochs == 0,
    ) as bar:  # fmt: skip
        for epoch in range(start_epoch + 1, epochs + 1):
            started = time.perf_counter()
            losses = model.train_epoch(generator).tolist()  # the one host sync of the epoch
            row = [epoch, *losses, time.perf_counter() - started]
            if not all(math.isfinite(x) for x in losses):
                named = ", ".join(f"{k}={v}" for k, v in zip(cls.loss_names, losses))
                raise TrainingDivergedError(
                    f"model {model_name!r}: non-finite loss at epoch {epoch} ({named}); "
                    f"losses so far are in {part_tsv}.\n  fix: lower the learning rate(s) of "
                    f"{model_name!r} (e.g. 10 times) and rerun (it starts over, as the settings "
                    "changed); check that the training haplotypes are plain 0/1 calls"
                )
            history.append(row)
            tsv.write(_tsv_line(row))
            tsv.flush()
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in zip(cls.loss_names, losses)}, refresh=False)
            if epoch % checkpoint_every == 0 or epoch == epochs:
                _save_checkpoint(checkpoint_path, identity, epoch, model, generator, history)
                log.info(
                    "epoch %d/%d: %s (%.2f s/epoch); checkpoint written",
                    epoch, epochs, _format_losses(cls.loss_names, losses), row[-1],
                )  # fmt: skip

    _save_model(model_out, model_name, config, model, data, haplotypes, epochs, seed)
    os.replace(part_tsv, log_tsv)
    log.info("model written to %s, losses to %s", model_out, log_tsv)


def _check_training_data(data: HaplotypeSet) -> np.ndarray:
    """The int8 matrix of ``data`` after checking it is a usable training set."""
    if not isinstance(data, HaplotypeSet):
        raise InputError(f"training data must be a HaplotypeSet, got {type(data).__name__}")
    if np.any(data.split == "test"):
        n_test = int(np.sum(data.split == "test"))
        raise InputError(
            f"the training data holds {n_test} samples of the held-out test split",
            "train on hapset.train() only: the test half measures privacy",
        )
    hap = data.haplotypes
    if hap.shape[0] == 0 or hap.shape[1] == 0:
        raise InputError(
            f"the training data is empty ({hap.shape[0]} haplotypes x {hap.shape[1]} variants)",
            "check the region, population and allele-frequency filters of the subset step",
        )
    bad = (hap != 0) & (hap != 1)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"haplotype values must be 0 or 1; found {hap[row, col]} (haplotype {row}, "
            f"variant {data.id[col]}) and {int(bad.sum())} such values in all",
            "drop missing genotypes and multi-allelic records in the encode step",
        )
    return hap


def _check_memory(name, cls, config, n_variants, n_haplotypes, device) -> None:
    """Refuse with advice when training would need more memory than allowed or available."""
    need = cls.estimate_memory(config, n_variants, n_haplotypes)
    limit_gb = getattr(config, "max_memory_gb", None)
    if limit_gb is not None:
        limit, what = limit_gb * 1e9, f"the limit max_memory_gb={limit_gb:g}"
    else:
        limit = _available_memory(device)
        what = f"the {limit / 1e9:.1f} GB available on {device}"
    log.info("estimated memory to train %s: %.2f GB", name, need / 1e9)
    if need > limit:
        hints = "use a smaller region, thin the SNPs (higher MAF threshold or LD pruning)"
        if name == "gan":
            hints += ", train on fewer SNPs (the GAN's layers grow with n_variants squared)"
        elif name == "rbm":
            hints += ", or use fewer hidden units (n_hidden) or chains (n_chains)"
        raise InputError(
            f"training {name} on {n_haplotypes} haplotypes x {n_variants} variants needs about "
            f"{need / 1e9:.1f} GB, more than {what}",
            hints + "; or raise max_memory_gb if the estimate is too cautious",
        )


def _available_memory(device: torch.device) -> float:
    """Free bytes on the GPU, or available RAM for the CPU."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return float(free)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _identity_config(config) -> dict:
    """The settings that change what an epoch computes (see :data:`RESUMABLE_KEYS`)."""
    full = models.config_to_dict(config)
    return {k: v for k, v in full.items() if k not in RESUMABLE_KEYS}


def _fingerprint(haplotypes: np.ndarray) -> str:
    digest = hashlib.sha256(str(haplotypes.shape).encode())
    digest.update(np.ascontiguousarray(haplotypes).tobytes())
    return digest.hexdigest()


def _resume(checkpoint_path, identity, epochs, model, generator):
    """Load a matching checkpoint into ``model``/``generator``; (start epoch, loss rows)."""
    path = Path(checkpoint_path)
    if not path.exists():
        return 0, []
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except UNREADABLE as exc:  # an unreadable checkpoint is not worth failing for
        log.warning("checkpoint %s is unreadable (%s): starting over", path, exc)
        return 0, []
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        log.warning("%s is not a checkpoint of this workflow: starting over", path)
        return 0, []
    differs = [k for k in identity if ckpt.get("identity", {}).get(k) != identity[k]]
    if differs:
        log.info(
            "checkpoint %s was made with another %s: starting over", path, " and ".join(differs)
        )
        return 0, []
    if ckpt["epoch"] > epochs:
        log.info(
            "checkpoint %s is at epoch %d, past the %d epochs asked for: starting over",
            path, ckpt["epoch"], epochs,
        )  # fmt: skip
        return 0, []
    model.load_state_dict(ckpt["state_dict"])
    model.load_training_state(ckpt["training_state"])
    generator.set_state(ckpt["rng"]["generator"])
    torch.set_rng_state(ckpt["rng"]["torch"])
    log.info("resuming from checkpoint %s at epoch %d of %d", path, ckpt["epoch"], epochs)
    return ckpt["epoch"], [list(row) for row in ckpt["losses"]]


def _save_checkpoint(checkpoint_path, identity, epoch, model, generator, history) -> None:
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        "identity": identity,
        "epoch": epoch,
        "state_dict": _cpu_state(model),
        "training_state": model.training_state(),
        "rng": {"generator": generator.get_state(), "torch": torch.get_rng_state()},
        "losses": [list(row) for row in history],
    }
    with atomic_path(checkpoint_path) as tmp:
        torch.save(ckpt, tmp)


def _save_model(model_out, name, config, model, data, haplotypes, epochs, seed) -> None:
    payload = {
        "format": MODEL_FORMAT,
        "version": FORMAT_VERSION,
        "software": f"artificial_genomes {__version__}",
        "model": name,
        "config": models.config_to_dict(config),
        "state_dict": _cpu_state(model),
        "n_variants": int(haplotypes.shape[1]),
        "n_training_haplotypes": int(haplotypes.shape[0]),
        "sites": site_keys(data),
        "allele_frequencies": torch.from_numpy(haplotypes.mean(axis=0, dtype=np.float64)),
        "epochs_trained": int(epochs),
        "training_seed": int(seed),
        "dataset": str(data.meta.get("dataset", "")),
    }
    with atomic_path(model_out) as tmp:
        torch.save(payload, tmp)


def site_keys(hapset: HaplotypeSet) -> list[str]:
    """``chrom:pos:ref:alt`` per variant, to check that a model and a site list agree."""
    return [
        f"{c}:{p}:{r}:{a}" for c, p, r, a in zip(hapset.chrom, hapset.pos, hapset.ref, hapset.alt)
    ]


def _cpu_state(model) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _write_tsv(path: Path, columns, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        handle.write("\t".join(columns) + "\n")
        handle.writelines(_tsv_line(row) for row in rows)


def _tsv_line(row) -> str:
    epoch, *values = row
    return "\t".join([str(int(epoch)), *(f"{v:.6g}" for v in values)]) + "\n"


def _format_losses(names, values) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in zip(names, values))
