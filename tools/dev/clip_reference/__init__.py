"""Reference (ground-truth) implementations used to generate test fixtures.

Only tools/dev/generate_tiny_clip.py imports this package; it is not shipped in the
npm package. Keep it dependency-light: Python stdlib + `regex` (+ numpy for
`tokenize`).
"""

from .simple_tokenizer import SimpleTokenizer, bytes_to_unicode  # noqa: F401
