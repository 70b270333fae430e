"""NRSfMResult: what the teacher produces, saved as ``nrsfm.npz`` (DESIGN.md §4, §8).

Invariant (what the distilling loss of paper 000 Eq. 6–14 relies on), for every sample i::

    D_i = dictionary.reshape(J, 3, K1)            # atom k is D_i[:, :, k], canonical frame
    S_i = (dictionary @ codes[i]).reshape(J, 3)   # canonical shape, normalised units
    shapes_normalized[i] == S_i @ rotations[i].T  # camera frame (X_cam = R @ X)

i.e. the rotated dictionary ``B`` of Eq. 6 is ``R_i`` applied to every atom.
``keypoints_3d = shapes_refined * scale + (centre, 0)``: x, y in input pixels, z in the same
pixel scale relative to the reference depth. ``shapes_refined`` is ``shapes_normalized`` moved
onto the observed rays and, for articulated skeletons, given rigid bones
(:mod:`poselab.nrsfm.articulation`; ``NRSfMConfig.exact_2d`` and ``bone_lengths``); with both
off the two are equal. The whole set shares one reflection.

With ``camera_model == "perspective"`` the shape is the Euclidean shape at the reference
(centroid) depth, so x, y equal the observed 2D only up to the perspective factor
``1 + σ z`` (σ = box side / focal length; see :mod:`poselab.nrsfm.camera`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from poselab.core.atomic import atomic_savez
from poselab.core.digest import DIGEST_KEY, content_digest, load_npz_verified
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton

#: Keys every poselab 3D result file (teacher or prediction) carries, so other tools read it.
RESULT_FILE_KEYS = ("keypoints_3d", "sample_ids", "skeleton_json", "units", "frame", "kind")


@dataclass(eq=False)
class NRSfMResult:
    """A fitted teacher.

    Attributes:
        skeleton: the landmark skeleton (J joints).
        sample_ids: ``N`` sample ids of the collection it was fitted on (same order).
        keypoints_3d: ``(N, J, 3)`` float32, camera frame (x right, y down, z forward), units of
            the input 2D (pixels); x, y match the observed 2D (weak perspective; perspective: on
            its rays) unless ``exact_2d`` was off.
        shapes_normalized: ``(N, J, 3)`` float32, camera frame, normalised units (DESIGN §3):
            the network's shapes, ``S_i R_iᵀ`` (the invariant above).
        rotations: ``(N, 3, 3)`` float32 canonical → camera, ``X_cam = R @ X``, proper.
        codes: ``(N, K1)`` float32 φ1 ≥ 0, the first-layer sparse codes.
        dictionary: ``(3J, K1)`` float32 D1; row ``3j + c`` is coordinate c of joint j.
        centre: ``(N, 2)`` float32 pixels, scale: ``(N,)`` float32 pixels (DESIGN §3).
        camera_model: ``"weak_perspective"`` or ``"perspective"``.
        reflection: +1 or −1, the depth sign chosen for the whole set (never per sample):
            −1 when a fit was turned into its mirror image so that its bodies' knees bend as
            knees do (:func:`poselab.nrsfm.output_signs.oriented`; perspective fits since
            2026-12-05); the network in ``model_state`` gives the
            unturned set, and ``reconstruct`` applies it.
        loss_history: name → ``(T,)`` float32 arrays (per logged step).
        config: the NRSfMConfig as a dict.
        model_state: name → numpy arrays needed to rebuild the network (reconstruct new data).
        extra: free-form JSON-ready information (restarts, selection scores, timings);
            with the noise-aware output (``NRSfMConfig.noise_aware``) ``extra["noise_px"]`` is
            the 2D label noise σ estimated from the data alone (pixels, per coordinate) and
            ``extra["noise_model"]`` all the variances of :mod:`poselab.nrsfm.least_squares`
            (``prior_cov``: the learnt ``(3J, 3J)`` error covariance as nested lists, box
            units², or None; :mod:`poselab.nrsfm.prior_covariance`).
            ``extra["label_swaps"]`` (skeletons with left/right pairs; None without): samples
            whose left and right labels look swapped for some limbs (:mod:`poselab.nrsfm.swaps`)
            — ``samples`` (indices), ``pairs`` (each sample's swapped ``[left, right]`` joint
            pairs), ``ratio`` (its 2D error swapped over as labelled), ``count``, and
            ``corrected`` (True: their ``keypoints_3d`` come from their labels so swapped).
        keypoints_3d_std: ``(N, J)`` float32 or None: per-joint uncertainty of
            ``keypoints_3d``, same units (pixels): the square root of the trace of the joint's
            posterior covariance in the least-squares output step, i.e. the RMS 3D error the
            model expects, computed without ground truth. Unobserved (hidden) joints have no
            2D term and get larger values; it rises with the estimated label noise and with
            how badly the network fits the sample's 2D and keeps the set's bone proportions
            (:func:`poselab.nrsfm.noise_estimate.prior_scales`), so it ranks the real errors
            (held-out h36m17 S7/S8, σ = 5 px: Spearman 0.34 per sample, 0.43 per joint with
            the learnt error covariance and the output step's widened prior). A
            ranking, not a calibrated error bar: the network's errors are correlated, which
            the model does not know. None for results without the noise-aware step (older
            files).
        reprojection_error_network: ``(N,)`` float32 or None: RMS distance, pixels, between
            the observed 2D and the projection of the network's own shape
            (``shapes_normalized``) over each sample's observed landmarks.
    """

    skeleton: Skeleton
    sample_ids: list[str]
    keypoints_3d: np.ndarray
    shapes_normalized: np.ndarray
    rotations: np.ndarray
    codes: np.ndarray
    dictionary: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    camera_model: str = "weak_perspective"
    reflection: int = 1
    loss_history: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    model_state: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    keypoints_3d_std: np.ndarray | None = None
    reprojection_error_network: np.ndarray | None = None

    @property
    def num_samples(self) -> int:
        return self.keypoints_3d.shape[0]

    @property
    def shapes_refined(self) -> np.ndarray:
        """``(N, J, 3)`` float32 output shapes in normalised units, camera frame:
        ``(keypoints_3d − (centre, 0)) / scale`` (on the rays, rigid bones when asked)."""
        kp = np.asarray(self.keypoints_3d, np.float32).copy()
        kp[..., :2] -= np.asarray(self.centre, np.float32)[:, None, :]
        return kp / np.asarray(self.scale, np.float32)[:, None, None]

    def save(self, path: str | Path) -> None:
        """Write ``nrsfm.npz`` atomically (loadable with plain ``numpy.load``)."""
        arrays = {
            "kind": np.array("nrsfm"),
            "keypoints_3d": np.asarray(self.keypoints_3d, np.float32),
            "sample_ids": np.asarray(self.sample_ids, dtype=str),
            "skeleton_json": np.array(json.dumps(self.skeleton.to_dict())),
            "units": np.array("px"),
            "frame": np.array("camera"),
            "shapes_normalized": np.asarray(self.shapes_normalized, np.float32),
            "rotations": np.asarray(self.rotations, np.float32),
            "codes": np.asarray(self.codes, np.float32),
            "dictionary": np.asarray(self.dictionary, np.float32),
            "centre": np.asarray(self.centre, np.float32),
            "scale": np.asarray(self.scale, np.float32),
            "camera_model": np.array(self.camera_model),
            "reflection": np.array(int(self.reflection)),
            "config_json": np.array(json.dumps(self.config)),
            "extra_json": np.array(json.dumps(self.extra)),
        }
        if self.keypoints_3d_std is not None:
            arrays["keypoints_3d_std"] = np.asarray(self.keypoints_3d_std, np.float32)
        if self.reprojection_error_network is not None:
            arrays["reprojection_error_network"] = np.asarray(self.reprojection_error_network,
                                                              np.float32)
        for k, v in self.loss_history.items():
            arrays[f"loss/{k}"] = np.asarray(v, np.float32)
        for k, v in self.model_state.items():
            arrays[f"state/{k}"] = np.asarray(v)
        arrays[DIGEST_KEY] = np.array(content_digest(arrays))  # checked by load()
        atomic_savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> NRSfMResult:
        """Read a file written by :meth:`save`.

        Raises:
            DataError: not a poselab NRSfM result (names the file and the missing key), a
                damaged file (content hash, :mod:`poselab.core.digest`), non-finite 3D.
        """
        path = Path(path)
        try:
            z = load_npz_verified(path, finite=("keypoints_3d", "dictionary", "rotations"))
        except (OSError, ValueError) as err:
            raise DataError(path, f"cannot read NRSfM result ({err})") from None
        with z:
            if "kind" not in z.files or str(z["kind"]) != "nrsfm":
                raise DataError(path, "not a poselab NRSfM result (no kind='nrsfm')")
            try:
                return cls(
                    skeleton=Skeleton.from_dict(json.loads(str(z["skeleton_json"])), path),
                    sample_ids=[str(s) for s in z["sample_ids"]],
                    keypoints_3d=z["keypoints_3d"],
                    shapes_normalized=z["shapes_normalized"],
                    rotations=z["rotations"],
                    codes=z["codes"],
                    dictionary=z["dictionary"],
                    centre=z["centre"],
                    scale=z["scale"],
                    camera_model=str(z["camera_model"]),
                    reflection=int(z["reflection"]),
                    loss_history={k[5:]: z[k] for k in z.files if k.startswith("loss/")},
                    config=json.loads(str(z["config_json"])),
                    model_state={k[6:]: z[k] for k in z.files if k.startswith("state/")},
                    extra=json.loads(str(z["extra_json"])),
                    keypoints_3d_std=(z["keypoints_3d_std"] if "keypoints_3d_std" in z.files
                                      else None),
                    reprojection_error_network=(z["reprojection_error_network"]
                                                if "reprojection_error_network" in z.files
                                                else None),
                )
            except KeyError as err:
                raise DataError(path, f"NRSfM result lacks {err}") from None
