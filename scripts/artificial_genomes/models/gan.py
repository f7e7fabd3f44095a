"""The fully connected GAN of Yelmen et al. 2021, with the published settings as defaults.

Facts taken from the authors' Keras script (``gan_script.py`` of the ml_genetics
``artificial_genomes`` repository; no code copied):

- generator: latent N(0, I) of size 600 -> Dense(n // 1.2) -> LeakyReLU(0.01) -> Dense(n // 1.1)
  -> LeakyReLU(0.01) -> Dense(n, tanh); discriminator: Dense(n // 2) -> LeakyReLU(0.01) ->
  Dense(n // 3) -> LeakyReLU(0.01) -> Dense(1, sigmoid); Keras default initialisation
  (Glorot-uniform weights, zero biases); L2 penalty 1e-4 on the weights of the hidden layers only.
- The haplotypes are shuffled once and jittered once (``x - U(0, 0.1)``) before training; each
  epoch walks the same batches in the same order and drops the last partial batch.
- Per batch: one discriminator update on the real batch with smoothed labels ``1 - U(0, 0.1)``,
  one on a generated batch with labels 0, then one generator update through the (now frozen,
  twice-updated) discriminator with labels 1, on the same latent draws. Adam with learning rates
  1e-4 (G) and 8e-4 (D), Keras' epsilon 1e-7.
- Artificial genomes: generator output clipped at 0 and rounded.

Differences, all with the same math: the sigmoid is folded into the loss
(``binary_cross_entropy_with_logits``, numerically safer); the L2 penalty is applied as Adam
``weight_decay = 2 * l2`` on the hidden weights (the gradient of ``l2 * sum(w ** 2)``); the
generator pass that made the fake batch is reused for the generator update (the generator has not
changed in between); the reported losses are epoch means of the cross-entropies, without the L2
term (the Keras script printed the last batch's loss).

Option, off by default: ``ema_decay`` > 0 keeps an exponential moving average of the generator's
weights, updated after every generator step (``ema = decay * ema + (1 - decay) * weights``, from
the initial weights), and draws the AGs from it. Averaging the iterates smooths the oscillation of
adversarial training (Yazici et al. 2019, ICLR).
"""

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError

# Keras' Adam defaults, kept so the optimiser matches the published one.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-7
# Generated haplotypes are produced in chunks of this many rows to bound memory.
SAMPLE_CHUNK = 4096


@dataclass
class GANConfig:
    """Settings of the GAN; defaults are those of the 805-SNP run of Yelmen et al. 2021."""

    epochs: int = field(default=20000, metadata={"min": 0})
    batch_size: int = field(default=32, metadata={"min": 1})
    latent_size: int = field(default=600, metadata={"min": 1})
    g_learning_rate: float = field(default=1e-4, metadata={"gt": 0})
    d_learning_rate: float = field(default=8e-4, metadata={"gt": 0})
    l2_penalty: float = field(default=1e-4, metadata={"min": 0})
    negative_slope: float = field(default=0.01, metadata={"min": 0})
    label_smoothing: float = field(default=0.1, metadata={"min": 0, "lt": 1})
    input_jitter: float = field(default=0.1, metadata={"min": 0, "lt": 1})
    ema_decay: float = field(default=0.0, metadata={"min": 0, "lt": 1})
    checkpoint_every: int = field(default=200, metadata={"min": 1})
    max_memory_gb: float | None = field(default=None, metadata={"gt": 0})


def layer_sizes(config: GANConfig, n_variants: int) -> tuple[list[int], list[int]]:
    """Widths of the generator and discriminator layers, input first.

    Returns
    -------
    (list of int, list of int)
        ``[latent, n // 1.2, n // 1.1, n]`` and ``[n, n // 2, n // 3, 1]`` (hidden widths at least 1).
    """
    n = n_variants
    gen = [config.latent_size, max(1, int(n // 1.2)), max(1, int(n // 1.1)), n]
    disc = [n, max(1, n // 2), max(1, n // 3), 1]
    return gen, disc


def _mlp(
    sizes: list[int], negative_slope: float, out_activation: nn.Module | None
) -> nn.Sequential:
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(n_in, n_out)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(negative_slope, inplace=True))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


def _make_adam(module: nn.Sequential, lr: float, l2: float, device: torch.device):
    """Adam with weight decay ``2 * l2`` on the hidden layers' weights only (Keras' L2)."""
    linears = [m for m in module if isinstance(m, nn.Linear)]
    decayed = [m.weight for m in linears[:-1]]
    plain = [linears[-1].weight] + [m.bias for m in linears]
    groups = [
        {"params": decayed, "weight_decay": 2.0 * l2},
        {"params": plain, "weight_decay": 0.0},
    ]
    try:
        return torch.optim.Adam(groups, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, fused=True)
    except (RuntimeError, TypeError, ValueError):
        # fused kernels are missing on some devices: foreach is the next fastest.
        return torch.optim.Adam(groups, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, foreach=True)


class _AdamStep:
    """``optimizer.step()`` of a fused Adam, with the per-call Python work done once.

    ``torch.optim.Adam.step`` regroups its tensors by device and dtype on every call; at the
    published batch size that is about a tenth of a CPU epoch. After a first ordinary step has
    created the optimiser's state, this calls the same fused kernel on the same state tensors
    (bit-identical updates; ``state_dict`` and checkpoints are unchanged). Anything else (a
    foreach optimiser, a missing gradient) goes through ``optimizer.step()``.
    """

    def __init__(self, optimizer: torch.optim.Adam):
        self.optimizer = optimizer
        self._plan = None

    def reset(self) -> None:
        """Forget the state tensors (after ``optimizer.load_state_dict``)."""
        self._plan = None

    def _make_plan(self):
        opt = self.optimizer
        if not opt.defaults.get("fused") or not hasattr(torch, "_fused_adam_"):
            return False
        plan = []
        for group in opt.param_groups:
            params = list(group["params"])
            if group["amsgrad"] or group["maximize"] or any(p not in opt.state for p in params):
                return False
            states = [opt.state[p] for p in params]
            options = {
                "lr": float(group["lr"]),
                "beta1": float(group["betas"][0]),
                "beta2": float(group["betas"][1]),
                "weight_decay": float(group["weight_decay"]),
                "eps": float(group["eps"]),
                "amsgrad": False,
                "maximize": False,
            }
            plan.append((
                params,
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [s["step"] for s in states],
                options,
            ))  # fmt: skip
        return plan

    def __call__(self) -> None:
        if not self._plan:
            self.optimizer.step()
            if self._plan is None:
                self._plan = self._make_plan()
            return
        grads = [[p.grad for p in params] for params, *_ in self._plan]
        if any(g is None for group in grads for g in group):
            self.optimizer.step()
            return
        for (params, exp_avgs, exp_avg_sqs, steps, options), group_grads in zip(self._plan, grads):
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(params, group_grads, exp_avgs, exp_avg_sqs, [], steps, **options)


class GAN(nn.Module):
    """Generator and discriminator of Yelmen et al. 2021 for ``n_variants`` SNPs.

    Parameters
    ----------
    config : GANConfig
    n_variants : int
        Number of SNPs (columns of the haplotype matrix).
    """

    name = "gan"
    Config = GANConfig
    loss_names = ("d_loss", "g_loss")

    def __init__(self, config: GANConfig, n_variants: int):
        super().__init__()
        self.config = config
        self.n_variants = n_variants
        gen_sizes, disc_sizes = layer_sizes(config, n_variants)
        self.generator = _mlp(gen_sizes, config.negative_slope, nn.Tanh())
        # The discriminator outputs a logit; its sigmoid lives in the loss.
        self.discriminator = _mlp(disc_sizes, config.negative_slope, None)
        if config.ema_decay > 0:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)

    @staticmethod
    def estimate_memory(config: GANConfig, n_variants: int, n_haplotypes: int) -> int:
        """Bytes needed to train: weights, gradients and two Adam moments of both networks,
        the jittered data, one epoch of latent draws and the activations of a batch."""
        gen, disc = layer_sizes(config, n_variants)
        n_params = sum(a * b + b for sizes in (gen, disc) for a, b in itertools.pairwise(sizes))
        if config.ema_decay > 0:  # the averaged generator (no gradients or moments: about 1/4)
            n_params += sum(a * b + b for a, b in itertools.pairwise(gen)) // 4 + 1
        n_batches = max(1, n_haplotypes // config.batch_size)
        data = n_haplotypes * n_variants * (4 + 4 + 1)  # device copy, host float copy, int8
        noise = n_batches * config.batch_size * (config.latent_size + 1) * 4
        activations = config.batch_size * (2 * sum(gen) + 3 * 2 * sum(disc)) * 4
        return 4 * 4 * n_params + data + noise + activations

    def prepare(self, haplotypes: np.ndarray, seed: int, device: torch.device) -> None:
        """Shuffle and jitter the training haplotypes once (as the published script does) and
        set up both optimisers.

        Parameters
        ----------
        haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        seed : int
            Seeds the shuffle and the jitter (independent of the training generator, so that a
            resumed run rebuilds the same data).
        device : torch.device
        """
        cfg = self.config
        n_hap = haplotypes.shape[0]
        if n_hap < cfg.batch_size:
            raise InputError(
                f"the GAN needs at least batch_size={cfg.batch_size} training haplotypes, "
                f"got {n_hap}",
                "lower batch_size or train on more samples",
            )
        rng = np.random.default_rng(seed)
        order = rng.permutation(n_hap)
        data = haplotypes[order].astype(np.float32)
        data -= cfg.input_jitter * rng.random(data.shape, dtype=np.float32)
        self._data = torch.from_numpy(data).to(device)
        self._n_batches = n_hap // cfg.batch_size
        self.opt_g = _make_adam(self.generator, cfg.g_learning_rate, cfg.l2_penalty, device)
        self.opt_d = _make_adam(self.discriminator, cfg.d_learning_rate, cfg.l2_penalty, device)
        self._step_g, self._step_d = _AdamStep(self.opt_g), _AdamStep(self.opt_d)
        self._g_params = list(self.generator.parameters())
        if cfg.ema_decay > 0:
            self.generator_ema.load_state_dict(self.generator.state_dict())
            self._ema_params = list(self.generator_ema.parameters())

    def train_epoch(self, generator: torch.Generator) -> torch.Tensor:
        """One pass over the batches (see the module docstring for the order of updates).

        Returns
        -------
        torch.Tensor, float32, shape (2,)
            Mean discriminator loss (real + fake cross-entropy) and mean generator loss, on the
            device (no host synchronisation inside the epoch).
        """
        cfg = self.config
        bs, n_batches = cfg.batch_size, self._n_batches
        device = self._data.device
        latent = torch.randn(n_batches, bs, cfg.latent_size, generator=generator, device=device)
        real_labels = 1.0 - cfg.label_smoothing * torch.rand(
            n_batches, bs, 1, generator=generator, device=device
        )
        zeros = torch.zeros(bs, 1, device=device)
        ones = torch.ones(bs, 1, device=device)
        d_total = torch.zeros((), device=device)
        g_total = torch.zeros((), device=device)
        gen, disc, opt_g, opt_d = self.generator, self.discriminator, self.opt_g, self.opt_d
        step_g, step_d = self._step_g, self._step_d
        for b in range(n_batches):
            real = self._data[b * bs : (b + 1) * bs]
            fake = gen(latent[b])
            d_real = F.binary_cross_entropy_with_logits(disc(real), real_labels[b])
            d_real.backward()
            step_d()
            opt_d.zero_grad(set_to_none=True)
            d_fake = F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros)
            d_fake.backward()
            step_d()
            opt_d.zero_grad(set_to_none=True)
            g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
            g_loss.backward(inputs=self._g_params)
            step_g()
            opt_g.zero_grad(set_to_none=True)
            if cfg.ema_decay > 0:
                with torch.no_grad():
                    torch._foreach_lerp_(self._ema_params, self._g_params, 1.0 - cfg.ema_decay)
            d_total += d_real.detach() + d_fake.detach()
            g_total += g_loss.detach()
        return torch.stack([d_total, g_total]) / n_batches

    def training_state(self) -> dict:
        """Optimiser states, for checkpoints."""
        return {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_training_state(self, state: dict) -> None:
        """Restore what :meth:`training_state` returned (after :meth:`prepare`)."""
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self._step_g.reset()
        self._step_d.reset()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` haplotypes: generator output clipped at 0 and rounded (as published); from
        the averaged generator when ``ema_decay`` > 0.

        Returns
        -------
        torch.Tensor, int8, shape (n, n_variants)
        """
        net = self.generator_ema if self.config.ema_decay > 0 else self.generator
        device = next(self.parameters()).device
        chunks = []
        for start in range(0, n, SAMPLE_CHUNK):
            size = min(SAMPLE_CHUNK, n - start)
            z = torch.randn(size, self.config.latent_size, generator=generator, device=device)
            chunks.append(net(z).clamp_(min=0).round_().to(torch.int8))
        if not chunks:
            return torch.zeros(0, self.n_variants, dtype=torch.int8, device=device)
        return torch.cat(chunks)
