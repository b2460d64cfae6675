"""Form pieces every feature's forms share (the form-side twin of ``templating.py``)."""


def optional_int(value):
    """Coerce a select's value to an id; the empty choice ("", or "None" as WTForms renders a
    missing value) means none."""
    return int(value) if value not in (None, "", "None") else None
