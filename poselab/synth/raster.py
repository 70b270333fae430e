"""Ray casting of round cones (tapered capsules) from a pinhole camera at the origin.

A *round cone* is the convex hull of two spheres (centre ``a``, radius ``ra``; centre ``b``,
radius ``rb``); a capsule is the case ``ra == rb`` and a sphere the case ``a == b``. Every body
part of the mannequin is one of them, so one closed-form intersection gives exact depth and
surface normals for the z-buffer and the shading.

The intersection is Inigo Quilez's analytic round-cone ray intersection
(https://iquilezles.org/articles/intersectors/, "Round cone"): the ray ``o + t·d`` (``|d| = 1``)
meets the cone body where the quadratic ``k2 t² + 2 k1 t + k0 = 0`` has its smaller root with
the axial coordinate ``y = m1 − ra·rr + t·m2`` inside ``(0, |b − a|² − rr²)``; otherwise it meets
one of the two end spheres (``t = −(o−c)·d − sqrt(((o−c)·d)² − |o−c|² + r²)``).

Camera frame throughout: x right, y down, z forward; the camera centre is the origin, so ray
origins are 0 and a hit at distance ``t`` along unit direction ``d`` has depth ``z = t·d_z``.
"""

from __future__ import annotations

import numpy as np

_BIG = np.float32(np.inf)


def intersect_round_cone(rd: np.ndarray, a: np.ndarray, b: np.ndarray, ra: float,
                         rb: float) -> np.ndarray:
    """Ray distances of the first hit of rays from the origin on one round cone.

    Args:
        rd: ``(M, 3)`` float32 unit ray directions, camera frame.
        a, b: ``(3,)`` end-sphere centres, camera frame (any length unit, e.g. mm).
        ra, rb: end-sphere radii, same unit.

    Returns:
        ``(M,)`` float32 distance along each ray (``inf`` where missed); see
        :func:`round_cone_normals` for the surface normals at the hits.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    ba = b - a
    rr = float(ra - rb)
    m0 = float(ba @ ba)
    m1 = -float(ba @ a)
    m5 = float(a @ a)
    m7 = float(b @ b)
    m2 = rd @ ba.astype(np.float32)
    m3 = rd @ (-a).astype(np.float32)
    m6 = rd @ (-b).astype(np.float32)
    t = np.full(rd.shape[0], _BIG, np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        d2 = m0 - rr * rr
        if d2 > 1e-9 * max(m0, 1.0):
            k2 = d2 - m2 * m2
            k1 = d2 * m3 - m1 * m2 + m2 * (rr * ra)
            k0 = d2 * m5 - m1 * m1 + 2.0 * m1 * rr * ra - m0 * ra * ra
            h = k1 * k1 - k0 * k2
            tb = (-np.sqrt(h) - k1) / k2
            y = (m1 - ra * rr) + tb * m2
            body = (h >= 0) & (y > 0) & (y < d2) & (tb > 0)
            t[body] = tb[body]
        else:
            body = np.zeros(rd.shape[0], bool)
        rest = ~body
        for m, mc, r in ((m3, m5, ra), (m6, m7, rb)):
            hc = m * m - mc + r * r
            tc = -m - np.sqrt(hc)
            cap = rest & (hc >= 0) & (tc > 0) & (tc < t)
            t[cap] = tc[cap]
    return t


def round_cone_normals(points: np.ndarray, a: np.ndarray, b: np.ndarray, ra: float,
                       rb: float) -> np.ndarray:
    """Outward unit normals ``(M, 3)`` float32 at surface points ``(M, 3)`` of a round cone.

    With ``y = (p − a)·(b − a) − ra·(ra − rb)`` and ``d2 = |b − a|² − (ra − rb)²``: on the
    cone body (``0 < y < d2``) ``n ∝ d2 (p − a) − (b − a) y`` (Quilez's round-cone normal),
    else ``n = (p − c) / r`` on the end sphere (``a`` when ``y ≤ 0``, ``b`` otherwise).
    """
    p = np.asarray(points, np.float32)
    a32 = np.asarray(a, np.float32)
    b32 = np.asarray(b, np.float32)
    ba = b32 - a32
    rr = float(ra - rb)
    d2 = float(ba @ ba) - rr * rr
    y = (p - a32) @ ba - ra * rr
    n = d2 * (p - a32) - ba * y[:, None]
    n = np.where((y <= 0)[:, None], p - a32, np.where((y >= d2)[:, None], p - b32, n))
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n.astype(np.float32)


def screen_box(a: np.ndarray, b: np.ndarray, ra: float, rb: float, K: np.ndarray,
               width: int, height: int) -> tuple[int, int, int, int] | None:
    """Conservative pixel box ``(x0, y0, x1, y1)`` (exclusive ends) that holds a round cone.

    Returns None when the part lies wholly outside the image or behind the camera. A part that
    crosses the camera plane gets the whole image.
    """
    fx, fy = float(K[0, 0]), float(K[1, 1])
    us, vs = [], []
    for c, r in ((a, ra), (b, rb)):
        z = float(c[2]) - r
        if z <= 1e-6:
            return 0, 0, width, height
        u = fx * c[0] / c[2] + K[0, 1] * c[1] / c[2] + K[0, 2]
        v = fy * c[1] / c[2] + K[1, 2]
        # A sphere of radius r at distance d spans at most r/sqrt(d²-r²) rad off its centre
        # ray; bound it generously by f·r/z' with z' the nearest depth, plus one pixel.
        ru = fx * r / z * 1.05 + 1.0
        rv = fy * r / z * 1.05 + 1.0
        us += [u - ru, u + ru]
        vs += [v - rv, v + rv]
    x0 = max(0, int(np.floor(min(us))))
    y0 = max(0, int(np.floor(min(vs))))
    x1 = min(width, int(np.ceil(max(us))) + 1)
    y1 = min(height, int(np.ceil(max(vs))) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def pixel_rays(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(H, W, 3)`` float32 unit directions of the rays through pixel centres.

    Pixel ``(i, j)`` (column, row) is centred at image coordinates ``(u, v) = (i, j)``
    (0-indexed, DESIGN.md §2), so a 3D point projecting to ``(u, v)`` lies on that ray.
    """
    Kinv = np.linalg.inv(np.asarray(K, np.float64)).astype(np.float32)
    u = np.arange(width, dtype=np.float32)
    v = np.arange(height, dtype=np.float32)[:, None]
    d = np.empty((height, width, 3), np.float32)
    for c in range(3):
        d[..., c] = Kinv[c, 0] * u + Kinv[c, 1] * v + Kinv[c, 2]
    d /= np.sqrt((d * d).sum(-1, keepdims=True))
    return d


def raycast(parts, K: np.ndarray, width: int, height: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-buffered ray cast of round cones into a ``width`` × ``height`` image.

    Args:
        parts: sequence of ``(a, b, ra, rb)`` round cones, camera frame.
        K: ``(3, 3)`` intrinsics of the image, pixels.

    Returns:
        ``depth`` ``(H, W)`` float32 (z of the nearest surface, ``inf`` where empty),
        ``normal`` ``(H, W, 3)`` float32 unit normals (0 where empty), ``index`` ``(H, W)``
        int16 index of the visible part (−1 where empty).
    """
    rays = pixel_rays(K, width, height)
    depth = np.full((height, width), _BIG, np.float32)
    index = np.full((height, width), -1, np.int16)
    for p, (a, b, ra, rb) in enumerate(parts):
        box = screen_box(a, b, ra, rb, K, width, height)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        sub = rays[y0:y1, x0:x1]
        z = intersect_round_cone(sub.reshape(-1, 3), a, b, ra, rb).reshape(sub.shape[:2])
        z *= sub[..., 2]
        zb = depth[y0:y1, x0:x1]
        win = z < zb
        zb[win] = z[win]
        index[y0:y1, x0:x1][win] = p
    normal = np.zeros((height, width, 3), np.float32)
    fg = index >= 0
    if fg.any():
        idx = index[fg]
        r = rays[fg]
        pts = r * (depth[fg] / r[:, 2])[:, None]
        nrm = np.zeros_like(pts)
        for p in np.unique(idx):
            sel = idx == p
            a, b, ra, rb = parts[p]
            nrm[sel] = round_cone_normals(pts[sel], a, b, ra, rb)
        normal[fg] = nrm
    return depth, normal, index


def intersect_round_cones(rd: np.ndarray, a: np.ndarray, b: np.ndarray, ra: np.ndarray,
                          rb: np.ndarray) -> np.ndarray:
    """Ray distances of rays from the origin to P round cones at once (same equations as
    :func:`intersect_round_cone`, broadcast over rays × parts).

    Args:
        rd: ``(M, 3)`` unit directions. a, b: ``(P, 3)`` end centres. ra, rb: ``(P,)`` radii.

    Returns:
        ``(M, P)`` float64 distance along each ray to each part (``inf`` where missed).
    """
    rd = np.asarray(rd, np.float64)
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    ra = np.asarray(ra, np.float64)
    rb = np.asarray(rb, np.float64)
    ba = b - a
    rr = ra - rb
    m0 = (ba * ba).sum(1)
    m1 = -(ba * a).sum(1)
    m5 = (a * a).sum(1)
    m7 = (b * b).sum(1)
    m2 = rd @ ba.T
    m3 = -(rd @ a.T)
    m6 = -(rd @ b.T)
    d2 = m0 - rr * rr
    with np.errstate(invalid="ignore", divide="ignore"):
        k2 = d2 - m2 * m2
        k1 = d2 * m3 - m1 * m2 + m2 * (rr * ra)
        k0 = d2 * m5 - m1 * m1 + 2.0 * m1 * rr * ra - m0 * ra * ra
        h = k1 * k1 - k0 * k2
        tb = (-np.sqrt(h) - k1) / k2
        y = (m1 - ra * rr) + tb * m2
        body = (h >= 0) & (y > 0) & (y < d2) & (tb > 0) & (d2 > 1e-9 * np.maximum(m0, 1.0))
        t = np.where(body, tb, np.inf)
        for m, mc, r in ((m3, m5, ra), (m6, m7, rb)):
            hc = m * m - mc + r * r
            tc = -m - np.sqrt(hc)
            t = np.where(~body & (hc >= 0) & (tc > 0) & (tc < t), tc, t)
    return t


def nearest_hits(rays: np.ndarray, parts, exclude: np.ndarray | None = None) -> np.ndarray:
    """Depth of the nearest part along each ray, optionally ignoring some parts per ray.

    Args:
        rays: ``(M, 3)`` unit directions.
        parts: sequence of P round cones ``(a, b, ra, rb)``.
        exclude: ``(M, P)`` bool, True where part p must be ignored for ray m.

    Returns:
        ``(M,)`` float64 depth z of the nearest hit (``inf`` where none).
    """
    a, b, ra, rb = (np.asarray(c, np.float64) for c in zip(*parts, strict=True))
    rays = np.asarray(rays, np.float64)
    z = intersect_round_cones(rays, a, b, ra, rb) * rays[:, 2:3]
    if exclude is not None:
        z = np.where(exclude, np.inf, z)
    return z.min(axis=1)


def round_cone_sdf(points: np.ndarray, a: np.ndarray, b: np.ndarray, ra: np.ndarray,
                   rb: np.ndarray) -> np.ndarray:
    """Signed distance of points to round cones (negative inside), all pairs at once.

    Exact for the round cone (Quilez, "distance functions", ``sdRoundCone`` with arbitrary end
    points); a part whose one end sphere swallows the other is treated as that sphere.

    Args:
        points: ``(M, 3)``. a, b: ``(P, 3)`` end centres. ra, rb: ``(P,)`` radii.

    Returns:
        ``(M, P)`` float64 signed distances, same unit as the inputs.
    """
    p = np.asarray(points, np.float64)[:, None, :]
    a = np.asarray(a, np.float64)[None]
    b = np.asarray(b, np.float64)[None]
    ra = np.asarray(ra, np.float64)[None]
    rb = np.asarray(rb, np.float64)[None]
    ba = b - a
    l2 = (ba * ba).sum(-1)
    rr = ra - rb
    a2 = l2 - rr * rr
    sphere = (l2 < 1e-12) | (a2 <= 0)
    big_c = np.where((ra >= rb)[..., None], a, b)
    d_sphere = np.linalg.norm(p - big_c, axis=-1) - np.maximum(ra, rb)
    with np.errstate(invalid="ignore", divide="ignore"):
        il2 = 1.0 / l2
        pa = p - a
        y = (pa * ba).sum(-1)
        z = y - l2
        x = pa * l2[..., None] - y[..., None] * ba
        x2 = (x * x).sum(-1)
        y2 = y * y * l2
        z2 = z * z * l2
        k = np.sign(rr) * rr * rr * x2
        c1 = np.sign(z) * a2 * z2 > k
        c2 = np.sign(y) * a2 * y2 < k
        d = np.where(c1, np.sqrt(x2 + z2) * il2 - rb,
                     np.where(c2, np.sqrt(x2 + y2) * il2 - ra,
                              (np.sqrt(np.maximum(x2 * a2 * il2, 0)) + y * rr) * il2 - ra))
    return np.where(sphere, d_sphere, d)
