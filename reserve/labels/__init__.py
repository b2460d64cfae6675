"""QR labels and the scan page (标签与扫码)."""
