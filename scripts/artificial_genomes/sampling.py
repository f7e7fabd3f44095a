"""Draw artificial genomes (AGs) from a trained ``model.pt`` and write them as VCF, npz and hapt."""

import itertools
import json
import logging

import numpy as np
import torch

from . import __version__, models
from .errors import InputError
from .haplotypes import HaplotypeSet
from .training import MODEL_FORMAT, UNREADABLE, resolve_device, site_keys

log = logging.getLogger(__name__)


def load_model(model_path, device: str | None = None):
    """Rebuild a trained model from ``model.pt``.

    Parameters
    ----------
    model_path : path
        File written by :func:`training.train`.
    device : str, optional
        Default CUDA when available, else CPU.

    Returns
    -------
    (torch.nn.Module, dict)
        The model on ``device`` in eval mode, and the saved payload (model name, config,
        n_variants, sites, allele frequencies, epochs trained, ...).
    """
    try:
        payload = torch.load(model_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"model file {model_path} does not exist", "run the train step") from None
    except UNREADABLE as exc:
        raise InputError(
            f"model file {model_path} cannot be read ({exc})",
            "delete it and run the train step again",
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise InputError(
            f"{model_path} is not a model written by this workflow's train step",
            "point the sample step at results/models/{dataset}/{model}/model.pt",
        )
    name = payload["model"]
    config = models.make_config(name, payload["config"])
    model = models.get_model_class(name)(config, payload["n_variants"])
    model.load_state_dict(payload["state_dict"])
    model = model.to(resolve_device(device)).eval()
    return model, payload


def sample(
    model_path, n_haplotypes: int, seed: int = 0, device: str | None = None
) -> tuple[np.ndarray, dict]:
    """Draw ``n_haplotypes`` artificial haplotypes from a trained model.

    Deterministic for a given seed on the CPU (with the same number of threads).

    Parameters
    ----------
    model_path : path
        ``model.pt`` from :func:`training.train`.
    n_haplotypes : int
        Number of haplotypes to draw (at least 1).
    seed : int
        Seed of every random draw.
    device : str, optional
        Default CUDA when available, else CPU.

    Returns
    -------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        0 = REF, 1 = ALT.
    info : dict
        ``model``, ``settings`` (the full config), ``n_variants``, ``epochs_trained``,
        ``training_seed``, ``seed``, ``n_haplotypes``: what the VCF header should say.
    """
    haplotypes, info, _ = _draw(model_path, n_haplotypes, seed, device)
    return haplotypes, info


def _draw(model_path, n_haplotypes, seed, device):
    """:func:`sample`, also returning the saved payload."""
    n_haplotypes = int(n_haplotypes)
    if n_haplotypes < 1:
        raise InputError(f"cannot draw {n_haplotypes} haplotypes", "ask for at least 1")
    model, payload = load_model(model_path, device)
    tensors = itertools.chain(model.parameters(), model.buffers())
    generator = torch.Generator(device=next(tensors).device)
    generator.manual_seed(int(seed))
    with torch.no_grad():
        haplotypes = model.sample(n_haplotypes, generator).cpu().numpy().astype(np.int8)
    info = {
        "model": payload["model"],
        "settings": payload["config"],
        "n_variants": payload["n_variants"],
        "epochs_trained": payload.get("epochs_trained", 0),
        "training_seed": payload.get("training_seed"),
        "seed": int(seed),
        "n_haplotypes": n_haplotypes,
    }
    return haplotypes, info, payload


def run_sample(
    model_path,
    haplotypes_npz,
    n_haplotypes: int,
    seed: int,
    vcf_out,
    npz_out,
    hapt_out,
    dataset: str = "",
) -> None:
    """Draw ``n_haplotypes`` AGs and write them as ``ag.vcf.gz``, ``ag.npz`` and ``ag.hapt``.

    The sites (chrom, pos, id, ref, alt) come from the real ``haplotypes.npz`` the model was
    trained on. AG individual ``i`` (1-based) is ``AG_{i:06d}`` with haplotypes ``2i-2``/``2i-1``;
    population, super-population and split are empty.

    Parameters
    ----------
    model_path : path
        ``model.pt``.
    haplotypes_npz : path
        The real :class:`HaplotypeSet` of the dataset (for the site list).
    n_haplotypes : int
        Even number of haplotypes to draw (two per artificial individual).
    seed : int
    vcf_out, npz_out, hapt_out : path
        Outputs (each written atomically by its writer).
    dataset : str
        Dataset name for the VCF header.

    Raises
    ------
    InputError
        Odd or non-positive ``n_haplotypes``, or sites that differ from the model's.
    """
    from . import vcf  # the writers live with the VCF reading code

    n_haplotypes = int(n_haplotypes)
    if n_haplotypes < 2 or n_haplotypes % 2:
        raise InputError(
            f"n_haplotypes must be a positive even number (two per artificial individual), "
            f"got {n_haplotypes}",
            f"ask for {max(2, n_haplotypes + n_haplotypes % 2)} haplotypes",
        )
    real = HaplotypeSet.load(haplotypes_npz)
    haplotypes, info, payload = _draw(model_path, n_haplotypes, seed, None)
    _check_sites(payload, real, model_path, haplotypes_npz)
    n_samples = n_haplotypes // 2
    settings = json.dumps(info["settings"], sort_keys=True, separators=(",", ":"))
    ag = HaplotypeSet.artificial(
        haplotypes,
        real,
        meta={
            "dataset": dataset,
            "model": info["model"],
            "settings": settings,
            "seed": str(info["seed"]),
            "epochs_trained": str(info["epochs_trained"]),
        },
    )
    header_lines = [
        f"##ag_source=artificial_genomes {__version__}",
        f"##ag_model={info['model']}",
        f"##ag_settings={settings}",
        f"##ag_epochs_trained={info['epochs_trained']}",
        f"##ag_training_seed={info['training_seed']}",
        f"##ag_seed={info['seed']}",
        f"##ag_dataset={dataset}",
    ]
    vcf.write_artificial(ag, vcf_out, npz_out, hapt_out, header_lines)
    log.info(
        "%d artificial haplotypes (%d individuals) x %d variants from %s (seed %d) written to "
        "%s, %s, %s; ALT frequency %.4f (real %.4f)",
        n_haplotypes, n_samples, ag.n_variants, info["model"], info["seed"],
        vcf_out, npz_out, hapt_out, haplotypes.mean(), real.haplotypes.mean(),
    )  # fmt: skip


def _check_sites(payload: dict, real: HaplotypeSet, model_path, haplotypes_npz) -> None:
    if real.n_variants != payload["n_variants"]:
        raise InputError(
            f"{model_path} was trained on {payload['n_variants']} variants but {haplotypes_npz} "
            f"has {real.n_variants}",
            "sample with the haplotypes.npz of the dataset the model was trained on",
        )
    saved = payload.get("sites")
    if saved is not None:
        here = site_keys(real)
        mismatch = [i for i, (a, b) in enumerate(zip(saved, here)) if a != b]
        if mismatch:
            i = mismatch[0]
            raise InputError(
                f"{len(mismatch)} sites of {haplotypes_npz} differ from those {model_path} was "
                f"trained on (first: variant {i}, {here[i]} vs {saved[i]})",
                "sample with the haplotypes.npz of the dataset the model was trained on",
            )
