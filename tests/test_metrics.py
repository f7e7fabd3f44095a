"""Metrics pinned on hand-checked cases, and against the AGs published with Yelmen et al. 2021."""

import itertools
import zipfile

import numpy as np
import pytest

from artificial_genomes import metrics
from workflow_utils import RESOURCES

YELMEN = RESOURCES / "yelmen805"


def read_hapt_zip(path) -> np.ndarray:
    """Rows ``label id g1 .. gm`` of the single .hapt file inside a zip, as an int8 matrix."""
    with zipfile.ZipFile(path) as archive:
        text = archive.read(archive.namelist()[0]).decode("ascii")
    rows = [line.split()[2:] for line in text.splitlines() if line.strip()]
    return np.array(rows, dtype=np.int8)


# --------------------------------------------------------------------------------------------------
# allele frequencies
# --------------------------------------------------------------------------------------------------


def test_allele_frequency_by_hand():
    h = np.array([[0, 1, 1], [1, 1, 0], [0, 1, 0], [0, 1, 1]], dtype=np.int8)
    np.testing.assert_allclose(metrics.allele_frequency(h), [0.25, 1.0, 0.5])


def test_allele_frequency_agreement_by_hand():
    real = np.array([[1, 0, 0], [1, 1, 0]], dtype=np.int8)  # frequencies 1.0, 0.5, 0.0
    synthetic = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.int8)  # frequencies 0.5, 0.5, 0.5
    out = metrics.allele_frequency_agreement(real, synthetic)
    assert out["rmse"] == pytest.approx(np.sqrt((0.25 + 0 + 0.25) / 3))
    assert out["r"] == 0.0  # constant synthetic frequencies: r defined as 0, not NaN


def test_pearson_r_matches_numpy():
    x = np.array([0.1, 0.4, 0.35, 0.8])
    y = np.array([0.2, 0.3, 0.5, 0.9])
    assert metrics.pearson_r(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])


# --------------------------------------------------------------------------------------------------
# site frequency spectrum
# --------------------------------------------------------------------------------------------------

# 6 haplotypes x 5 sites; ALT counts 1, 2, 5, 0, 3 -> minor counts 1, 2, 1, 0, 3
SFS_TOY = np.array(
    [
        [1, 1, 1, 0, 1],
        [0, 1, 1, 0, 1],
        [0, 0, 1, 0, 1],
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=np.int8,
)


def test_sfs_counts_by_hand():
    unfolded = metrics.site_frequency_spectrum(SFS_TOY, folded=False)
    np.testing.assert_array_equal(unfolded, [1, 1, 1, 1, 0, 1, 0])  # ALT counts 0..6
    folded = metrics.site_frequency_spectrum(SFS_TOY)
    np.testing.assert_array_equal(folded, [1, 2, 1, 1])  # minor counts 0..3
    counts = metrics.rare_variant_counts(folded, 6, rare_frequency=0.3)  # rare: m < 1.8
    assert counts == {
        "monomorphic": 1.0,
        "singletons": 2.0,
        "rare": 2.0,
        "common": 2.0,
        "segregating": 4.0,
    }


def test_sfs_projection_is_the_mean_over_all_subsamples():
    # a site with 1 ALT among 4 haplotypes shows it in a random pair with probability 1/2
    h = np.array([[1], [0], [0], [0]], dtype=np.int8)
    np.testing.assert_allclose(metrics.site_frequency_spectrum(h, 2, folded=False), [0.5, 0.5, 0])
    # brute force: every 3-haplotype subset of the toy, unfolded and folded
    subsets = list(itertools.combinations(range(6), 3))
    for folded in (False, True):
        mean = np.mean(
            [metrics.site_frequency_spectrum(SFS_TOY[list(s)], folded=folded) for s in subsets],
            axis=0,
        )
        projected = metrics.site_frequency_spectrum(SFS_TOY, 3, folded=folded)
        np.testing.assert_allclose(projected, mean, atol=1e-12)
        assert projected.sum() == pytest.approx(5)


def test_sfs_projection_of_a_large_panel_in_blocks():
    # > 838 distinct ALT counts at n = 5000: the projection runs in blocks of distinct counts
    rng = np.random.default_rng(6)
    h = (rng.random((6000, 1500)) < np.linspace(0, 1, 1500)).astype(np.int8)
    k, multiplicity = np.unique(h.sum(axis=0), return_counts=True)
    assert k.size > 2**22 // 5001
    whole = multiplicity @ metrics._hypergeometric_pmf(6000, k, 5000)
    unfolded = metrics.site_frequency_spectrum(h, 5000, folded=False)
    np.testing.assert_allclose(unfolded, whole, atol=1e-9)
    assert unfolded.sum() == pytest.approx(1500)


def test_sfs_classes_and_distance():
    np.testing.assert_array_equal(metrics.frequency_class_edges(10), [0, 1, 2, 3, 5, 6])
    np.testing.assert_array_equal(metrics.frequency_class_edges(40), [0, 1, 2, 3, 5, 9, 17, 21])
    sfs = np.array([1.0, 2, 1, 1, 0, 3])  # n = 10
    np.testing.assert_array_equal(
        metrics.binned_spectrum(sfs, metrics.frequency_class_edges(10)), [1, 2, 1, 1, 3]
    )
    assert metrics.sfs_distance(sfs, sfs, 10) == 0.0
    # every singleton lost to monomorphic: 2 of 8 sites moved
    lost = np.array([3.0, 0, 1, 1, 0, 3])
    assert metrics.sfs_distance(sfs, lost, 10) == pytest.approx(2 / 8)
    disjoint = np.array([0.0, 0, 0, 0, 0, 8])
    assert metrics.sfs_distance(np.array([8.0, 0, 0, 0, 0, 0]), disjoint, 10) == 1.0
    with pytest.raises(ValueError, match="cannot project"):
        metrics.site_frequency_spectrum(SFS_TOY, 7)


# --------------------------------------------------------------------------------------------------
# LD
# --------------------------------------------------------------------------------------------------


def test_r2_of_perfectly_linked_snps_is_one():
    site = np.array([1, 0, 1, 1, 0, 0], dtype=np.int8)
    h = np.stack([site, site, 1 - site], axis=1)  # identical, identical, complementary
    r2 = metrics.ld_r2_matrix(h)
    np.testing.assert_allclose(r2, np.ones((3, 3)), atol=1e-6)


def test_r2_by_hand():
    # x = 1100, y = 1010: p_x = p_y = 1/2, p_xy = 1/4, D = 0 -> r^2 = 0
    # x = 1100, z = 1000: D = 1/4 - 1/2 * 1/4 = 1/8, r^2 = D^2 / (1/4 * 3/16) = 1/3
    h = np.array([[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.int8)
    r2 = metrics.ld_r2_matrix(h)
    assert r2[0, 1] == pytest.approx(0.0, abs=1e-7)
    assert r2[0, 2] == pytest.approx(1 / 3, rel=1e-6)


def test_monomorphic_site_gives_zero_not_nan():
    h = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, 1]], dtype=np.int8)  # site 1 all REF
    r2 = metrics.ld_r2_matrix(h)
    assert np.isfinite(r2).all()
    np.testing.assert_array_equal(r2[1], 0)
    np.testing.assert_array_equal(r2[:, 1], 0)
    pairs = metrics.ld_r2_pairs(h, [0, 1, 0], [1, 2, 2])
    assert np.isfinite(pairs).all() and pairs[0] == 0 and pairs[1] == 0
    z, polymorphic = metrics.standardise(h)
    np.testing.assert_array_equal(polymorphic, [True, False, True])
    assert np.isfinite(z).all()


def test_r2_pairs_equal_full_matrix():
    rng = np.random.default_rng(3)
    h = (rng.random((60, 40)) < 0.3).astype(np.int8)
    chrom = np.array(["1"] * 25 + ["2"] * 15)
    i, j = metrics.band_pairs(chrom, width=5)
    si, sj = metrics.subset_pairs(chrom, n_sites=20, seed=1)
    i, j = np.concatenate([i, si]), np.concatenate([j, sj])
    full = metrics.ld_r2_matrix(h)
    np.testing.assert_allclose(metrics.ld_r2_pairs(h, i, j, block=7), full[i, j], atol=1e-6)


def test_band_pairs_stay_on_contig():
    i, j = metrics.band_pairs(np.array(["1", "1", "1", "2", "2"]), width=2)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (3, 4)]


def test_subset_pairs_are_all_pairs_when_few_sites():
    i, j = metrics.subset_pairs(np.array(["1"] * 4), n_sites=10)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_ld_decay_bins_by_hand():
    edges = np.array([1.0, 10.0, 100.0, 1000.0])
    r2 = np.array([0.9, 0.7, 0.2, 0.4, 0.0])
    distance = np.array([5, 9, 50, 60, 5000])  # the last pair falls outside every bin
    mean, counts = metrics.ld_decay(r2, distance, edges)
    np.testing.assert_allclose(mean, [0.8, 0.3, 0.0])
    np.testing.assert_array_equal(counts, [2, 2, 0])
    bins = metrics.log_distance_bins(np.array([0, 3, 30, 3000]), n_bins=3)
    assert bins[0] <= 3 and bins[-1] >= 3000 and len(bins) == 4
    np.testing.assert_allclose(np.diff(np.log(bins)), np.log(bins[1] / bins[0]))


def test_three_point_correlation_by_hand():
    # one haplotype carries all three ALT alleles: p = 1/4, E[xy] = E[xyz] = 1/4
    #   C = 1/4 - 3 * (1/4 * 1/4) + 2 / 64 = 3/32
    # each pair co-occurs once, never all three: p = 1/2, E[xy] = 1/4, E[xyz] = 0
    #   C = 0 - 3 * (1/4 * 1/2) + 2 / 8 = -1/8
    # a monomorphic site: C = 0
    h = np.array(
        [
            [1, 1, 1, 1, 1, 0, 0],
            [0, 0, 0, 1, 0, 1, 0],
            [0, 0, 0, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        dtype=np.int8,
    )
    c3 = metrics.three_point_correlation(h, [0, 3, 0], [1, 4, 1], [2, 5, 6], chunk=2)
    np.testing.assert_allclose(c3, [3 / 32, -1 / 8, 0.0], atol=1e-12)


def test_random_triplets_are_nearby_and_on_one_contig():
    chrom = np.array(["1"] * 30 + ["2"] * 30)
    i, j, k = metrics.random_triplets(chrom, n_triplets=2000, window=5, seed=4)
    assert i.size > 1500
    assert np.all((i < j) & (j < k) & (k - i <= 5))
    assert np.all((chrom[i] == chrom[j]) & (chrom[j] == chrom[k]))


def test_gap_triplets_by_hand():
    chrom = np.array(["1"] * 7 + ["2"] * 3)
    i, j, k = metrics.gap_triplets(chrom, 2)
    assert list(zip(i.tolist(), j.tolist(), k.tolist())) == [(0, 2, 4), (1, 3, 5), (2, 4, 6)]
    i, j, k = metrics.gap_triplets(chrom, 1)
    assert i.tolist() == [0, 1, 2, 3, 4, 7]  # none across the contig boundary
    assert metrics.gap_triplets(chrom, 4)[0].size == 0
    sub = metrics.gap_triplets(np.array(["1"] * 100), 1, n_max=10, seed=3)
    assert sub[0].size == 10 and np.all(np.diff(sub[0]) > 0) and np.all(sub[2] - sub[0] == 2)


def test_three_point_correlation_of_gap_triplets_by_hand():
    # sites 0, 2, 4 (gap 2): one haplotype carries all three ALT alleles -> C = 3/32 (see above);
    # sites 1, 3, 5: each pair of ALT alleles together once, never all three -> C = -1/8
    h = np.array(
        [
            [1, 1, 1, 1, 1, 0],
            [0, 1, 0, 0, 0, 1],
            [0, 0, 0, 1, 0, 1],
            [0, 0, 0, 0, 0, 0],
        ],
        dtype=np.int8,
    )
    i, j, k = metrics.gap_triplets(np.array(["1"] * 6), 2)
    np.testing.assert_allclose(metrics.three_point_correlation(h, i, j, k), [3 / 32, -1 / 8])


def test_uniform_random_triplets_cover_each_contig_in_proportion():
    chrom = np.array(["1"] * 10 + ["2"] * 5 + ["3"] * 2)  # 720 + 60 ordered triplets, none on 3
    i, j, k = metrics.random_triplets(chrom, n_triplets=20000, window=None, seed=1)
    assert i.size == 20000
    assert np.all((i < j) & (j < k)) and np.all((chrom[i] == chrom[j]) & (chrom[j] == chrom[k]))
    assert np.mean(chrom[i] == "2") == pytest.approx(60 / 780, abs=0.01)
    # every one of the C(10, 3) = 120 triplets of contig 1 comes up, about equally often
    on_one = chrom[i] == "1"
    _, counts = np.unique(np.stack([i, j, k])[:, on_one], axis=1, return_counts=True)
    assert counts.size == 120 and counts.min() > 0.5 * counts.mean()


# --------------------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------------------


def test_pca_matches_exact_svd_and_ignores_monomorphic_sites(monkeypatch):
    rng = np.random.default_rng(0)
    # two populations with different frequencies, plus a monomorphic site
    p = np.where(np.arange(30) < 15, 0.2, 0.7)
    a = rng.random((40, 30)) < p
    b = rng.random((40, 30)) < p[::-1]
    h = np.concatenate([a, b]).astype(np.int8)
    h[:, 4] = 0
    exact = metrics.fit_pca(h, n_components=3)
    centred = h - h.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(exact.components @ vt[:3].T), np.eye(3), atol=1e-4)
    np.testing.assert_allclose(exact.explained_variance_ratio, s[:3] ** 2 / (s**2).sum(), rtol=1e-4)
    # the randomised path agrees on the leading axis (the one with structure)
    monkeypatch.setattr(metrics, "EXACT_SVD_MAX", 0)
    randomised = metrics.fit_pca(h, n_components=3, seed=5)
    assert abs(randomised.components[0] @ vt[0]) == pytest.approx(1.0, abs=1e-4)
    scores = randomised.transform(h)
    assert scores.shape == (80, 3) and np.isfinite(scores).all()
    # PC1 separates the two populations
    assert np.sign(scores[:40, 0].mean()) != np.sign(scores[40:, 0].mean())


def test_wasserstein_per_component_of_shifted_cloud():
    a = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(metrics.wasserstein_per_component(a, a + [0.5, -2.0]), [0.5, 2.0])


def test_wasserstein_2d_of_a_translated_cloud_is_the_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(300, 2))
    assert metrics.wasserstein_2d(a, a + [3.0, 4.0], n=1000) == pytest.approx(5.0)
    assert metrics.wasserstein_2d(a, a, n=1000) == pytest.approx(0.0, abs=1e-6)
    # subsets: two draws of one distribution are close, a shifted one is not
    b = rng.normal(size=(3000, 2))
    c = rng.normal(size=(3000, 2))
    same = metrics.wasserstein_2d(b, c, n=500, seed=1)
    assert same < 0.3 < metrics.wasserstein_2d(b, c + [1.0, 0.0], n=500, seed=1)


# --------------------------------------------------------------------------------------------------
# Hamming distances, nearest neighbours, adversarial accuracy
# --------------------------------------------------------------------------------------------------


def test_hamming_matrix_equals_brute_force():
    rng = np.random.default_rng(1)
    a = (rng.random((7, 13)) < 0.4).astype(np.int8)
    b = (rng.random((5, 13)) < 0.6).astype(np.int8)
    brute = np.array([[sum(x != y for x, y in zip(ra, rb)) for rb in b] for ra in a])
    np.testing.assert_array_equal(metrics.hamming_distances(a, b, chunk=3), brute)
    np.testing.assert_array_equal(metrics.nearest_neighbour_distances(a, b, chunk=2), brute.min(1))
    self_brute = np.array([[sum(x != y for x, y in zip(ra, rb)) for rb in a] for ra in a])
    np.fill_diagonal(self_brute, 10**6)
    np.testing.assert_array_equal(
        metrics.nearest_neighbour_distances(a, chunk=3), self_brute.min(1)
    )


def test_nearest_other_counts_identical_copies():
    a = np.array([[0, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=np.int8)
    np.testing.assert_array_equal(metrics.nearest_neighbour_distances(a), [0, 0, 3])


# A 4 x 3 toy, worked by hand:
#   T: t0=000 t1=001 t2=111 t3=110      S: s0=000 s1=100 s2=010 s3=010
#   d(t, nearest S)       = [0, 1, 2, 1]   d(t, nearest other T) = [1, 1, 1, 1]
#       -> AA_truth = mean([F, F, T, F]) = 0.25
#   d(s, nearest T)       = [0, 1, 1, 1]   d(s, nearest other S) = [1, 1, 0, 0]
#       -> AA_syn = mean([F, F, T, T]) = 0.5
#   AATS = 0.375 (with ">=" it would be (0.75 + 0.5) / 2 = 0.625)
TOY_T = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=np.int8)
TOY_S = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=np.int8)


def test_adversarial_accuracy_by_hand():
    out = metrics.adversarial_accuracy(TOY_T, TOY_S, chunk=3)
    assert out == {"aa_truth": 0.25, "aa_syn": 0.5, "aats": 0.375}


def test_adversarial_accuracy_from_distance_matrices_agrees():
    rng = np.random.default_rng(5)
    real = (rng.random((30, 12)) < 0.3).astype(np.int8)
    synthetic = (rng.random((30, 12)) < 0.35).astype(np.int8)
    from_matrices = metrics.adversarial_accuracy_from_distances(
        metrics.hamming_distances(real, synthetic),
        metrics.hamming_distances(real),
        metrics.hamming_distances(synthetic),
    )
    assert from_matrices == metrics.adversarial_accuracy(real, synthetic, chunk=7)
    toy = metrics.adversarial_accuracy_from_distances(
        metrics.hamming_distances(TOY_T, TOY_S),
        metrics.hamming_distances(TOY_T),
        metrics.hamming_distances(TOY_S),
    )
    assert toy["aats"] == 0.375


def test_adversarial_accuracy_needs_equal_sizes():
    with pytest.raises(ValueError, match="equal size"):
        metrics.adversarial_accuracy(TOY_T, TOY_S[:3])
    sub = metrics.adversarial_accuracy_subsampled(TOY_T, np.concatenate([TOY_S, TOY_S]), seed=2)
    assert sub["n"] == 4


def test_exact_copies_by_hand():
    assert metrics.exact_copies(TOY_S, TOY_T) == 1  # s0 = t0
    assert metrics.exact_copies(TOY_T, TOY_T) == 4


def test_pairwise_distance_sample_sizes():
    rng = np.random.default_rng(0)
    a = (rng.random((30, 10)) < 0.5).astype(np.int8)
    within = metrics.pairwise_distance_sample(a, n=12)
    assert within.shape == (12 * 11 // 2,)
    assert metrics.pairwise_distance_sample(a, a, n=5).shape == (25,)
    full = metrics.pairwise_distance_sample(a, n=100)
    assert full.sum() == metrics.hamming_distances(a)[np.triu_indices(30, 1)].sum()


# --------------------------------------------------------------------------------------------------
# population structure
# --------------------------------------------------------------------------------------------------


def test_hudson_fst_of_identical_populations_is_zero_up_to_the_sample_correction():
    rng = np.random.default_rng(0)
    a = (rng.random((50, 40)) < 0.3).astype(np.int8)
    # same frequencies: N = -2 p (1 - p) / (n - 1), D = 2 p (1 - p) at every site
    assert metrics.hudson_fst(a, a) == pytest.approx(-1 / 49)
    # two large samples of one population: 0 up to sampling noise
    p = rng.uniform(0.05, 0.95, size=200)
    b = (rng.random((2000, 200)) < p).astype(np.int8)
    c = (rng.random((2000, 200)) < p).astype(np.int8)
    assert metrics.hudson_fst(b, c) == pytest.approx(0.0, abs=0.002)


def test_hudson_fst_of_fixed_differences_is_one():
    a = np.zeros((10, 5), dtype=np.int8)
    b = np.ones((7, 5), dtype=np.int8)
    assert metrics.hudson_fst(a, b) == 1.0
    assert metrics.hudson_fst(a, a) == 0.0  # nothing polymorphic: 0, not NaN
    with pytest.raises(ValueError, match="at least 2"):
        metrics.hudson_fst(a[:1], b)


def test_hudson_fst_by_hand_and_against_scikit_allel():
    # one site: p1 = 1/2 (n1 = 4), p2 = 0 (n2 = 2): N = 1/4 - (1/4) / 3 = 1/6, D = 1/2
    a = np.array([[1], [1], [0], [0]], dtype=np.int8)
    b = np.array([[0], [0]], dtype=np.int8)
    assert metrics.hudson_fst(a, b) == pytest.approx(1 / 3)
    allel = pytest.importorskip("allel")
    rng = np.random.default_rng(4)
    x = (rng.random((30, 60)) < 0.2).astype(np.int8)
    y = (rng.random((24, 60)) < 0.4).astype(np.int8)
    numerator, denominator = allel.hudson_fst(
        allel.HaplotypeArray(x.T).count_alleles(max_allele=1),
        allel.HaplotypeArray(y.T).count_alleles(max_allele=1),
    )
    expected = np.nansum(numerator) / np.nansum(denominator)
    assert metrics.hudson_fst(x, y) == pytest.approx(expected)


def test_nearest_neighbour_labels_vote():
    labels = np.array(["A", "A", "B", "B", "B"])
    distances = np.array(
        [
            [0, 1, 5, 6, 7],  # A A
            [9, 1, 0, 2, 3],  # B A B: majority B
            [0, 9, 1, 9, 9],  # k = 2 ties A-B: A is nearer
            [9, 0, 9, 9, 1],  # tie the other way round: A again (distance 0)
        ]
    )
    assert metrics.nearest_neighbour_labels(distances, labels, k=2).tolist() == ["A", "B", "A", "A"]
    assert metrics.nearest_neighbour_labels(distances, labels, k=3)[1] == "B"
    assert metrics.nearest_neighbour_labels(distances, labels, k=99).tolist() == ["B"] * 4
    np.testing.assert_allclose(metrics.label_shares(labels, ["A", "B", "C"]), [0.4, 0.6, 0.0])


# --------------------------------------------------------------------------------------------------
# membership inference
# --------------------------------------------------------------------------------------------------


def test_auc_of_separable_scores_is_one_and_of_equal_ones_a_half():
    assert metrics.roc_auc([5, 6, 7], [1, 2, 3, 4]) == 1.0
    assert metrics.roc_auc([1, 2], [5, 6]) == 0.0
    assert metrics.roc_auc([3, 3, 3], [3, 3]) == 0.5  # all tied
    rng = np.random.default_rng(0)
    same = metrics.roc_auc(rng.normal(size=4000), rng.normal(size=3000))
    assert same == pytest.approx(0.5, abs=0.02)


def test_auc_by_hand_with_ties_and_roc_area():
    positive = np.array([3.0, 2.0, 2.0])
    negative = np.array([2.0, 1.0])
    # pairs: 3>2, 3>1, 2=2 (1/2), 2>1, 2=2 (1/2), 2>1 -> 5 of 6
    assert metrics.roc_auc(positive, negative) == pytest.approx(5 / 6)
    fpr, tpr = metrics.roc_curve(positive, negative)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1, 1])
    assert np.trapezoid(tpr, fpr) == pytest.approx(5 / 6)
    rng = np.random.default_rng(1)
    p, n = rng.integers(0, 20, 300), rng.integers(3, 25, 200)
    brute = np.mean((p[:, None] > n[None, :]) + 0.5 * (p[:, None] == n[None, :]))
    assert metrics.roc_auc(p, n) == pytest.approx(brute)
    assert np.trapezoid(*metrics.roc_curve(p, n)[::-1]) == pytest.approx(brute)


# --------------------------------------------------------------------------------------------------
# Reference values: AGs published with Yelmen et al. 2021 (805 SNPs), see resources/README.md
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yelmen():
    return {
        "real": read_hapt_zip(YELMEN / "805_SNP_1000G_real.hapt.zip"),
        "GAN": read_hapt_zip(YELMEN / "805_SNP_GAN_AG_20000epochs.hapt.zip"),
        "RBM": read_hapt_zip(YELMEN / "805_SNP_RBM_AG_800Epochs.hapt.zip"),
    }


@pytest.mark.parametrize(
    "model, aats, aa_truth, aa_syn, af_r",
    [("GAN", 0.600, 0.208, 0.993, 0.982), ("RBM", 0.516, 0.547, 0.485, 0.994)],
)
def test_published_ags_reproduce_reference_values(yelmen, model, aats, aa_truth, aa_syn, af_r):
    real, ags = yelmen["real"], yelmen[model]
    assert real.shape == (5008, 805) and ags.shape == (5000, 805)
    rows = np.sort(np.random.default_rng(0).choice(real.shape[0], 5000, replace=False))
    out = metrics.adversarial_accuracy(real[rows], ags)
    assert out["aats"] == pytest.approx(aats, abs=0.02)
    assert out["aa_truth"] == pytest.approx(aa_truth, abs=0.02)
    assert out["aa_syn"] == pytest.approx(aa_syn, abs=0.02)
    assert metrics.allele_frequency_agreement(real[rows], ags)["r"] == pytest.approx(af_r, abs=0.02)


def test_real_half_against_real_half(yelmen):
    real = yelmen["real"]
    values = []
    for seed in range(3):  # split by individual (both haplotypes on one side), 3 seeds
        people = np.random.default_rng(seed).permutation(real.shape[0] // 2)
        half = people[: people.size // 2]
        first = np.zeros(real.shape[0], dtype=bool)
        first[2 * half] = first[2 * half + 1] = True
        values.append(metrics.adversarial_accuracy(real[first], real[~first])["aats"])
    assert np.mean(values) == pytest.approx(0.476, abs=0.02)
