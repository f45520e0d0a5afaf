"""Plate recognition: motion gate, plate finding and OCR, multi-frame consensus."""
