"""Time training epochs and sampling of the GAN and the RBM (published settings unless ``--set``).

Usage (from the repository root)::

    python benchmarks/train_speed.py                      # random data, 2 threads
    python benchmarks/train_speed.py --data real --threads 2 --epochs 5
    python benchmarks/train_speed.py --models gan --device cuda
    python benchmarks/train_speed.py --data real --set rbm.n_hidden=100 --set rbm.persistent=false

``--data real`` reads the 805-SNP Yelmen set
(``resources/yelmen805/805_SNP_1000G_real.phased.vcf.gz`` by default) and keeps its
first ``--n-haplotypes`` haplotypes; ``--data random`` draws haplotypes with the same shape.
Prints seconds per epoch (median of the timed epochs, after one warm-up epoch) and, for the RBM,
Gibbs sampling throughput.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from artificial_genomes import models
from artificial_genomes.training import resolve_device
from yelmen805 import parse_overrides

REAL_VCF = str(
    Path(__file__).resolve().parents[1]
    / "resources"
    / "yelmen805"
    / "805_SNP_1000G_real.phased.vcf.gz"
)


def load_haplotypes(kind: str, n_haplotypes: int, n_variants: int, vcf: str) -> np.ndarray:
    """int8 (n_haplotypes, n_variants) matrix of real or random haplotypes."""
    if kind == "real":
        import allel

        callset = allel.read_vcf(vcf, fields=["calldata/GT"])
        gt = callset["calldata/GT"]  # (variants, samples, 2)
        hap = gt.reshape(gt.shape[0], -1).T.astype(np.int8)
        return np.ascontiguousarray(hap[:n_haplotypes])
    rng = np.random.default_rng(0)
    freq = rng.beta(0.5, 0.5, n_variants)
    return (rng.random((n_haplotypes, n_variants)) < freq).astype(np.int8)


def time_epochs(name: str, settings: dict, hap: np.ndarray, epochs: int, device) -> list[float]:
    config = models.make_config(name, settings)
    torch.manual_seed(0)
    model = models.get_model_class(name)(config, hap.shape[1]).to(device)
    model.prepare(hap, 0, device)
    generator = torch.Generator(device=device).manual_seed(0)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        model.train_epoch(generator).tolist()
        times.append(time.perf_counter() - start)
    return model, generator, times[1:]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["random", "real"], default="random")
    parser.add_argument("--vcf", default=REAL_VCF)
    parser.add_argument("--n-haplotypes", type=int, default=4000)
    parser.add_argument("--n-variants", type=int, default=805, help="for --data random")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after 1 warm-up)")
    parser.add_argument("--models", default="gan,rbm")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rbm-gibbs-steps", type=int, default=None, help="k of PCD-k")
    parser.add_argument(
        "--set", action="append", default=[], metavar="MODEL.SETTING=VALUE", dest="overrides",
        help="a model setting (YAML-typed value), e.g. gan.ema_decay=0.999",
    )  # fmt: skip
    parser.add_argument("--sample-n", type=int, default=1000, help="RBM chains to sample")
    parser.add_argument("--sample-steps", type=int, default=100, help="RBM sampling sweeps")
    args = parser.parse_args(argv)

    overrides = parse_overrides(args.overrides)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    hap = load_haplotypes(args.data, args.n_haplotypes, args.n_variants, args.vcf)
    print(
        f"data={args.data} haplotypes={hap.shape[0]} variants={hap.shape[1]} "
        f"threads={torch.get_num_threads()} device={device} torch={torch.__version__}"
    )
    for name in args.models.split(","):
        settings = dict(overrides.get(name, {}))
        if name == "rbm" and args.rbm_gibbs_steps:
            settings["gibbs_steps"] = args.rbm_gibbs_steps
        model, generator, times = time_epochs(name, settings, hap, args.epochs, device)
        print(
            f"{name}: {statistics.median(times):.3f} s/epoch (median of {len(times)}; "
            f"all {', '.join(f'{t:.3f}' for t in times)}) settings={settings or 'published'}"
        )
        if name == "rbm":
            start = time.perf_counter()
            model.sample(args.sample_n, generator, steps=args.sample_steps)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            sweeps = args.sample_n * args.sample_steps / seconds
            print(
                f"rbm sampling: {args.sample_n} chains x {args.sample_steps} sweeps in "
                f"{seconds:.2f} s = {sweeps:,.0f} chain-sweeps/s"
            )


if __name__ == "__main__":
    main()
