"""Generative models of haplotypes, looked up by name (DiT/nanoGPT-style registry).

Every model class in :data:`REGISTRY` has

- ``Config``: a dataclass whose defaults are the published settings (Yelmen et al. 2021);
- ``loss_names``: the per-epoch losses it reports (written to ``training.tsv``);
- ``__init__(config, n_variants)``: builds the (untrained) model;
- ``estimate_memory(config, n_variants, n_haplotypes) -> int``: bytes needed to train it;
- ``prepare(haplotypes, seed, device)``: data-dependent initialisation (RBM visible biases,
  baseline frequencies) and training state (data on the device, optimisers, chains);
  ``haplotypes`` is the int8 numpy matrix (n_haplotypes, n_variants) of the training split;
- ``train_epoch(generator) -> torch.Tensor``: one pass over the data, the mean losses as a
  float tensor of shape (len(loss_names),) left on the device (no host sync per step);
- ``training_state()`` / ``load_training_state(state)``: optimisers, persistent chains and the like,
  for checkpoints;
- ``sample(n, generator) -> torch.Tensor``: int8 tensor (n, n_variants) of 0/1 haplotypes.

A model that needs the SNP positions (``mosaic``, for its genetic map) also has
``set_sites(chrom, pos)``, which training calls before ``prepare``.

``training.train`` and ``sampling.sample`` only use this interface.
"""

import dataclasses
import math
import types

from ..errors import InputError
from .baselines import CopyTraining, IndependentSites
from .gan import GAN
from .mosaic import LiStephensMosaic
from .rbm import RBM

REGISTRY = {
    "gan": GAN,
    "rbm": RBM,
    "independent": IndependentSites,
    "copy": CopyTraining,
    "mosaic": LiStephensMosaic,
}


def get_model_class(name: str):
    """The model class registered under ``name``; :class:`InputError` if there is none."""
    if name not in REGISTRY:
        raise InputError(
            f"unknown model {name!r}",
            f"choose one of: {', '.join(sorted(REGISTRY))}",
        )
    return REGISTRY[name]


def make_config(name: str, settings: dict | None = None):
    """Build the validated config of model ``name`` from user settings.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    settings : dict or None
        Overrides of the published defaults, ``{setting: value}``. Numbers given as strings
        (YAML reads ``1e-4`` as a string) are converted.

    Returns
    -------
    dataclass instance
        The model's ``Config`` with the defaults replaced by ``settings``.

    Raises
    ------
    InputError
        For an unknown model, an unknown setting or a value of the wrong type or range; the
        message names the setting.
    """
    cls = get_model_class(name)
    settings = dict(settings or {})
    known = {f.name: f for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        valid = ", ".join(known) if known else "none (this model has no settings)"
        raise InputError(
            f"unknown setting(s) {', '.join(map(repr, unknown))} for model {name!r}",
            f"remove them; valid settings are: {valid}",
        )
    values = {key: _check_value(name, known[key], value) for key, value in settings.items()}
    return cls.Config(**values)


def config_to_dict(config) -> dict:
    """The config as a plain ``{setting: value}`` dict (JSON- and checkpoint-friendly)."""
    return dataclasses.asdict(config)


def _check_value(model: str, fld: dataclasses.Field, value):
    """Convert ``value`` to the type of ``fld`` and check its range (from ``fld.metadata``)."""
    where = f"setting {fld.name!r} of model {model!r}"
    allowed, optional = _field_types(fld)
    if value is None:
        if optional:
            return None
        raise InputError(f"{where} is empty (null)", "give a value or drop the setting")
    if allowed is str:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where} must be a non-empty text (a path), got {value!r}")
        return value
    if allowed is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool):
        raise InputError(f"{where} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InputError(f"{where} must be a number, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise InputError(f"{where} must be a number, got {value!r}")
    if allowed is int:
        if float(value) != int(value):
            raise InputError(f"{where} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise InputError(f"{where} must be finite, got {value!r}")
    meta = fld.metadata
    if "min" in meta and value < meta["min"]:
        raise InputError(f"{where} must be at least {meta['min']}, got {value!r}")
    if "gt" in meta and value <= meta["gt"]:
        raise InputError(f"{where} must be greater than {meta['gt']}, got {value!r}")
    if "lt" in meta and value >= meta["lt"]:
        raise InputError(f"{where} must be less than {meta['lt']}, got {value!r}")
    return value


def _field_types(fld: dataclasses.Field):
    """(base type, whether None is allowed) of a config field annotated ``T`` or ``T | None``."""
    ftype = fld.type
    if isinstance(ftype, types.UnionType):
        args = [a for a in ftype.__args__ if a is not type(None)]
        return args[0], len(args) < len(ftype.__args__)
    return ftype, False


__all__ = ["REGISTRY", "config_to_dict", "get_model_class", "make_config"]
