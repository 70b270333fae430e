"""Dialogs of the desktop app: skeleton choice, job settings (NRSfM, training), export."""
