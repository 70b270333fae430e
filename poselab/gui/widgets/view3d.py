"""3D view: teacher, student and ground-truth skeletons of the selected sample (vispy).

Each skeleton ``(J, 3)`` arrives in its own camera frame and units (x right, y down, z forward;
pixels for the teacher, normalised units for the student, millimetres for ground truth). For
display every skeleton is centred on the mean of its joints and scaled to unit RMS radius, so
they overlap whatever their units; the axes shown are camera axes (up = −y, depth = +z).
Display coordinates: ``(x, z, −y)`` with vispy's z up. The view starts from the side (the
depth a 2D image cannot show); buttons switch to front (the camera's view), side and top, and
the mouse rotates (drag) and zooms (wheel).

vispy (OpenGL) is imported when the view is first shown. Without an OpenGL context (e.g.
``QT_QPA_PLATFORM=offscreen``, or ``POSELAB_NO_GL=1``) the view shows a placeholder text
instead of crashing.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

#: Colour of each 3D source (RGB 0-255).
SOURCE_COLOURS = {"teacher": (230, 120, 20), "student": (30, 110, 220),
                  "ground truth": (40, 40, 40)}
#: (elevation, azimuth) of the named views (vispy TurntableCamera, z up).
VIEWS = {"front": (0.0, 0.0), "side": (0.0, 90.0), "top": (89.0, 0.0)}

#: Uncertainty (fraction of the sample's mean bone length) drawn fully red; 0 is green.
UNCERTAINTY_RED = 0.5

_GL_OK: bool | None = None


def uncertainty_colours(rel: np.ndarray) -> np.ndarray:
    """``(J,)`` per-joint uncertainty (fraction of bone length) → ``(J, 4)`` RGBA in [0, 1]:
    green (certain) through yellow to red at :data:`UNCERTAINTY_RED`; grey where unknown."""
    t = np.clip(np.nan_to_num(np.asarray(rel, float), nan=-1.0) / UNCERTAINTY_RED, -1.0, 1.0)
    out = np.empty((len(t), 4))
    out[:, 0] = np.clip(2 * t, 0, 1)
    out[:, 1] = np.clip(2 - 2 * t, 0, 1) * 0.8
    out[:, 2] = 0.1
    out[:, 3] = 1.0
    out[t < 0] = (0.6, 0.6, 0.6, 1.0)
    return out


def gl_available() -> bool:
    """True when Qt can create an OpenGL context here (cached; ``POSELAB_NO_GL=1`` → False)."""
    global _GL_OK
    if os.environ.get("POSELAB_NO_GL"):
        return False
    if _GL_OK is None:
        from PySide6.QtGui import QGuiApplication, QOpenGLContext

        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            _GL_OK = False
        else:
            ctx = QOpenGLContext()
            _GL_OK = bool(ctx.create())
            del ctx
    return _GL_OK


def display_coords(points: np.ndarray) -> np.ndarray:
    """Camera-frame ``(J, 3)`` → display ``(J, 3)``: centred, unit RMS radius, ``(x, z, −y)``."""
    p = np.asarray(points, np.float64)
    finite = np.isfinite(p).all(1)
    if not finite.any():
        return np.zeros_like(p, np.float32)
    c = p[finite].mean(0)
    q = p - c
    r = np.sqrt((q[finite] ** 2).sum(1).mean()) or 1.0
    q = q / r
    return np.stack([q[:, 0], q[:, 2], -q[:, 1]], 1).astype(np.float32)


class View3DWidget(QWidget):
    """Skeletons in 3D with a legend and front/side/top buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = {}
        row = QHBoxLayout()
        row.addWidget(self.legend, 1)
        self.uncertainty_box = QCheckBox("Colour by uncertainty")
        self.uncertainty_box.setToolTip(
            "Teacher joints from green (certain) to red (uncertain by half a bone length or "
            "more), from the teacher's per-joint uncertainty")
        self.uncertainty_box.toggled.connect(self._on_uncertainty_toggled)
        row.addWidget(self.uncertainty_box)
        for name in VIEWS:
            b = QPushButton(name.capitalize())
            b.setObjectName(f"view_{name}")
            b.clicked.connect(getattr(self, f"_on_{name}_clicked"))
            row.addWidget(b)
            self.buttons[name] = b
        self.placeholder = QLabel("3D view: opens when there is something to show")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.body = QVBoxLayout()
        self.body.addWidget(self.placeholder, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        self.units_label = QLabel("")
        self.units_label.setObjectName("units3d")
        self.units_label.setWordWrap(True)  # a long line would widen the panel
        layout.addWidget(self.units_label)
        layout.addLayout(self.body, 1)
        self.canvas = None
        self.view = None
        self._visuals = []
        self._skeleton = None
        self._sources: dict[str, np.ndarray] = {}
        self.gl_failed_reason = ""
        self._spin_timer = QTimer(self)
        self._spin_timer.setSingleShot(True)  # re-armed after each frame is drawn
        self._spin_timer.timeout.connect(self._on_spin_timer_timeout)
        self._spin_step = 0.0
        self._spin_interval = 16
        #: the named view the camera was last set to ("side" when a data set opens)
        self.current_view = "side"
        self.joint_uncertainty: np.ndarray | None = None

    # ------------------------------------------------------------------ API
    @property
    def has_canvas(self) -> bool:
        return self.canvas is not None

    def ensure_canvas(self) -> bool:
        """Create the vispy canvas if OpenGL works; returns whether there is one."""
        if self.canvas is not None:
            return True
        if self.gl_failed_reason:
            return False
        if not gl_available():
            self.gl_failed_reason = "no OpenGL context on this display"
            self.placeholder.setText(f"3D view unavailable: {self.gl_failed_reason}.\n"
                                     "Metrics and export still work.")
            return False
        try:
            import vispy

            vispy.use("pyside6")
            from vispy import scene

            canvas = scene.SceneCanvas(keys=None, bgcolor="white", parent=self)
            view = canvas.central_widget.add_view()
            elev, azim = VIEWS[self.current_view]
            view.camera = scene.TurntableCamera(fov=0.0, elevation=elev, azimuth=azim,
                                                scale_factor=3.2, center=(0, 0, 0))
            self._scene = scene
            self.axis = scene.visuals.XYZAxis(parent=view.scene)
            self.axis.transform = scene.transforms.STTransform(scale=(0.3, 0.3, 0.3),
                                                               translate=(-1.3, -1.3, -1.3))
        except Exception as err:  # noqa: BLE001 - any GL/driver failure → placeholder
            log.warning("3D view disabled: %s", err)
            self.gl_failed_reason = str(err)
            self.placeholder.setText(f"3D view unavailable: {err}")
            return False
        self.canvas, self.view = canvas, view
        canvas.events.draw.connect(self._on_canvas_drawn)
        self.body.removeWidget(self.placeholder)
        self.placeholder.hide()
        # A QOpenGLWidget turns on OpenGL compositing of its whole top-level window: every
        # frame of the 3D view re-composed the 1500×900 main window, which costs tens of ms
        # with software GL (llvmpipe). As a native child window the canvas is drawn and
        # swapped on its own: the spinning view went from 17 to 31 fps and the event loop's
        # median gap from 51 to 15 ms on the 2-core machine under load (scripts/bench_gui.py).
        canvas.native.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.body.addWidget(canvas.native, 1)
        self._redraw()
        return True

    def show_skeletons(self, skeleton, sources: dict[str, np.ndarray],
                       observed: np.ndarray | None = None) -> None:
        """Show ``sources`` (name → ``(J, 3)`` camera frame) for one sample.

        Args:
            skeleton: the :class:`~poselab.core.skeleton.Skeleton` (bones).
            sources: e.g. ``{"teacher": (J, 3), "student": (J, 3), "ground truth": (J, 3)}``.
            observed: unused joints are still drawn; kept for future masking.
        """
        self._skeleton = skeleton
        self._sources = {k: np.asarray(v, np.float32) for k, v in sources.items()
                         if v is not None}
        self._update_legend()
        if self._sources and self.isVisible():
            self.ensure_canvas()
        elif not self._sources and self.canvas is None and not self.gl_failed_reason:
            self.placeholder.setText("No 3D yet: press Reconstruct (NRSfM).")
        self._redraw()

    @property
    def poses(self) -> dict[str, np.ndarray]:
        """The poses shown now: source name → ``(J, 3)`` float32, camera frame (a copy)."""
        return {k: v.copy() for k, v in self._sources.items()}

    def set_joint_uncertainty(self, rel: np.ndarray | None) -> None:
        """The teacher's per-joint uncertainty ``(J,)`` (fraction of the sample's mean bone
        length) of the shown sample, or None; drawn when "Colour by uncertainty" is on."""
        self.joint_uncertainty = None if rel is None else np.asarray(rel, float)
        self.uncertainty_box.setEnabled(bool(rel is not None and np.isfinite(rel).any()))

    def set_units_text(self, text: str) -> None:
        """The line under the legend saying which units the 3D is in."""
        self.units_label.setText(f"<small>{text}; drawn at one size</small>")

    def teacher_colours(self) -> np.ndarray | None:
        """``(J, 4)`` RGBA of the teacher's joints when coloured by uncertainty, else None."""
        if not self.uncertainty_box.isChecked() or self.joint_uncertainty is None:
            return None
        return uncertainty_colours(self.joint_uncertainty)

    @Slot(bool)
    def _on_uncertainty_toggled(self, _on: bool) -> None:
        self._redraw()

    def set_view(self, name: str) -> None:
        """Switch the camera to ``"front"``, ``"side"`` or ``"top"``."""
        elev, azim = VIEWS[name]
        self.current_view = name
        if self.view is not None:
            cam = self.view.camera
            cam.elevation, cam.azimuth = elev, azim
            cam.scale_factor = self._fit_scale()
            cam.center = (0, 0, 0)
            self.canvas.update()

    def spin(self, degrees_per_frame: float, fps: float = 60.0) -> None:
        """Rotate the camera continuously (0 stops); for demos and the GUI benchmark.

        Frames are paced: the next rotation is scheduled one interval after the previous frame
        was *drawn*, so a slow (software) renderer never queues frames back to back and the
        event loop keeps at least one interval between them.
        """
        self._spin_step = degrees_per_frame
        self._spin_interval = int(1000 / fps)
        if degrees_per_frame:
            self._spin_timer.start(self._spin_interval)
        else:
            self._spin_timer.stop()

    def render_image(self) -> np.ndarray | None:
        """``(H, W, 4)`` uint8 RGBA of the canvas, or None without one."""
        return None if self.canvas is None else self.canvas.render()

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_front_clicked(self) -> None:
        self.set_view("front")

    @Slot()
    def _on_side_clicked(self) -> None:
        self.set_view("side")

    @Slot()
    def _on_top_clicked(self) -> None:
        self.set_view("top")

    @Slot()
    def _on_canvas_drawn(self, _event) -> None:
        if self._spin_step and not self._spin_timer.isActive():
            self._spin_timer.start(self._spin_interval)

    def _on_spin_timer_timeout(self) -> None:
        if self.view is not None:
            self.view.camera.azimuth = (self.view.camera.azimuth + self._spin_step) % 360
            self.canvas.update()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._sources:
            QTimer.singleShot(0, self._on_shown_later)

    @Slot()
    def _on_shown_later(self) -> None:
        if self.ensure_canvas():
            self._redraw()

    # ------------------------------------------------------------------ drawing
    def _fit_scale(self) -> float:
        """Camera scale that fits every displayed skeleton whatever the view direction."""
        ext = [np.abs(display_coords(p)).max() for p in self._sources.values() if p.size]
        ext = [e for e in ext if np.isfinite(e)]
        return 2.3 * max(ext) if ext else 3.2

    def _update_legend(self) -> None:
        parts = []
        for name in SOURCE_COLOURS:
            if name in self._sources:
                r, g, b = SOURCE_COLOURS[name]
                parts.append(f"<span style='color:rgb({r},{g},{b});font-weight:bold'>"
                             f"■ {name}</span>")
        self.legend.setText("&nbsp;&nbsp;".join(parts) if parts else "no 3D for this sample")

    def _redraw(self) -> None:
        if self.view is None:
            return
        for v in self._visuals:
            v.parent = None
        self._visuals = []
        sk = self._skeleton
        if sk is None:
            self.canvas.update()
            return
        scene = self._scene
        bones = np.asarray(sk.bones_array, np.int32).reshape(-1, 2)
        self.view.camera.scale_factor = self._fit_scale()
        # one Line and one Markers visual for every source together: each visual costs Python
        # work per frame (and the GIL, which a training worker holds much of the time)
        pos, colours, edges = [], [], []
        for name, pts in self._sources.items():
            if pts.shape != (sk.num_joints, 3):
                continue
            colour = np.array(SOURCE_COLOURS.get(name, (120, 120, 120)) + (255,)) / 255.0
            edges.append(bones + sum(len(p) for p in pos))
            pos.append(display_coords(pts))
            per_joint = self.teacher_colours() if name == "teacher" else None
            if per_joint is not None and len(per_joint) == sk.num_joints:
                colours.append(per_joint)
            else:
                colours.append(np.repeat(colour[None], sk.num_joints, 0))
        if pos:
            d, c = np.concatenate(pos), np.concatenate(colours).astype(np.float32)
            line = scene.visuals.Line(pos=d, connect=np.concatenate(edges), color=c, width=3,
                                      parent=self.view.scene)
            markers = scene.visuals.Markers(parent=self.view.scene)
            markers.set_data(d, face_color=c, edge_color=c, size=7)
            self._visuals += [line, markers]
        self.canvas.update()
