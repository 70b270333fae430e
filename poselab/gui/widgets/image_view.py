"""Image view: the sample's image with its landmarks and bones, and landmark editing.

pyqtgraph draws the image (y down, pixels), the bones and the landmarks coloured by
``Skeleton.sides`` (left / right / centre), or one colour per landmark when the skeleton pairs
no joints (:mod:`poselab.gui.colours`). Occluded landmarks (visibility 1) are hollow; the
hovered landmark shows its name. Mouse, handled by :class:`LandmarkViewBox`:

- drag a landmark: move it (one undoable edit on release);
- left click away from landmarks: request to place the next unlabelled landmark (the window
  places it only in label mode);
- left click on a landmark: select it; right click on a landmark: toggle visible/occluded;
- elsewhere the usual pan (drag) and zoom (wheel).

The widget only *requests* edits through signals; the main window turns them into commands on
the :class:`~poselab.gui.document.Document`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from poselab.gui.colours import SIDE_COLOURS, bone_colours, joint_colours

log = logging.getLogger(__name__)

PICK_RADIUS_PX = 12.0


def load_image(path: Path | None) -> np.ndarray | None:
    """Read an image as ``(H, W, 3)`` uint8 RGB (EXIF orientation applied, through
    :func:`poselab.io.images.read_image`), or None when missing/unreadable."""
    if path is None:
        return None
    from poselab.core.errors import DataError
    from poselab.io.images import read_image

    try:
        return read_image(path)
    except DataError:
        return None


class LandmarkViewBox(pg.ViewBox):
    """A ViewBox whose mouse events pick, drag and place landmarks before panning."""

    def __init__(self, view: ImageViewWidget) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self._view = view
        self._drag_joint: int | None = None

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph API
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mouseDragEvent(ev, axis)
        if ev.isStart():
            self._drag_joint = self._view.joint_at(ev.buttonDownScenePos())
        if self._drag_joint is None:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        self._view.preview_move(self._drag_joint, (p.x(), p.y()))
        if ev.isFinish():
            j, self._drag_joint = self._drag_joint, None
            self._view.landmark_moved.emit(j, float(p.x()), float(p.y()))

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph API
        j = self._view.joint_at(ev.scenePos())
        p = self.mapSceneToView(ev.scenePos())
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            if j is not None:
                self._view.select_joint(j)
                self._view.visibility_toggled.emit(j)
            return
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if j is not None:
                self._view.select_joint(j)
            else:
                self._view.place_requested.emit(float(p.x()), float(p.y()))
            return
        super().mouseClickEvent(ev)


class ImageViewWidget(QWidget):
    """Shows one sample; emits edit requests.

    Signals:
        landmark_moved(int, float, float): joint j dragged to (x, y) pixels.
        place_requested(float, float): click at (x, y) pixels away from landmarks.
        visibility_toggled(int): right click on joint j.
        joint_selected(int): joint j selected (click).
    """

    landmark_moved = Signal(int, float, float)
    place_requested = Signal(float, float)
    visibility_toggled = Signal(int)
    joint_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsView(background=(30, 30, 30))
        self.viewbox = LandmarkViewBox(self)
        self.graphics.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        self.bone_items: dict[tuple, pg.PlotCurveItem] = {}  # one per colour, made on demand
        self.side_colours = dict(SIDE_COLOURS)
        self.scatter = pg.ScatterPlotItem(size=11, pxMode=True)
        self.viewbox.addItem(self.scatter)
        self.selected_ring = pg.ScatterPlotItem(size=20, pxMode=True, brush=None,
                                                pen=pg.mkPen("w", width=2))
        self.viewbox.addItem(self.selected_ring)
        self.name_label = pg.TextItem("", color=(255, 255, 255), fill=(0, 0, 0, 160),
                                      anchor=(0, 1))
        self.name_label.setZValue(10)
        self.viewbox.addItem(self.name_label)
        self.name_label.hide()
        self.caption = QLabel("No data")
        self.caption.setObjectName("imageCaption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self.graphics.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

        self.skeleton = None
        self.keypoints = np.zeros((0, 2), np.float32)
        self.visibility = np.zeros((0,), np.uint8)
        self.selected_joint: int | None = None
        self._image_path: Path | None = None
        self._sample_key: object = None
        self._image_shape: tuple[int, int] | None = None

    # ------------------------------------------------------------------ content
    def show_sample(self, skeleton, keypoints: np.ndarray, visibility: np.ndarray,
                    image_path: Path | None, caption: str = "",
                    image_size: tuple[int, int] | None = None, key: object = None) -> None:
        """Display one sample.

        Args:
            skeleton: the collection's :class:`~poselab.core.skeleton.Skeleton`.
            keypoints: ``(J, 2)`` float32 pixels.
            visibility: ``(J,)`` uint8 COCO visibility.
            image_path: the image file, or None (landmarks on a blank canvas).
            caption: text above the view.
            image_size: ``(width, height)`` pixels when known (used without an image).
            key: identifies the sample; the view is re-framed only when it changes (so an
                edit does not move the view under the mouse).
        """
        self.skeleton = skeleton
        self.keypoints = np.asarray(keypoints, np.float32).copy()
        self.visibility = np.asarray(visibility, np.uint8).copy()
        self.caption.setText(caption)
        if image_path != self._image_path or image_path is None:
            self._image_path = image_path
            img = load_image(image_path)
            if img is not None:
                self.image_item.setImage(img, autoLevels=False, levels=(0, 255))
                self._image_shape = img.shape[:2]
                self.image_item.show()
            else:
                self.image_item.hide()
                self._image_shape = None
                if image_size is not None:
                    self._image_shape = (int(image_size[1]), int(image_size[0]))
        if key is None or key != self._sample_key:
            self._sample_key = key
            self._fit_view()
        if self.selected_joint is not None and self.selected_joint >= skeleton.num_joints:
            self.selected_joint = None
        self._redraw()

    def clear(self) -> None:
        self.skeleton = None
        self.keypoints = np.zeros((0, 2), np.float32)
        self.visibility = np.zeros((0,), np.uint8)
        self.image_item.clear()
        self._image_path = None
        self._sample_key = None
        self.caption.setText("No data")
        self._redraw()

    def _fit_view(self) -> None:
        """Frame the landmarks with a wide margin (a face in a big photo fills the view), or
        the whole image when fewer than two landmarks are labelled."""
        obs = self.visibility > 0 if self.visibility.size else np.zeros(0, bool)
        if obs.sum() >= 2:
            pts = self.keypoints[obs]
            lo, hi = pts.min(0), pts.max(0)
            side = max(float((hi - lo).max()), 32.0)
            pad = 0.6 * side
            x0, y0 = lo - pad
            x1, y1 = hi + pad
            if self._image_shape is not None:
                h, w = self._image_shape
                x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            self.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        elif self._image_shape is not None:
            h, w = self._image_shape
            self.viewbox.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def preview_move(self, j: int, xy: tuple[float, float]) -> None:
        """Draw landmark ``j`` at ``xy`` during a drag (the edit itself comes on release)."""
        self.keypoints[j] = xy
        if self.visibility[j] == 0:
            self.visibility[j] = 2
        self._redraw()

    def select_joint(self, j: int | None) -> None:
        self.selected_joint = j
        if j is not None:
            self.joint_selected.emit(j)
        self._redraw()

    # ------------------------------------------------------------------ picking
    def joint_at(self, scene_pos: QPointF) -> int | None:
        """The labelled joint within :data:`PICK_RADIUS_PX` screen pixels of ``scene_pos``."""
        if self.skeleton is None or not self.visibility.size:
            return None
        best, best_d = None, PICK_RADIUS_PX
        for j in np.flatnonzero(self.visibility > 0):
            sp = self.viewbox.mapViewToScene(QPointF(*map(float, self.keypoints[j])))
            d = float(np.hypot(sp.x() - scene_pos.x(), sp.y() - scene_pos.y()))
            if d <= best_d:
                best, best_d = int(j), d
        return best

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        j = self.joint_at(scene_pos)
        if j is None:
            self.name_label.hide()
            return
        self.name_label.setText(self.skeleton.joint_names[j])
        self.name_label.setPos(*map(float, self.keypoints[j]))
        self.name_label.show()

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        sk = self.skeleton
        if sk is None:
            self.scatter.clear()
            self.selected_ring.clear()
            for item in self.bone_items.values():
                item.clear()
            return
        obs = self.visibility > 0
        colours = joint_colours(sk, self.side_colours)
        self.joint_colours = colours
        segs_by_colour: dict[tuple, list] = {}
        for (a, b), colour in zip(sk.bones, bone_colours(sk, self.side_colours), strict=True):
            if obs[a] and obs[b]:
                segs_by_colour.setdefault(tuple(colour), []).append((a, b))
        for colour in segs_by_colour:
            if colour not in self.bone_items:
                item = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(colour, width=2))
                self.viewbox.addItem(item)
                self.bone_items[colour] = item
        for colour, item in self.bone_items.items():
            segs = segs_by_colour.get(colour)
            if segs:
                pts = self.keypoints[np.asarray(segs).ravel()]
                item.setData(pts[:, 0], pts[:, 1])
            else:
                item.clear()
        spots = []
        for j in np.flatnonzero(obs):
            colour = colours[j]
            occluded = self.visibility[j] == 1
            spots.append({
                "pos": tuple(map(float, self.keypoints[j])),
                "brush": pg.mkBrush(0, 0, 0, 0) if occluded else pg.mkBrush(*colour),
                "pen": pg.mkPen(colour, width=2) if occluded else pg.mkPen("k", width=1),
                "data": int(j),
            })
        self.scatter.setData(spots)
        j = self.selected_joint
        if j is not None and j < len(obs) and obs[j]:
            self.selected_ring.setData([float(self.keypoints[j, 0])],
                                       [float(self.keypoints[j, 1])])
        else:
            self.selected_ring.clear()
