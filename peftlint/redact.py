"""Secrets never reach a report: credentials written into a URL (``HF_ENDPOINT=http://user:pass@host``,
which huggingface_hub and httpx repeat in their error messages) and the Hugging Face token itself
are replaced before a message leaves the module that met them, and again when a report is printed.
"""

from __future__ import annotations

import os
import re

# scheme://userinfo@ : everything between "//" and the last "@" before the host
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]*@")
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_TOKEN")


def redact(text: str) -> str:
    """``text`` with URL credentials replaced by ``***`` and any Hugging Face token by ``hf_***``."""
    if "@" in text:
        text = _URL_CREDENTIALS.sub(r"\1***@", text)
    for var in _TOKEN_VARS:
        value = os.environ.get(var)
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, "***")
    return _HF_TOKEN.sub("hf_***", text)
