"""Bernoulli-Bernoulli restricted Boltzmann machine trained with persistent contrastive divergence.

Follows the RBM of Yelmen et al. 2021 (and the PyTorch RBM code of its authors' group, from which
these facts were taken; no code copied): visible biases start at ``log(p / (1 - p))`` of the
training ALT frequencies (clipped to [1e-5, 1 - 1e-5]), hidden biases at 0, weights ~ N(0, 0.01^2);
plain gradient ascent on the log-likelihood with the positive term from the hidden
*probabilities* given the data and the negative term from ``n_chains`` persistent Gibbs chains
advanced ``gibbs_steps`` sweeps per update. Artificial genomes are the final *sampled* visible
states (Bernoulli draws, not thresholded probabilities) of independent chains started from
uniformly random 0/1 haplotypes and run ``sample_gibbs_steps`` sweeps, as in the authors' code.

One difference: minibatches are consecutive slices of a fresh permutation each epoch
(``n_haplotypes // batch_size`` updates, last partial batch dropped), where the authors' code drew
each minibatch at random with replacement.

Two options, off by default (the published settings), make training far cheaper for the same
quality of AGs:

- ``centered``: the centred gradient of Melchior, Fischer and Wiskott (2016, JMLR 17:1): the
  weight gradient uses ``v - mu`` and ``h - lambda``, with ``mu`` the training ALT frequencies and
  ``lambda`` a running mean (rate :data:`HIDDEN_OFFSET_RATE`) of the hidden probabilities given the
  data; the bias gradients are corrected so that the parameters stay those of a plain RBM
  (sampling is unchanged). It removes the coupling of weights and biases that makes plain
  gradients of 0/1 units ill-conditioned.
- ``persistent: false``: every update starts the negative chains afresh from uniformly random
  haplotypes and runs ``gibbs_steps`` sweeps ("Rdm-k" of Decelle, Furtlehner and Seoane 2021,
  NeurIPS 34, which trained RBMs on this 805-SNP set too). The machine then learns to produce data
  after exactly that many sweeps from a random start, which is how AGs are drawn: set
  ``sample_gibbs_steps`` equal to ``gibbs_steps``. Mixing between the populations' modes, which
  long equilibrium chains do poorly, is no longer needed.
- ``ema_decay`` > 0: AGs are drawn with an exponential moving average of the weights and biases
  (``ema = decay * ema + (1 - decay) * current`` after every update, from the initial values),
  which smooths the jitter of stochastic updates.
- ``sample_temperature`` < 1: the last sweep of each AG chain draws the visible units from
  ``sigmoid((b + W h) / T)`` instead of ``sigmoid(b + W h)``, a sharper read-out. On the 805-SNP
  set, RBMs trained with ``persistent: false`` drew AGs a little noisier than real haplotypes
  (against the training haplotypes AA_truth about 0.66 and AA_syn about 0.33 at T = 1: each AG
  farther from the real ones than they are from each other); T = 0.92, chosen on the training
  haplotypes, brought both to 0.50 without bringing the AGs closer to the training haplotypes
  than to the held-out ones (config/benchmark_yelmen805.yaml).

Energy: ``E(v, h) = -v.b - h.c - v W h`` with ``W`` of shape (n_variants, n_hidden).
"""

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError

FREQUENCY_CLIP = 1e-5
# Rate of the running mean of the hidden probabilities used as hidden offset by ``centered``
# (Melchior et al. 2016 use 0.01 to 0.1).
HIDDEN_OFFSET_RATE = 0.01
# Artificial genomes are drawn in chunks of this many chains to bound memory.
SAMPLE_CHUNK = 4096


@dataclass
class RBMConfig:
    """Settings of the RBM; defaults are the published demo settings (Yelmen et al. 2021)."""

    epochs: int = field(default=800, metadata={"min": 0})
    batch_size: int = field(default=32, metadata={"min": 1})
    n_hidden: int = field(default=500, metadata={"min": 1})
    learning_rate: float = field(default=0.01, metadata={"gt": 0})
    gibbs_steps: int = field(default=10, metadata={"min": 1})
    n_chains: int = field(default=500, metadata={"min": 1})
    l2_penalty: float = field(default=0.0, metadata={"min": 0})
    weight_std: float = field(default=0.01, metadata={"min": 0})
    sample_gibbs_steps: int = field(default=500, metadata={"min": 1})
    checkpoint_every: int = field(default=10, metadata={"min": 1})
    max_memory_gb: float | None = field(default=None, metadata={"gt": 0})
    centered: bool = False
    persistent: bool = True
    ema_decay: float = field(default=0.0, metadata={"min": 0, "lt": 1})
    sample_temperature: float = field(default=1.0, metadata={"gt": 0})


def free_energy(pre_hidden: torch.Tensor, visible: torch.Tensor, visible_bias: torch.Tensor):
    """Free energy ``F(v) = -v.b - sum_j softplus((v W + c)_j)`` per row.

    Parameters
    ----------
    pre_hidden : torch.Tensor, float, shape (n, n_hidden)
        ``v W + c``.
    visible : torch.Tensor, float, shape (n, n_variants)
    visible_bias : torch.Tensor, float, shape (n_variants,)

    Returns
    -------
    torch.Tensor, float, shape (n,)
    """
    return -(visible @ visible_bias) - F.softplus(pre_hidden).sum(dim=1)


def bernoulli(probabilities: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """0/1 draws (same dtype and shape as ``probabilities``): ``uniform < p``.

    Three to four times faster on the CPU than ``torch.bernoulli`` with a generator.
    """
    uniform = torch.rand(
        probabilities.shape,
        generator=generator,
        device=probabilities.device,
        dtype=probabilities.dtype,
    )
    return uniform.lt_(probabilities)


class RBM(nn.Module):
    """Bernoulli RBM over ``n_variants`` SNPs with ``config.n_hidden`` hidden units.

    Parameters
    ----------
    config : RBMConfig
    n_variants : int
    """

    name = "rbm"
    Config = RBMConfig
    loss_names = ("free_energy_gap", "reconstruction_error", "pseudo_log_likelihood")

    def __init__(self, config: RBMConfig, n_variants: int):
        super().__init__()
        self.config = config
        self.n_variants = n_variants
        # No gradients flow through an RBM: the PCD update is written out, so these are buffers.
        self.register_buffer("weight", torch.randn(n_variants, config.n_hidden) * config.weight_std)
        self.register_buffer("visible_bias", torch.zeros(n_variants))
        self.register_buffer("hidden_bias", torch.zeros(config.n_hidden))
        if config.ema_decay > 0:  # averaged parameters, used to draw AGs
            self.register_buffer("weight_ema", self.weight.clone())
            self.register_buffer("visible_bias_ema", self.visible_bias.clone())
            self.register_buffer("hidden_bias_ema", self.hidden_bias.clone())

    @staticmethod
    def estimate_memory(config: RBMConfig, n_variants: int, n_haplotypes: int) -> int:
        """Bytes needed to train: parameters, chains with their per-sweep temporaries, data."""
        n_hid = config.n_hidden
        params = (n_variants * n_hid + n_variants + n_hid) * 4
        rows = config.n_chains + 3 * config.batch_size
        chains = rows * (n_variants + n_hid) * 4 * 4
        data = n_haplotypes * n_variants * (4 + 1)
        copies = 3 if config.ema_decay > 0 else 2  # one more for the averaged parameters
        return copies * params + chains + data

    def prepare(self, haplotypes: np.ndarray, seed: int, device: torch.device) -> None:
        """Set the visible biases to the logit of the training frequencies, move the data to the
        device and start the persistent chains from uniformly random haplotypes.

        Parameters
        ----------
        haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        seed : int
            Seeds the starting chains.
        device : torch.device
        """
        cfg = self.config
        n_hap = haplotypes.shape[0]
        if n_hap < cfg.batch_size:
            raise InputError(
                f"the RBM needs at least batch_size={cfg.batch_size} training haplotypes, "
                f"got {n_hap}",
                "lower batch_size or train on more samples",
            )
        freq = haplotypes.mean(axis=0, dtype=np.float64)
        freq = np.clip(freq, FREQUENCY_CLIP, 1.0 - FREQUENCY_CLIP)
        self.visible_bias.copy_(torch.from_numpy(np.log(freq / (1.0 - freq))))
        if cfg.ema_decay > 0:
            for averaged, current in zip(self._params(True), self._params()):
                averaged.copy_(current)
        self._data = torch.from_numpy(haplotypes).to(device=device, dtype=torch.float32)
        start = torch.Generator().manual_seed(seed)
        chains = bernoulli(torch.full((cfg.n_chains, self.n_variants), 0.5), start)
        self._chains = chains.to(device)
        # offsets of the centred gradient (unused otherwise)
        self._visible_offset = torch.from_numpy(freq).to(device=device, dtype=torch.float32)
        self._hidden_offset = torch.full((cfg.n_hidden,), 0.5, device=device)

    def _params(self, averaged: bool = False) -> tuple[torch.Tensor, ...]:
        """(weight, visible bias, hidden bias): the current ones or their moving averages."""
        if averaged and self.config.ema_decay > 0:
            return self.weight_ema, self.visible_bias_ema, self.hidden_bias_ema
        return self.weight, self.visible_bias, self.hidden_bias

    def _gibbs_sweep(
        self,
        visible: torch.Tensor,
        generator: torch.Generator,
        averaged: bool = False,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """One sweep v -> h -> v with sampled hidden and visible states (the visible ones at
        ``temperature``)."""
        w, b, c = self._params(averaged)
        hidden = bernoulli(torch.sigmoid(torch.addmm(c, visible, w)), generator)
        pre_visible = torch.addmm(b, hidden, w.T)
        if temperature != 1.0:
            pre_visible.div_(temperature)
        return bernoulli(torch.sigmoid(pre_visible), generator)

    @torch.no_grad()
    def train_epoch(self, generator: torch.Generator) -> torch.Tensor:
        """One pass of PCD-k updates over a fresh permutation of the training haplotypes.

        Returns
        -------
        torch.Tensor, float32, shape (3,)
            Epoch means, measured on each minibatch before its update, of: the free-energy gap
            ``mean F(data) - mean F(chains)``; the reconstruction error
            ``mean (v - p(v | p(h | v)))^2``; the pseudo-log-likelihood per site
            ``log sigmoid(F(v with one random site flipped) - F(v))``.
        """
        cfg = self.config
        data, device = self._data, self._data.device
        n_hap = data.shape[0]
        bs = cfg.batch_size
        n_batches = n_hap // bs
        order = torch.randperm(n_hap, generator=generator, device=device)
        flip_sites = torch.randint(
            self.n_variants, (n_batches, bs), generator=generator, device=device
        )
        rows = torch.arange(bs, device=device)
        lr_pos, lr_neg = cfg.learning_rate / bs, cfg.learning_rate / cfg.n_chains
        totals = torch.zeros(3, device=device)
        w, b, c = self.weight, self.visible_bias, self.hidden_bias
        for i in range(n_batches):
            v_pos = data[order[i * bs : (i + 1) * bs]]
            pre_pos = torch.addmm(c, v_pos, w)
            ph_pos = torch.sigmoid(pre_pos)
            if cfg.persistent:
                chains = self._chains
            else:  # a fresh random start, as when AGs are drawn
                chains = bernoulli(torch.full_like(self._chains, 0.5), generator)
            for _ in range(cfg.gibbs_steps):
                chains = self._gibbs_sweep(chains, generator)
            self._chains = chains
            pre_neg = torch.addmm(c, chains, w)
            ph_neg = torch.sigmoid(pre_neg)

            # Monitoring, before the update.
            fe_pos = free_energy(pre_pos, v_pos, b)
            gap = fe_pos.mean() - free_energy(pre_neg, chains, b).mean()
            recon = torch.sigmoid(torch.addmm(b, ph_pos, w.T))
            recon_err = (v_pos - recon).square().mean()
            sites = flip_sites[i]
            sign = 1.0 - 2.0 * v_pos[rows, sites]  # +1 when the site flips 0 -> 1
            flipped = v_pos.clone()
            flipped[rows, sites] += sign
            pre_flip = pre_pos + sign[:, None] * w[sites]
            pll = F.logsigmoid(free_energy(pre_flip, flipped, b) - fe_pos).mean()
            totals += torch.stack([gap, recon_err, pll])

            # PCD update (gradient ascent on the log-likelihood, optional L2 on the weights).
            if cfg.l2_penalty:
                w.mul_(1.0 - 2.0 * cfg.learning_rate * cfg.l2_penalty)
            if cfg.centered:
                self._centered_update(v_pos, ph_pos, chains, ph_neg)
            else:
                w.addmm_(v_pos.T, ph_pos, alpha=lr_pos).addmm_(chains.T, ph_neg, alpha=-lr_neg)
                b.add_(v_pos.mean(0) - chains.mean(0), alpha=cfg.learning_rate)
                c.add_(ph_pos.mean(0) - ph_neg.mean(0), alpha=cfg.learning_rate)
            if cfg.ema_decay > 0:
                for averaged, current in zip(self._params(True), self._params()):
                    averaged.lerp_(current, 1.0 - cfg.ema_decay)
        return totals / n_batches

    def _centered_update(self, v_pos, ph_pos, v_neg, ph_neg) -> None:
        """One step of the centred gradient (Melchior et al. 2016), on the plain parameters.

        With offsets ``mu`` (visible) and ``lambda`` (hidden) the weight gradient is
        ``<(v - mu)(h - lambda)^T>_data - <(v - mu)(h - lambda)^T>_chains``; the visible and
        hidden bias gradients are the plain ones minus ``grad_W lambda`` and ``grad_W^T mu``.
        """
        lr = self.config.learning_rate
        mu = self._visible_offset
        lam = self._hidden_offset
        lam.mul_(1.0 - HIDDEN_OFFSET_RATE).add_(ph_pos.mean(0), alpha=HIDDEN_OFFSET_RATE)
        grad_w = torch.mm((v_pos - mu).T, ph_pos - lam).div_(v_pos.shape[0])
        grad_w.addmm_((v_neg - mu).T, ph_neg - lam, alpha=-1.0 / v_neg.shape[0])
        grad_b = v_pos.mean(0) - v_neg.mean(0) - grad_w @ lam
        grad_c = ph_pos.mean(0) - ph_neg.mean(0) - grad_w.T @ mu
        self.weight.add_(grad_w, alpha=lr)
        self.visible_bias.add_(grad_b, alpha=lr)
        self.hidden_bias.add_(grad_c, alpha=lr)

    def training_state(self) -> dict:
        """The persistent chains and the running hidden offset, for checkpoints."""
        return {
            "chains": self._chains.to(torch.int8).cpu(),
            "hidden_offset": self._hidden_offset.cpu().clone(),
        }

    def load_training_state(self, state: dict) -> None:
        """Restore what :meth:`training_state` returned (after :meth:`prepare`)."""
        device = self._data.device
        self._chains = state["chains"].to(device=device, dtype=torch.float32)
        if "hidden_offset" in state:
            self._hidden_offset = state["hidden_offset"].to(device=device, dtype=torch.float32)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, steps: int | None = None) -> torch.Tensor:
        """Draw ``n`` haplotypes from independent Gibbs chains started at random 0/1 states.

        Parameters
        ----------
        n : int
        generator : torch.Generator
        steps : int, optional
            Gibbs sweeps per chain (default ``config.sample_gibbs_steps``).

        Returns
        -------
        torch.Tensor, int8, shape (n, n_variants)
            The final sampled visible states (with the averaged parameters when ``ema_decay``
            > 0; the last draw at ``sample_temperature``).
        """
        steps = self.config.sample_gibbs_steps if steps is None else steps
        device = self.weight.device
        chunks = []
        for start in range(0, n, SAMPLE_CHUNK):
            size = min(SAMPLE_CHUNK, n - start)
            half = torch.full((size, self.n_variants), 0.5, device=device)
            visible = bernoulli(half, generator)
            for step in range(1, steps + 1):
                temperature = self.config.sample_temperature if step == steps else 1.0
                visible = self._gibbs_sweep(visible, generator, True, temperature)
            chunks.append(visible.to(torch.int8))
        if not chunks:
            return torch.zeros(0, self.n_variants, dtype=torch.int8, device=device)
        return torch.cat(chunks)
