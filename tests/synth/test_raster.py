"""Round-cone ray casting against closed forms and sphere tracing of the exact SDF."""

from __future__ import annotations

import numpy as np

from poselab.synth.raster import (
    intersect_round_cone,
    intersect_round_cones,
    pixel_rays,
    raycast,
    round_cone_normals,
    round_cone_sdf,
)


def _unit(v):
    v = np.asarray(v, np.float64)
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def test_sphere_and_capsule_closed_forms():
    rd = _unit([[0, 0, 1], [0, 0.3, 1], [0, 0.01, 1]])
    sphere = np.array([0.0, 0.0, 1000.0])
    t = intersect_round_cone(rd, sphere, sphere, 100.0, 100.0)
    assert abs(t[0] - 900.0) < 1e-2
    assert np.isinf(t[1])  # passes ~290 mm from the centre
    # Capsule lying across the view at depth 1000, radius 50: the central ray hits at 950.
    a, b = np.array([-100.0, 0, 1000]), np.array([100.0, 0, 1000])
    t = intersect_round_cone(rd, a, b, 50.0, 50.0)
    assert abs(t[0] - 950.0) < 1e-2
    n = round_cone_normals(rd[:1] * t[:1, None], a, b, 50.0, 50.0)
    np.testing.assert_allclose(n[0], [0, 0, -1], atol=1e-4)
    # a ray through (0, 40, 1000) hits where the SDF is 0
    p = rd[2] * t[2]
    assert abs(round_cone_sdf(p[None], a[None], b[None], [50.0], [50.0])[0, 0]) < 0.05


def test_round_cone_hits_match_sphere_tracing():
    rng = np.random.default_rng(0)
    for trial in range(20):
        a = rng.normal(0, 100, 3) + [0, 0, 2000]
        b = a + rng.normal(0, 150, 3)
        ra, rb = rng.uniform(20, 120, 2)
        rd = rng.normal(0, 1, (300, 3)) * [0.05, 0.05, 0] + a / np.linalg.norm(a)
        rd = _unit(rd)
        t = intersect_round_cone(rd, a, b, ra, rb)
        t_all = intersect_round_cones(rd, a[None], b[None], [ra], [rb])[:, 0]

        def sdf(q, a=a, b=b, ra=ra, rb=rb):
            return round_cone_sdf(q, a[None], b[None], [ra], [rb])[:, 0]

        tt = np.zeros(len(rd))
        for _ in range(300):
            tt += sdf(rd * tt[:, None])
        traced = np.abs(sdf(rd * tt[:, None])) < 1e-3
        hit = np.isfinite(t)
        assert (hit != traced).sum() <= 2, trial  # grazing rays may differ
        both = hit & traced
        assert both.sum() > 20
        np.testing.assert_allclose(t[both], tt[both], atol=1.0)
        np.testing.assert_allclose(t_all[both], tt[both], atol=1.0)
        # normals equal the SDF gradient
        p = rd[both] * t[both, None]
        g = np.stack([sdf(p + e) - sdf(p - e) for e in np.eye(3) * 1e-2], 1)
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        n = round_cone_normals(p, a, b, ra, rb)
        assert np.median((g * n).sum(1)) > 0.9999


def test_zbuffer_keeps_the_nearer_part():
    K = np.array([[100.0, 0, 32], [0, 100, 32], [0, 0, 1]])
    near = (np.array([0.0, 0, 500]), np.array([0.0, 0, 500]), 40.0, 40.0)
    far = (np.array([-200.0, 0, 1000]), np.array([200.0, 0, 1000]), 60.0, 60.0)
    for centre_part, parts in ((0, [near, far]), (1, [far, near])):
        depth, normal, index = raycast(parts, K, 64, 64)
        assert index[32, 32] == centre_part
        assert abs(depth[32, 32] - 460.0) < 0.5
        assert index[32, 10] == 1 - centre_part  # only the far capsule out there
        assert np.isinf(depth[2, 2]) and index[2, 2] == -1
        np.testing.assert_allclose(np.linalg.norm(normal[index >= 0], axis=1), 1, atol=1e-4)


def test_pixel_rays_pass_through_pixel_centres():
    K = np.array([[120.0, 0, 30.5], [0, 110, 20.25], [0, 0, 1]])
    rays = pixel_rays(K, 64, 48)
    uvw = rays[7, 11] @ K.T
    np.testing.assert_allclose(uvw[:2] / uvw[2], [11, 7], atol=1e-4)
