"""Values a request carries that its audit event must not keep as typed.

``/mo audit --reference REF`` names one person's case: the audit log is kept for years after the case rows are
purged, and the disclosures it is asked about hold references only as HMACs (:mod:`bot.disclosures`), so the
request's own audit event holds the same HMAC instead of the reference (``--reference hmac:…``): a DPO can still
tell which requests asked about the same reference, and match them to the disclosures. A request that never reached
the handler (a typo elsewhere in it) is audited with the value withheld.
"""

from __future__ import annotations

import re

# The flag as the parser reads it (any case, `--reference REF` or `--reference=REF`) and its value: one word, or a
# quoted run (an unclosed quote runs to the end, as the tokenizer would refuse it anyway).
_REFERENCE = re.compile(r"""(?i)(--reference)(=|[ \t\r\n]+)("[^"]*"?|'[^']*'?|[^ \t\r\n]+)""")
WITHHELD = "<withheld>"


def withhold_reference(text: str, replacement: str = WITHHELD) -> str:
    """``text`` with the value of every ``--reference`` replaced by ``replacement``."""
    if "reference" not in text.lower():
        return text
    return _REFERENCE.sub(lambda m: f"{m[1]}{m[2]}{replacement}", text)
