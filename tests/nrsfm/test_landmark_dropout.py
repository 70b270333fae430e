"""Landmark dropout (``NRSfMConfig.landmark_dropout``): the encoder is trained on fewer inputs
than the loss scores, and never on a missing one."""

from __future__ import annotations

import pytest
from nrsfm_synthetic import low_rank_problem

from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.data import prepare_inputs

torch = pytest.importorskip("torch")

from poselab.nrsfm import train  # noqa: E402


def _masks_seen(monkeypatch, hide: float, dropout: float, steps: int = 20):
    """(mask, enc_mask) pairs that :meth:`train.Run.train_step` gave the forward pass."""
    coll, _ = low_rank_problem(n=200, seed=4, hide=hide)
    inputs = prepare_inputs(coll.keypoints_2d, coll.visibility, None, "weak_perspective")
    data = train.Batches(inputs, "cpu")
    config = NRSfMConfig(dict_sizes=(16, 8), batch_size=64, landmark_dropout=dropout)
    run = train.Run(coll.skeleton.num_joints, config, seed=0, device="cpu")
    seen, real = [], train.forward

    def spy(model, n, mask, enc_mask, *args, **kwargs):
        seen.append((mask.clone(), enc_mask.clone()))
        return real(model, n, mask, enc_mask, *args, **kwargs)

    monkeypatch.setattr(train, "forward", spy)
    for _ in range(steps):
        run.train_step(data)
    return seen


def test_dropout_hides_a_fraction_of_the_observed_landmarks_from_the_encoder(monkeypatch):
    seen = _masks_seen(monkeypatch, hide=0.3, dropout=0.2)
    mask = torch.cat([m for m, _ in seen])
    enc = torch.cat([e for _, e in seen])
    assert bool((enc <= mask).all())  # a missing landmark is never shown to the encoder
    hidden = float((mask - enc).sum() / mask.sum())
    assert 0.15 < hidden < 0.25, hidden  # 20 % of the observed ones are hidden
    assert bool((enc.sum(1) >= 2).all())
    assert 0.25 < 1 - float(mask.mean()) < 0.35  # the loss still scores every observed one


def test_the_imputation_pass_shows_the_encoder_the_filled_in_landmarks():
    """``impute_missing``: the second pass encodes the observed 2D with the missing landmarks
    filled by the first pass's reprojection, all of them seen (until 2026-12-04 it masked them
    out again and repeated the first pass)."""
    coll, _ = low_rank_problem(n=64, seed=4, hide=0.3)
    inputs = prepare_inputs(coll.keypoints_2d, coll.visibility, None, "weak_perspective")
    data = train.Batches(inputs, "cpu")
    model = train.DeepNRSfM(coll.skeleton.num_joints, (16, 8))
    args = (data.n, data.mask, data.mask, data.sigma, data.rc, 1e-3)
    with torch.no_grad():
        once = train.forward(model, *args, impute=False)
        twice = train.forward(model, *args, impute=True)
        m = data.mask[..., None]
        n_hat, _ = train.project(once["X"], data.n, data.mask, data.sigma, data.rc)
        out = model(data.n * m + n_hat * (1 - m), torch.ones_like(data.mask))
    assert not torch.allclose(twice["S"], once["S"])
    torch.testing.assert_close(twice["S"], out["S"])
    # with every landmark observed there is nothing to fill: one pass
    full = torch.ones_like(data.mask)
    with torch.no_grad():
        a = train.forward(model, data.n, full, full, data.sigma, data.rc, 1e-3, impute=True)
        b = train.forward(model, data.n, full, full, data.sigma, data.rc, 1e-3, impute=False)
    torch.testing.assert_close(a["S"], b["S"])


def test_a_fit_with_the_imputation_pass_says_so_for_reconstruct():
    from poselab.core import drain
    from poselab.nrsfm import fit

    coll, _ = low_rank_problem(n=64, seed=4, hide=0.3)
    config = NRSfMConfig(dict_sizes=(16, 8), steps=30, restarts=1, batch_size=32,
                         noise_aware=False, impute_missing=True)
    assert drain(fit(coll, config)).extra["imputation"] == "filled"
    assert "imputation" not in drain(fit(coll, config.replace(impute_missing=False))).extra
