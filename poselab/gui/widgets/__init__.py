"""Widgets of the main window: dataset list, image view, 3D view, plots, forms, panels."""
