"""Soft-argmax of paper 001 (Eq. 2–5): exact peaks, differentiability, crop mapping."""

from __future__ import annotations

import pytest
import torch

from poselab.distill.softargmax import (
    cells_to_normalized,
    normalized_to_cells,
    soft_argmax_2d,
    soft_argmax_flat,
)

torch.set_num_threads(1)


def test_one_hot_heatmap_gives_exact_peak_at_high_beta() -> None:
    H, W = 12, 9  # non-square: catches an x/y or H/W mix-up
    hm = torch.zeros(2, 3, H, W, dtype=torch.float64)
    peaks = [[(0, 0), (8, 11), (3, 7)], [(5, 2), (1, 10), (7, 4)]]  # (x, y)
    for b, row in enumerate(peaks):
        for j, (x, y) in enumerate(row):
            hm[b, j, y, x] = 1.0
    out = soft_argmax_2d(hm, beta=200.0)
    assert torch.allclose(out, torch.tensor(peaks, dtype=torch.float64), atol=1e-9)
    # the paper's literal flat-index read-out agrees on one-hot maps
    assert torch.allclose(soft_argmax_flat(hm, beta=200.0), out, atol=1e-6)


def test_low_beta_tends_to_the_centre_and_is_unbiased_for_symmetric_blobs() -> None:
    hm = torch.zeros(1, 1, 11, 11, dtype=torch.float64)
    centre = torch.tensor([[[5.0, 5.0]]], dtype=torch.float64)
    assert torch.allclose(soft_argmax_2d(hm, 1.0), centre)
    # a symmetric blob centred between cells: expectation lands exactly between them
    hm[0, 0, 4, 2] = hm[0, 0, 4, 3] = 1.0
    out = soft_argmax_2d(hm, beta=100.0)
    assert torch.allclose(out, torch.tensor([[[2.5, 4.0]]], dtype=torch.float64), atol=1e-9)


def test_soft_argmax_passes_gradcheck() -> None:
    torch.manual_seed(0)
    hm = torch.randn(2, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda h: soft_argmax_2d(h, beta=3.0), (hm,))


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        soft_argmax_2d(torch.zeros(3, 4, 4), 1.0)
    with pytest.raises(ValueError):
        soft_argmax_2d(torch.zeros(1, 1, 4, 4), 0.0)


def test_cell_mapping_round_trip_and_crop_centre() -> None:
    n = torch.tensor([[0.0, 0.0], [0.5, -0.5], [-0.3, 0.2]])
    c = normalized_to_cells(n, size=64, stride=2)
    assert torch.allclose(cells_to_normalized(c, 64, 2), n, atol=1e-6)
    # normalised 0 is the crop centre u = 32, the edge between cells 15 and 16 at stride 2
    assert torch.allclose(c[0], torch.tensor([15.5, 15.5]))
    # the crop's left edge (n = -margin/2) is the left edge of cell 0
    assert torch.allclose(normalized_to_cells(torch.tensor([-0.6, 0.6]), 64, 2),
                          torch.tensor([-0.5, 31.5]), atol=1e-6)
