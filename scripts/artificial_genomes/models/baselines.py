"""Baselines that any evaluation should show beside the networks, as models with the same interface.

- ``independent``: each SNP drawn on its own at its training ALT frequency (right frequencies,
  no linkage disequilibrium, no population structure).
- ``copy``: training haplotypes drawn uniformly with replacement (perfect realism, no privacy:
  its ``model.pt`` holds the training haplotypes themselves).

Neither trains by epochs: :meth:`prepare` is the whole fit.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class IndependentConfig:
    """The independent-sites baseline has no settings."""


@dataclass
class CopyConfig:
    """The copy baseline has no settings."""


class _Baseline(nn.Module):
    loss_names = ()

    def __init__(self, config, n_variants: int):
        super().__init__()
        self.config = config
        self.n_variants = n_variants

    def training_state(self) -> dict:
        return {}

    def load_training_state(self, state: dict) -> None:
        pass

    def train_epoch(self, generator: torch.Generator) -> torch.Tensor:
        raise RuntimeError(f"the {self.name!r} baseline has no epochs to train")


class IndependentSites(_Baseline):
    """Each SNP an independent Bernoulli draw at its training ALT frequency.

    Parameters
    ----------
    config : IndependentConfig
    n_variants : int
    """

    name = "independent"
    Config = IndependentConfig

    def __init__(self, config: IndependentConfig, n_variants: int):
        super().__init__(config, n_variants)
        self.register_buffer("frequencies", torch.zeros(n_variants, dtype=torch.float64))

    @staticmethod
    def estimate_memory(config, n_variants: int, n_haplotypes: int) -> int:
        """Bytes needed: the data once as int8, the frequencies as float64."""
        return n_haplotypes * n_variants + 8 * n_variants

    def prepare(self, haplotypes: np.ndarray, seed: int, device: torch.device) -> None:
        """Store the ALT frequencies of ``haplotypes`` (int8, (n_haplotypes, n_variants))."""
        freq = haplotypes.mean(axis=0, dtype=np.float64)
        self.frequencies.copy_(torch.from_numpy(freq))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` haplotypes; int8 tensor (n, n_variants)."""
        device = self.frequencies.device
        uniform = torch.rand(
            n, self.n_variants, generator=generator, device=device, dtype=torch.float64
        )
        return (uniform < self.frequencies).to(torch.int8)


class CopyTraining(_Baseline):
    """Training haplotypes drawn uniformly with replacement.

    Parameters
    ----------
    config : CopyConfig
    n_variants : int
    """

    name = "copy"
    Config = CopyConfig

    def __init__(self, config: CopyConfig, n_variants: int):
        super().__init__(config, n_variants)
        self.register_buffer("haplotypes", torch.zeros(0, n_variants, dtype=torch.int8))

    @staticmethod
    def estimate_memory(config, n_variants: int, n_haplotypes: int) -> int:
        """Bytes needed: the data twice as int8."""
        return 2 * n_haplotypes * n_variants

    def prepare(self, haplotypes: np.ndarray, seed: int, device: torch.device) -> None:
        """Keep ``haplotypes`` (int8, (n_haplotypes, n_variants)) as the model."""
        self.haplotypes = torch.from_numpy(np.ascontiguousarray(haplotypes, dtype=np.int8)).to(
            device
        )

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load a saved copy model (its row count is only known from the saved tensor)."""
        if "haplotypes" in state_dict:
            self.haplotypes = torch.empty_like(
                state_dict["haplotypes"], device=self.haplotypes.device
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` training haplotypes with replacement; int8 tensor (n, n_variants)."""
        n_train = self.haplotypes.shape[0]
        if n_train == 0:
            raise RuntimeError("the copy baseline holds no haplotypes: it was never fitted")
        index = torch.randint(n_train, (n,), generator=generator, device=self.haplotypes.device)
        return self.haplotypes[index]
