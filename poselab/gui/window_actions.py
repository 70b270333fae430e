"""The main window's actions, menus and toolbar (mixed into
:class:`~poselab.gui.main_window.MainWindow`): every command a user can give, with its shortcut
and tip, and when each is enabled. The slots live with their concept (opening, browsing,
export, predict, jobs, tools).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar


class ActionsMixin:
    """Builds the actions, menus and toolbar; :meth:`_update_actions` enables them."""

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", self._on_open_triggered, keys.Open,
                                        "Open a folder or an annotation file")
        self.open_folder_action = self._action("Open &folder…", self._on_open_folder_triggered,
                                               "Ctrl+Shift+O")
        self.reconstruct_action = self._action(
            "Reconstruct (NRSfM)", self._on_reconstruct_triggered, "Ctrl+R",
            "Fit the Deep NRSfM teacher on all samples")
        self.train_action = self._action("Train student", self._on_train_triggered, "Ctrl+T",
                                         "Distil the teacher into an image → 3D student")
        self.cancel_action = self._action("Cancel job", self.job.cancel, "Esc")
        self.predict_action = self._action(
            "&Predict 3D…", self._on_predict_triggered, "Ctrl+P",
            "Run a trained student on new images, a video or a 2D file; the result opens as "
            "new data")
        self.export_action = self._action("&Export 3D…", self._on_export_triggered, "Ctrl+E")
        self.export_2d_action = self._action(
            "Export &landmarks (2D)…", self._on_export_2d_triggered, None,
            "Save the 2D landmarks, edits included, as SLEAP .slp or COCO keypoints JSON")
        self.quit_action = self._action("&Quit", self.close, keys.Quit)
        self.undo_action = self._action("&Undo", self._on_undo_triggered, keys.Undo)
        self.redo_action = self._action("&Redo", self._on_redo_triggered, keys.Redo)
        self.next_action = self._action("Next image", self._on_next_triggered, "Right",
                                        "Next image (→, N, Page Down)")
        self.next_action.setShortcuts([QKeySequence("Right"), QKeySequence("N"),
                                       QKeySequence("PgDown")])
        self.prev_action = self._action("Previous image", self._on_prev_triggered, "Left",
                                        "Previous image (←, P, Page Up)")
        self.prev_action.setShortcuts([QKeySequence("Left"), QKeySequence("P"),
                                       QKeySequence("PgUp")])
        self.toggle_vis_action = self._action("Toggle visibility", self._on_toggle_vis_triggered,
                                              "V", "Selected landmark: visible ↔ occluded")
        self.remove_action = self._action("Remove landmark", self._on_remove_triggered, "Delete",
                                          "Selected landmark: unlabelled")
        self.label_mode_action = self._action(
            "&Label mode", self._on_label_mode_toggled, "L",
            "Clicks on the image place the next unlabelled landmark (off: clicks only select)")
        self.label_mode_action.setCheckable(True)
        self.exclude_action = self._action(
            "E&xclude selected samples", self._on_exclude_triggered, "Ctrl+Shift+X",
            "Leave the selected samples out of Reconstruct and Train (kept in the file)")
        self.include_action = self._action(
            "&Include selected samples", self._on_include_triggered, "Ctrl+Shift+I",
            "Use the selected samples again in Reconstruct and Train")
        self.known_length_action = self._action(
            "&Known length…", self._on_known_length_triggered, "Ctrl+K",
            "State one length in mm (a bone or the subject's height): 3D shown and exported in mm")
        self.skeleton_action = self._action(
            "&Skeleton…", self._on_skeleton_triggered, None,
            "Edit the skeleton: bones, left/right pairs, colours; save as skeleton JSON")
        self.about_action = self._action("&About poselab", self._on_about_triggered)
        self.shortcuts_action = self._action("&Keyboard and mouse", self._on_shortcuts_triggered,
                                             keys.HelpContents)
        self.docs_action = self._action("&Documentation (README)", self._on_docs_triggered)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addSeparator()
        file_menu.addAction(self.predict_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.export_2d_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        for a in (self.undo_action, self.redo_action, None, self.label_mode_action,
                  self.toggle_vis_action, self.remove_action, None, self.skeleton_action):
            if a is None:
                edit_menu.addSeparator()
            else:
                edit_menu.addAction(a)
        samples_menu = self.menuBar().addMenu("&Samples")
        samples_menu.addAction(self.exclude_action)
        samples_menu.addAction(self.include_action)
        samples_menu.addSeparator()
        samples_menu.addAction(self.known_length_action)
        go_menu = self.menuBar().addMenu("&Go")
        go_menu.addAction(self.prev_action)
        go_menu.addAction(self.next_action)
        run_menu = self.menuBar().addMenu("&Run")
        for a in (self.reconstruct_action, self.train_action, self.cancel_action):
            run_menu.addAction(a)
        view_menu = self.menuBar().addMenu("&View")
        for name in ("front", "side", "top"):
            view_menu.addAction(self._action(f"3D {name} view",
                                             getattr(self.view3d, f"_on_{name}_clicked")))
        view_menu.addSeparator()
        for dock in (self.samples_dock, self.jobs_dock):  # a closed dock comes back from here
            view_menu.addAction(dock.toggleViewAction())
        self.view_menu = view_menu
        help_menu = self.menuBar().addMenu("&Help")
        for a in (self.shortcuts_action, self.docs_action, None, self.about_action):
            if a is None:
                help_menu.addSeparator()
            else:
                help_menu.addAction(a)
        self.help_menu = help_menu
        self._rebuild_recent_menu()

        bar = QToolBar("Main")
        bar.setObjectName("main_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.open_action, None, self.undo_action, self.redo_action, None,
                  self.prev_action, self.next_action, self.label_mode_action, None,
                  self.reconstruct_action,
                  self.train_action, self.cancel_action, None, self.export_action):
            if a is None:
                bar.addSeparator()
            else:
                bar.addAction(a)
        self.addToolBar(bar)

    def _update_actions(self) -> None:
        has = self.doc is not None
        busy = self.job.running
        self.reconstruct_action.setEnabled(has and not busy)
        self.train_action.setEnabled(has and not busy and self.doc.teacher is not None
                                     if has else False)
        self.cancel_action.setEnabled(busy)
        self.predict_action.setEnabled(not busy)
        self.export_action.setEnabled(has and bool(self.doc.sources_3d()) if has else False)
        self.export_2d_action.setEnabled(has)
        self.undo_action.setEnabled(has and self.doc.undo_stack.canUndo() if has else False)
        self.redo_action.setEnabled(has and self.doc.undo_stack.canRedo() if has else False)
        self.exclude_action.setEnabled(has and not busy)
        self.include_action.setEnabled(has and not busy)
        self.skeleton_action.setEnabled(has and not busy)
        self.known_length_action.setEnabled(has)
